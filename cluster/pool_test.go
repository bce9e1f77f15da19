//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// closeWithin is how long the end of a test waits for the calls of its
// pool: a call that never ends, by a defect the test found, fails the
// test then instead of hanging it.
const closeWithin = 30 * time.Second

// newTestPool returns a pool with an embedded server and two local worker
// processes, shut down when the test ends: Shutdown waits for its calls
// at most closeWithin, and cancels those still waiting in the pool if the
// test failed (a slot the pool never frees would keep them waiting).
func newTestPool(t testing.TB, opts ...Option) *Pool {
	t.Helper()
	p, err := NewPool(append([]Option{LocalWorkers(2), WorkerLostAfter(2 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeWithin)
		defer cancel()
		var end []futures.ShutdownOption
		if t.Failed() {
			end = append(end, futures.CancelPending())
		}
		if err := p.Shutdown(ctx, end...); err != nil {
			t.Errorf("Shutdown when the test ends: %v", err)
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

// TestShutdownInCallback: Shutdown from an OnDone callback of the pool's
// own future returns an ErrDeadlock error at once and stops the pool from
// accepting calls; Close outside then waits as usual.
func TestShutdownInCallback(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1))
	got := make(chan error, 1)
	dir := t.TempDir()
	f := futures.Submit(p, holdPID, dir) // not done before OnDone: the callback runs on the pool
	f.OnDone(func(*futures.Future[int]) { got <- p.Shutdown(context.Background()) })
	release(t, dir)
	select {
	case err := <-got:
		if !errors.Is(err, futures.ErrDeadlock) {
			t.Errorf("Shutdown in a callback = %v, want ErrDeadlock", err)
		}
	case <-testContext(t, time.Minute).Done():
		t.Fatal("Shutdown in a callback did not return")
	}
	if err := futures.Submit(p, square, 3).Err(); !errors.Is(err, futures.ErrShutdown) {
		t.Errorf("Submit after Shutdown in a callback: %v, want ErrShutdown", err)
	}
}

// errNotFound is a sentinel registered with futures.RegisterError.
var errNotFound = errors.New("cluster test: not found")

// findNothing fails with errNotFound, wrapped.
func findNothing(_ context.Context, key string) (int, error) {
	return 0, fmt.Errorf("looking up %q: %w", key, errNotFound)
}

func init() {
	futures.Register(findNothing)
	futures.RegisterError(errNotFound)
}

// TestRegisteredErrorCrosses: an error registered with RegisterError keeps
// its identity across a worker process of the cluster pool, as across a
// ProcessPool's.
func TestRegisteredErrorCrosses(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1))
	_, err := futures.Submit(p, findNothing, "k").Result(testContext(t, time.Minute))
	if !errors.Is(err, errNotFound) || !strings.Contains(err.Error(), `looking up "k"`) {
		t.Errorf("error %v; want one matching the registered sentinel, with its message", err)
	}
}
