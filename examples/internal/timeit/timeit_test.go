package timeit

import (
	"bytes"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		sleep time.Duration
		err   error
		want  string
	}{
		{"quick", 0, nil, "quick => 0.0 ms\n"},
		{"download_all", 123400 * time.Microsecond, nil, "download_all => 123.4 ms\n"},
		{"failing", 2 * time.Second, boom, "failing => 2000.0 ms\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out bytes.Buffer
				calls := 0
				elapsed, err := Run(&out, tt.name, func() error {
					calls++
					time.Sleep(tt.sleep) // the bubble's clock: exact and instant
					return tt.err
				})
				if calls != 1 {
					t.Errorf("fn ran %d times, want once", calls)
				}
				if !errors.Is(err, tt.err) {
					t.Errorf("err = %v, want %v", err, tt.err)
				}
				if elapsed != tt.sleep {
					t.Errorf("elapsed = %v, want %v", elapsed, tt.sleep)
				}
				if out.String() != tt.want {
					t.Errorf("printed %q, want %q", out.String(), tt.want)
				}
			})
		})
	}
}
