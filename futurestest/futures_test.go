package futurestest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

func TestDoneFutures(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		f       *futures.Future[int]
		state   futures.State
		val     int
		wantErr error
	}{
		{"Resolved", futurestest.Resolved(7), futures.Finished, 7, nil},
		{"Failed", futurestest.Failed[int](errBoom), futures.Finished, 0, errBoom},
		{"Failed nil", futurestest.Failed[int](nil), futures.Finished, 0, nil},
		{"CancelledFuture", futurestest.CancelledFuture[int](), futures.Cancelled, 0, futures.ErrCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.State(); got != tt.state {
				t.Fatalf("State() = %v, want %v", got, tt.state)
			}
			select {
			case <-tt.f.Done():
			default:
				t.Fatal("Done() is not closed")
			}
			if err := tt.f.Err(); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Err() = %v, want %v", err, tt.wantErr)
			}
			v, err := tt.f.Result(context.Background())
			if v != tt.val || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Result() = %v, %v; want %v, %v", v, err, tt.val, tt.wantErr)
			}
			if tt.f.Cancel() != (tt.state == futures.Cancelled) {
				t.Fatalf("Cancel() on a %v future = %v", tt.state, !(tt.state == futures.Cancelled))
			}
		})
	}
}
