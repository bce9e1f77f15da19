//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// newTestPool returns a pool with an embedded server and two local worker
// processes, closed when the test ends.
func newTestPool(t testing.TB, opts ...Option) *Pool {
	t.Helper()
	p, err := NewPool(append([]Option{LocalWorkers(2), WorkerLostAfter(2 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func TestPoolSubmit(t *testing.T) {
	p := newTestPool(t)
	ctx := testContext(t, time.Minute)
	for i := range 5 {
		v, err := futures.Submit(p, square, i).Result(ctx)
		if v != i*i || err != nil {
			t.Fatalf("square(%d) = %d, %v", i, v, err)
		}
	}
	closure := func(_ context.Context, n int) (int, error) { return n, nil }
	if _, err := futures.Submit(p, closure, 1).Result(ctx); !errors.Is(err, futures.ErrNotRegistered) {
		t.Errorf("a closure: error %v, want ErrNotRegistered", err)
	}
}

func TestPoolConformance(t *testing.T) {
	futurestest.TestExecutor(t, func(t *testing.T) futures.Executor { return newTestPool(t) })
}
