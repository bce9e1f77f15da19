//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// overrunArg is the argument of overrunCall.
type overrunArg struct {
	Dir string // "" returns at once
	End string // once released: "" returns, "panic" panics, "goexit" calls runtime.Goexit
}

// overrunCall is holdPID deaf to its context: it marks that it started in
// the worker process of pid p by creating started-<p> in a.Dir, then waits
// for the file release there whatever its context says, and ends as a.End
// asks. It gives up after a minute.
func overrunCall(_ context.Context, a overrunArg) (int, error) {
	if a.Dir == "" {
		return 0, nil
	}
	pid := os.Getpid()
	if err := os.WriteFile(filepath.Join(a.Dir, fmt.Sprintf("started-%d", pid)), nil, 0o644); err != nil {
		return 0, err
	}
	for giveUp := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(a.Dir, "release")); err == nil {
			break
		}
		if time.Now().After(giveUp) {
			return 0, errors.New("overrunCall: never released")
		}
	}
	switch a.End {
	case "panic":
		panic("overrunCall")
	case "goexit":
		runtime.Goexit()
	}
	return pid, nil
}

func init() { futures.Register(overrunCall) }

// startOverrun starts a call of overrunCall in dir, ending as end asks, on p,
// whose TaskTimeout it overruns, and returns the pid of its worker once
// the call failed on the pool with an error matching futures.ErrTimeout.
func startOverrun(t *testing.T, ctx context.Context, p *Pool, dir, end string) int {
	t.Helper()
	f := futures.Submit(p, overrunCall, overrunArg{Dir: dir, End: end})
	pid := waitPIDs(t, ctx, dir, 1)[0]
	if _, err := f.Result(ctx); !errors.Is(err, futures.ErrTimeout) {
		t.Fatalf("a call past TaskTimeout: error %v, want one matching ErrTimeout", err)
	}
	return pid
}

// wantWaiting fails t unless each of fs is Pending, waiting in the pool,
// and p published nothing more: the calls stream holds inStream messages.
func wantWaiting(t *testing.T, p *Pool, inStream uint64, fs ...*futures.Future[int]) {
	t.Helper()
	<-p.pub.PublishAsyncComplete()
	for i, f := range fs {
		if st := f.State(); st != futures.Pending {
			t.Fatalf("call %d, submitted while the only slot runs a call past its TaskTimeout, is %v; want Pending: no worker has room for it", i, st)
		}
	}
	if st := p.Stats(); st.Queued != int64(len(fs)) || st.Running != 0 {
		t.Errorf("Stats %+v: want %d queued, none running", st, len(fs))
	}
	if n := streamMsgs(t, p.link, p.top.calls.Name); n != inStream {
		t.Errorf("the calls stream holds %d messages while a call overruns on the only slot, want %d", n, inStream)
	}
}

// TestOverrunKeepsSlot: a call past TaskTimeout fails at once on the pool,
// but keeps its worker's slot until it returns, however it ends: the calls
// submitted meanwhile wait in the pool, Pending and cancellable, and run
// once it returned; the one cancelled never runs.
func TestOverrunKeepsSlot(t *testing.T) {
	for _, end := range []string{"", "panic", "goexit"} {
		t.Run("end="+end, func(t *testing.T) {
			dir, other := t.TempDir(), t.TempDir() // removed after Close
			p := newTestPool(t, LocalWorkers(1), TaskTimeout(100*time.Millisecond))
			ctx := testContext(t, time.Minute)
			defer release(t, other) // lets the call end if it ran
			defer release(t, dir)
			startOverrun(t, ctx, p, dir, end)
			cancelled := futures.Submit(p, holdPID, other)
			next := futures.Submit(p, square, 4)
			wantWaiting(t, p, 1, cancelled, next) // the stream holds the message of the overrun
			if !cancelled.Cancel() {
				t.Error("Cancel of a call waiting behind the call past TaskTimeout returned false")
			}
			release(t, dir)
			if v, err := next.Result(ctx); v != 16 || err != nil {
				t.Errorf("square(4) once the call past TaskTimeout returned: %d, %v", v, err)
			}
			waitIdle(t, ctx, p)
			if pids := startedPIDs(t, other); len(pids) != 0 {
				t.Errorf("the call cancelled in the pool ran in %v", pids)
			}
			st := p.Stats()
			checkStats(t, st)
			if st.Cancelled != 1 || st.Succeeded != 1 || st.Failed != 1 || st.WorkerStarts != 1 {
				t.Errorf("Stats %+v: want 1 cancelled, 1 succeeded, 1 failed, one worker start", st)
			}
		})
	}
}

// TestOverrunWorkerKilled: the local worker killed with SIGKILL while it
// runs a call past TaskTimeout gives its place back as the pool sees it
// exit: the call waiting behind it runs on the worker started again, and
// the pool forgets the overrun, whether the message may be delivered again
// or not (MaxAttempts(1)).
func TestOverrunWorkerKilled(t *testing.T) {
	for _, attempts := range []int{3, 1} {
		t.Run(fmt.Sprintf("MaxAttempts=%d", attempts), func(t *testing.T) {
			dir := t.TempDir() // removed after Close
			p := newTestPool(t, LocalWorkers(1), TaskTimeout(100*time.Millisecond), WorkerLostAfter(30*time.Second), MaxAttempts(attempts))
			ctx := testContext(t, time.Minute)
			defer release(t, dir)
			pid := startOverrun(t, ctx, p, dir, "")
			next := futures.Submit(p, square, 5)
			wantWaiting(t, p, 1, next)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			soon := testContext(t, 10*time.Second) // well before WorkerLostAfter
			if v, err := next.Result(soon); v != 25 || err != nil {
				t.Errorf("square(5) after the worker of the overrun was killed: %d, %v", v, err)
			}
			waitIdle(t, ctx, p)
			checkStats(t, p.Stats())
		})
	}
}

// TestOverrunWorkerStops: a worker that stops while it runs a call past
// TaskTimeout leaves the window with its slots, that of the call included:
// the call waiting behind it runs on another worker before the call past
// TaskTimeout returned.
func TestOverrunWorkerStops(t *testing.T) {
	dir := t.TempDir() // removed after Close
	p := newTestPool(t, LocalWorkers(0), Name("overrunstops"), TaskTimeout(100*time.Millisecond), WorkerLostAfter(30*time.Second))
	defer release(t, dir)
	ctx := testContext(t, time.Minute)
	stopA, servedA := serveInBackground(t, ctx, p, Concurrency(1), graceOption(time.Minute))
	startOverrun(t, ctx, p, dir, "")
	next := futures.Submit(p, square, 7)
	wantWaiting(t, p, 1, next)
	stopA() // it says it takes no more calls, and waits for the call past TaskTimeout
	waitWindow(t, p, func(w int) bool { return w == 0 })
	soon := testContext(t, 10*time.Second)
	stopB, servedB := serveInBackground(t, ctx, p, Concurrency(1))
	if v, err := next.Result(soon); v != 49 || err != nil {
		t.Fatalf("square(7) on another worker while the stopping one runs the call past TaskTimeout: %d, %v", v, err)
	}
	release(t, dir)
	if err := <-servedA; err != nil {
		t.Error(err)
	}
	stopB()
	if err := <-servedB; err != nil {
		t.Error(err)
	}
	waitIdle(t, ctx, p)
	checkStats(t, p.Stats())
}

// TestOverrunWorkerSilent: a local worker that falls silent (stopped by
// SIGSTOP: no hello, heartbeat or result) while it runs a call past
// TaskTimeout gives its place back once it has been silent for
// WorkerLostAfter, with no later delivery of the message to say so
// (MaxAttempts(1)), while the overrun of a worker that still says hello
// keeps its place: once that one returns, the call waiting behind both
// runs. The silent worker's msgFreed, once it runs again, changes nothing.
func TestOverrunWorkerSilent(t *testing.T) {
	const lostAfter = time.Second
	dir, dirB := t.TempDir(), t.TempDir() // removed after Close
	p := newTestPool(t, LocalWorkers(1), TaskTimeout(100*time.Millisecond), WorkerLostAfter(lostAfter), MaxAttempts(1))
	ctx := testContext(t, time.Minute)
	defer release(t, dir)
	defer release(t, dirB)
	pid := startOverrun(t, ctx, p, dir, "") // on the local worker, the only one yet
	stopB, servedB := serveInBackground(t, ctx, p, Concurrency(1))
	waitWindow(t, p, func(w int) bool { return w == 2 })
	if pidB := startOverrun(t, ctx, p, dirB, ""); pidB != os.Getpid() {
		t.Fatalf("the second call past TaskTimeout runs in %d, want the worker served in the test process", pidB)
	}
	next := futures.Submit(p, square, 8)
	wantWaiting(t, p, 2, next)

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	local := workerIDPrefix(host, pid)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	stopped := time.Now()
	soon := testContext(t, lostAfter+10*time.Second)
	// Wait until the pool forgot the silent worker's overrun and has
	// heard a hello of B since B's overrun is WorkerLostAfter old: the
	// pool forgets the overruns of silent workers as it greets one.
	var took time.Duration
	for {
		p.mu.Lock()
		silent, kept, heard := 0, 0, false
		for _, o := range p.overruns {
			if strings.HasPrefix(o.worker, local) {
				silent++
			} else {
				kept++
				heard = p.seen[o.worker].at.Sub(o.at) > lostAfter
			}
		}
		p.mu.Unlock()
		if kept != 1 {
			t.Fatalf("the pool forgot the overrun of the worker that says hello (%d of the silent worker left)", silent)
		}
		if silent == 0 && took == 0 {
			took = time.Since(stopped)
		}
		if silent == 0 && heard {
			break
		}
		select {
		case <-soon.Done():
			t.Fatalf("the pool counts %d overruns of the local worker silent for %v (WorkerLostAfter %v)", silent, time.Since(stopped), lostAfter)
		case <-time.After(5 * time.Millisecond):
		}
	}
	// The worker's last hello or its msgOverran may have come up to a
	// quarter of WorkerLostAfter before it stopped.
	if took < lostAfter/2 {
		t.Errorf("the pool forgot the overrun %v after its worker fell silent, long before WorkerLostAfter (%v)", took, lostAfter)
	}
	// B's slot alone, which still runs its call past TaskTimeout; the
	// reaper may have deleted the silent worker's message, delivered
	// MaxAttempts times.
	waitWindow(t, p, func(w int) bool { return w == 1 })
	<-p.pub.PublishAsyncComplete()
	if st := p.Stats(); next.State() != futures.Pending || st.Queued != 1 || st.Running != 0 {
		t.Errorf("the call behind B's call past TaskTimeout is %v, Stats %+v: want it Pending, queued, none running", next.State(), st)
	}

	release(t, dirB)
	if v, err := next.Result(soon); v != 64 || err != nil {
		t.Fatalf("square(8) on B once the silent worker's place was freed and B's call returned: %d, %v", v, err)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	release(t, dir) // the call past TaskTimeout returns, and the worker says so
	stopB()
	if err := <-servedB; err != nil {
		t.Error(err)
	}
	waitIdle(t, ctx, p)
	st := p.Stats()
	checkStats(t, st)
	if st.Succeeded != 1 || st.Failed != 2 || st.WorkerStarts != 1 {
		t.Errorf("Stats %+v: want 1 succeeded, 2 failed, one worker start", st)
	}
}

// TestOverrunShutdown: Shutdown while a call overruns TaskTimeout on the
// only slot. With CancelPending, the call waiting behind it is cancelled
// and Shutdown returns once the worker stopped; when Shutdown's ctx ends
// first, the waiting call fails with ErrBrokenExecutor. Neither runs, and
// the pool forgets the overrun.
func TestOverrunShutdown(t *testing.T) {
	for _, c := range []struct {
		name   string
		cancel bool
		want   error
	}{{"CancelPending", true, futures.ErrCancelled}, {"deadline", false, futures.ErrBrokenExecutor}} {
		t.Run(c.name, func(t *testing.T) {
			dir, other := t.TempDir(), t.TempDir() // removed after Close
			p := newTestPool(t, LocalWorkers(1), TaskTimeout(100*time.Millisecond))
			ctx := testContext(t, time.Minute)
			defer release(t, other)
			defer release(t, dir)
			startOverrun(t, ctx, p, dir, "")
			next := futures.Submit(p, holdPID, other)
			wantWaiting(t, p, 1, next)
			var err error
			if c.cancel {
				stopped := make(chan error, 1)
				go func() { stopped <- p.Shutdown(ctx, futures.CancelPending()) }()
				if _, err := next.Result(ctx); !errors.Is(err, c.want) {
					t.Errorf("the call waiting behind the overrun: error %v, want %v", err, c.want)
				}
				release(t, dir) // the stopping worker waits for the call past TaskTimeout
				err = <-stopped
			} else {
				short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
				if err = p.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Shutdown whose ctx ended: %v, want DeadlineExceeded", err)
				}
				err = nil
				if _, err := next.Result(ctx); !errors.Is(err, c.want) {
					t.Errorf("the call waiting behind the overrun: error %v, want %v", err, c.want)
				}
			}
			if err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			p.mu.Lock()
			overruns := len(p.overruns)
			p.mu.Unlock()
			if overruns != 0 {
				t.Errorf("the stopped pool remembers %d overruns", overruns)
			}
			if pids := startedPIDs(t, other); len(pids) != 0 {
				t.Errorf("the call waiting behind the overrun ran in %v", pids)
			}
			checkStats(t, p.Stats())
		})
	}
}

// TestOverrunMidChunk: the middle call of a Map chunk overruns TaskTimeout
// and the Map stops; once the chunk's last call is lost, every call of the
// chunk has an outcome but the worker still runs the middle one: a call
// submitted then waits in the pool until it returned, and then runs.
func TestOverrunMidChunk(t *testing.T) {
	const lostAfter = time.Second
	dir := t.TempDir() // removed after Close
	p := newTestPool(t, LocalWorkers(1), TaskTimeout(100*time.Millisecond), WorkerLostAfter(lostAfter))
	ctx := testContext(t, time.Minute)
	defer release(t, dir)
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, 3)
	go func() {
		defer close(errs)
		items := slices.Values([]overrunArg{{}, {Dir: dir}, {}})
		for _, err := range futures.Map(mctx, p, overrunCall, items, futures.Chunksize(3)) {
			errs <- err
		}
	}()
	if err := <-errs; err != nil {
		t.Fatalf("the chunk's first call: %v", err)
	}
	if err := <-errs; !errors.Is(err, futures.ErrTimeout) {
		t.Fatalf("the chunk's middle call: error %v, want one matching ErrTimeout", err)
	}
	stop()
	for range errs {
	}
	// The last call is lost WorkerLostAfter later, and the chunk's
	// message purged.
	for st := p.Stats(); st.Running > 0 || streamMsgs(t, p.link, p.top.calls.Name) > 0; st = p.Stats() {
		select {
		case <-ctx.Done():
			t.Fatalf("Stats %+v: the chunk's last call was not lost, or its message not purged", st)
		case <-time.After(10 * time.Millisecond):
		}
	}
	next := futures.Submit(p, square, 6)
	wantWaiting(t, p, 0, next) // the stopped Map purged its chunk
	release(t, dir)
	if v, err := next.Result(ctx); v != 36 || err != nil {
		t.Errorf("square(6) once the middle call returned: %d, %v", v, err)
	}
	waitIdle(t, ctx, p)
	checkStats(t, p.Stats())
}
