//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"os"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// TestServeDrain: a worker whose Serve ctx ends while it runs a call takes
// no more calls; it finishes the call if it returns within the grace, and
// Serve returns once the call's outcome is sent. Past the grace it cancels
// the call's context, hands the call back to the stream, where another
// worker runs it again, and returns.
func TestServeDrain(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("drain"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)

	t.Run("finishes within the grace", func(t *testing.T) {
		stop, served := serveInBackground(t, ctx, p)
		dir, f := holdSlot(t, ctx, p)
		stop()
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v while its worker ran a call", err)
		default:
		}
		waitWindow(t, p, func(w int) bool { return w == 0 }) // the stopping worker said so
		queued := futures.Submit(p, square, 4)               // the stopping worker takes no more
		release(t, dir)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if pid, err := f.Result(ctx); pid != os.Getpid() || err != nil {
			t.Errorf("the call held while Serve stopped: %d, %v", pid, err)
		}
		if queued.State() != futures.Pending {
			t.Errorf("a call submitted after the worker began to stop is %v, want Pending", queued.State())
		}
		stop2, served2 := serveInBackground(t, ctx, p)
		if v, err := queued.Result(ctx); v != 16 || err != nil {
			t.Errorf("square(4) on the next worker: %d, %v", v, err)
		}
		stop2()
		<-served2
	})

	t.Run("hands back past the grace", func(t *testing.T) {
		stop, served := serveInBackground(t, ctx, p, graceOption(100*time.Millisecond))
		dir, f := holdSlot(t, ctx, p)
		stop()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-ctx.Done():
			t.Fatal("Serve did not return after its grace")
		}
		if st := f.State(); st != futures.Running {
			t.Fatalf("the call handed back is %v, want still Running: its outcome on the stopped worker is dropped", st)
		}
		release(t, dir)
		stop2, served2 := serveInBackground(t, ctx, p)
		if pid, err := f.Result(ctx); pid != os.Getpid() || err != nil {
			t.Errorf("the call handed back, on the next worker: %d, %v", pid, err)
		}
		stop2()
		<-served2
	})
	waitEmptyStreams(t, ctx, p)
	if st := p.Stats(); st.Succeeded != 3 || st.Failed+st.Cancelled != 0 {
		t.Errorf("Stats %+v: want 3 successes", st)
	}
}
