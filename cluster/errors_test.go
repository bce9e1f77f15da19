package cluster

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gofutures/futures"
)

func TestLostError(t *testing.T) {
	cause := errors.New("connection reset")
	var err error = fmt.Errorf("wrapped: %w", &LostError{ID: "c1.7", Attempts: 3, Worker: "w2", Cause: cause})
	if !errors.Is(err, futures.ErrWorkerExited) {
		t.Error("a *LostError does not match futures.ErrWorkerExited")
	}
	if !errors.Is(err, cause) {
		t.Error("a *LostError does not match its Cause")
	}
	if errors.Is(err, futures.ErrBrokenExecutor) {
		t.Error("a *LostError matches futures.ErrBrokenExecutor")
	}
	var lost *LostError
	if !errors.As(err, &lost) || lost.Attempts != 3 {
		t.Fatalf("errors.As = %v, %+v", errors.As(err, &lost), lost)
	}
	for _, want := range []string{"c1.7", "3 times", "w2", "connection reset"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if got := (&LostError{ID: "c1.8", Attempts: 1}).Error(); strings.Contains(got, "last was") || strings.HasSuffix(got, ": ") {
		t.Errorf("without Worker and Cause: %q", got)
	}
}
