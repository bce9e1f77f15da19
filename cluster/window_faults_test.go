//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// nap waits ms milliseconds, or until its context ends, and returns ms.
func nap(ctx context.Context, ms int) (int, error) {
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		return ms, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// goexitCall ends the goroutine that runs it with runtime.Goexit.
func goexitCall(context.Context, int) (int, error) {
	runtime.Goexit()
	return 0, nil
}

// panicCall panics.
func panicCall(context.Context, int) (int, error) { panic("panicCall") }

func init() {
	futures.Register(nap)
	futures.Register(goexitCall)
	futures.Register(panicCall)
}

// checkStats fails t unless the call counts of st add up and none is
// negative.
func checkStats(t *testing.T, st futures.Stats) {
	t.Helper()
	if sum := st.Queued + st.Running + st.Succeeded + st.Failed + st.Cancelled; sum != st.Submitted {
		t.Errorf("Stats %+v: the counts add up to %d, not Submitted", st, sum)
	}
	if st.Queued < 0 || st.Running < 0 || st.Succeeded < 0 || st.Failed < 0 || st.Cancelled < 0 {
		t.Errorf("Stats %+v: a negative count", st)
	}
}

// waitIdle waits, at most until ctx ends, until p holds no call: none
// queued, none published and unanswered, none overrunning on its worker,
// and its window is free.
func waitIdle(t *testing.T, ctx context.Context, p *Pool) {
	t.Helper()
	for {
		p.mu.Lock()
		inflight, msgs, queued, pending, overruns := p.inflight, len(p.msgs), p.queued, p.pending.Len(), len(p.overruns)
		p.mu.Unlock()
		if inflight == 0 && msgs == 0 && queued == 0 && pending == 0 && overruns == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the pool holds calls: %d published messages, %d messages, %d queued calls, %d messages waiting, %d overruns", inflight, msgs, queued, pending, overruns)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestWindowStatsAddUpUnderCancel: while calls are submitted, cancelled
// while they wait in the pool, and their contexts end before and after
// they are published, every snapshot of Stats adds up, and once every
// future is done none is queued or running and the window is free.
func TestWindowStatsAddUpUnderCancel(t *testing.T) {
	const submitters, each = 4, 40
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	stopPoll := make(chan struct{})
	polled := make(chan int)
	go func() {
		n := 0
		defer func() { polled <- n }()
		for {
			select {
			case <-stopPoll:
				return
			default:
			}
			checkStats(t, p.Stats())
			n++
		}
	}()
	var mu sync.Mutex
	var all []*futures.Future[int]
	var wg sync.WaitGroup
	for s := range submitters {
		wg.Go(func() {
			for i := range each {
				var f *futures.Future[int]
				switch (s + i) % 4 {
				case 0:
					f = futures.Submit(p, nap, 1)
				case 1:
					g := futures.Submit(p, nap, 1)
					g.Cancel()
					f = g
				case 2:
					cctx, cancel := context.WithCancel(ctx)
					f = futures.SubmitContext(cctx, p, nap, 2)
					cancel()
				default:
					cctx, cancel := context.WithCancel(ctx)
					g := futures.SubmitContext(cctx, p, nap, 1)
					g.OnDone(func(*futures.Future[int]) {})
					if i%2 == 0 {
						cancel()
					} else {
						defer cancel()
					}
					f = g
				}
				mu.Lock()
				all = append(all, f)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if _, notDone := futures.Wait(ctx, all, futures.AllCompleted); len(notDone) > 0 {
		t.Fatalf("%d calls did not finish", len(notDone))
	}
	close(stopPoll)
	if n := <-polled; n == 0 {
		t.Error("Stats was never read")
	}
	waitIdle(t, ctx, p)
	st := p.Stats()
	checkStats(t, st)
	if st.Submitted != submitters*each || st.Queued != 0 || st.Running != 0 {
		t.Errorf("Stats %+v once every call is done: want %d submitted, none queued or running", st, submitters*each)
	}
	ok := int64(0)
	for _, f := range all {
		if f.Err() == nil {
			ok++
		}
	}
	if st.Succeeded != ok {
		t.Errorf("Stats %+v counts %d successes, the futures %d", st, st.Succeeded, ok)
	}
	if v, err := futures.Submit(p, square, 4).Result(ctx); v != 16 || err != nil {
		t.Errorf("square(4) after: %d, %v", v, err)
	}
}

// TestWindowRefillsAfterAllWorkersLeft: with the only worker gone, calls
// wait in the pool, Pending, however long; a worker that attaches later
// runs them all, and a call cancelled meanwhile never runs.
func TestWindowRefillsAfterAllWorkersLeft(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("refill"), WorkerLostAfter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	stop, served := serveInBackground(t, ctx, p, Concurrency(1))
	if v, err := futures.Submit(p, square, 2).Result(ctx); v != 4 || err != nil {
		t.Fatalf("square(2) = %d, %v", v, err)
	}
	stop()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	// The stopped worker said so: the window is empty.
	waitWindow(t, p, func(w int) bool { return w == 0 })
	var fs []*futures.Future[int]
	for i := range 5 {
		fs = append(fs, futures.Submit(p, square, i))
	}
	gone := futures.Submit(p, square, 100)
	<-p.pub.PublishAsyncComplete()
	for i, f := range fs {
		if st := f.State(); st != futures.Pending {
			t.Errorf("call %d with no worker: %v, want Pending", i, st)
		}
	}
	if n := streamMsgs(t, p.link, p.top.calls.Name); n != 0 {
		t.Errorf("the calls stream holds %d messages with no worker, want 0", n)
	}
	if !gone.Cancel() {
		t.Error("Cancel of a call waiting with no worker returned false")
	}
	stop2, served2 := serveInBackground(t, ctx, p, Concurrency(2))
	for i, f := range fs {
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Errorf("square(%d) once a worker attached: %d, %v", i, v, err)
		}
	}
	waitIdle(t, ctx, p)
	st := p.Stats()
	checkStats(t, st)
	if st.Succeeded != 6 || st.Cancelled != 1 {
		t.Errorf("Stats %+v: want 6 succeeded, 1 cancelled", st)
	}
	stop2()
	if err := <-served2; err != nil {
		t.Error(err)
	}
}

// TestWindowShrinksWhenHellosStop: the slots of a worker that stops saying
// hello leave the window once WorkerLostAfter passes: what it was
// published stays in the stream for a live worker, and the calls beyond
// the live worker's slots wait in the pool.
func TestWindowShrinksWhenHellosStop(t *testing.T) {
	const lostAfter = 500 * time.Millisecond
	p, err := NewPool(LocalWorkers(0), Name("shrink"), WorkerLostAfter(lostAfter))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	ghostSlots(t, p, 3)
	var fs []*futures.Future[int]
	for i := range 6 {
		fs = append(fs, futures.Submit(p, square, i))
	}
	<-p.pub.PublishAsyncComplete()
	if n := streamMsgs(t, p.link, p.top.calls.Name); n != 3 {
		t.Errorf("the calls stream holds %d messages for a worker of 3 slots, want 3", n)
	}
	waitWindow(t, p, func(w int) bool { return w == 0 })
	if st := p.Stats(); st.Queued != 3 || st.Running != 3 {
		t.Errorf("Stats %+v: want 3 queued, 3 running", st)
	}
	stop, served := serveInBackground(t, ctx, p, Concurrency(1))
	for i, f := range fs {
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Errorf("square(%d): %d, %v", i, v, err)
		}
	}
	waitIdle(t, ctx, p)
	checkStats(t, p.Stats())
	stop()
	if err := <-served; err != nil {
		t.Error(err)
	}
}

// TestWindowFullWorkerKilled: a local worker killed with SIGKILL while
// every slot is busy and calls wait in the pool: the waiting calls run on
// the other worker, the killed worker's call is delivered again, and the
// window is free afterwards.
func TestWindowFullWorkerKilled(t *testing.T) {
	p := newTestPool(t, WorkerLostAfter(500*time.Millisecond), MaxAttempts(3))
	ctx := testContext(t, time.Minute)
	dir := t.TempDir()
	held := []*futures.Future[int]{futures.Submit(p, holdPID, dir), futures.Submit(p, holdPID, dir)}
	pids := waitPIDs(t, ctx, dir, 2)
	var queued []*futures.Future[int]
	for i := range 8 {
		queued = append(queued, futures.Submit(p, square, i))
	}
	<-p.pub.PublishAsyncComplete()
	if st := p.Stats(); st.Queued != 8 || st.Running != 2 {
		t.Errorf("Stats %+v: want 8 queued, 2 running", st)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	release(t, dir)
	for i, f := range queued {
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Errorf("square(%d) queued behind a killed worker: %d, %v", i, v, err)
		}
	}
	for i, f := range held {
		if _, err := f.Result(ctx); err != nil {
			t.Errorf("held call %d: %v", i, err)
		}
	}
	waitIdle(t, ctx, p)
	st := p.Stats()
	checkStats(t, st)
	if st.Succeeded != 10 {
		t.Errorf("Stats %+v: want 10 succeeded", st)
	}
}

// TestWindowOneSlotGoexitAndPanic: calls that end with runtime.Goexit or
// panic, on the only slot, give back their slot: the calls behind them
// run.
func TestWindowOneSlotGoexitAndPanic(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("goexitslot"), WorkerLostAfter(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	stop, served := serveInBackground(t, ctx, p, Concurrency(1))
	var bad []*futures.Future[int]
	var good []*futures.Future[int]
	for i := range 4 {
		bad = append(bad, futures.Submit(p, goexitCall, i), futures.Submit(p, panicCall, i))
		good = append(good, futures.Submit(p, square, i))
	}
	for i, f := range bad {
		if _, err := f.Result(ctx); err == nil {
			t.Errorf("call %d that ended with Goexit or panic: no error", i)
		}
	}
	for i, f := range good {
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Errorf("square(%d) behind Goexit and panic: %d, %v", i, v, err)
		}
	}
	waitIdle(t, ctx, p)
	st := p.Stats()
	checkStats(t, st)
	if st.Failed != 8 || st.Succeeded != 4 {
		t.Errorf("Stats %+v: want 8 failed, 4 succeeded", st)
	}
	stop()
	if err := <-served; err != nil {
		t.Error(err)
	}
}

// TestStoppingWorkerLeavesWindow: a worker that stops says it takes no
// more calls, and says nothing else while it finishes the calls it holds:
// a call submitted meanwhile waits in the pool, cancellable, instead of
// being published for a worker that will not take it.
func TestStoppingWorkerLeavesWindow(t *testing.T) {
	const lostAfter = 400 * time.Millisecond // a heartbeat every 100ms
	p, err := NewPool(LocalWorkers(0), Name("stopping"), WorkerLostAfter(lostAfter))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	hellos, err := p.link.nc.SubscribeSync(p.top.helloSubject())
	if err != nil {
		t.Fatal(err)
	}
	defer hellos.Unsubscribe()
	stop, served := serveInBackground(t, ctx, p, Concurrency(2), graceOption(30*time.Second))
	dir, held := holdSlot(t, ctx, p)
	stop()
	for {
		m, err := hellos.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("the stopping worker never said it takes no more calls: %v", err)
		}
		if _, slots, err := parseHello(m.Data); err == nil && slots == 0 {
			break
		}
	}
	// Ten heartbeats of the draining worker.
	if m, err := hellos.NextMsg(10 * lostAfter / 4); err == nil {
		id, slots, _ := parseHello(m.Data)
		t.Errorf("the draining worker %s said hello with %d slots after it stopped", id, slots)
	}
	late := futures.Submit(p, square, 3)
	<-p.pub.PublishAsyncComplete()
	if st := late.State(); st != futures.Pending {
		t.Errorf("a call submitted while the only worker drains: %v, want Pending", st)
	}
	if !late.Cancel() {
		t.Error("Cancel of a call submitted while the only worker drains returned false")
	}
	release(t, dir)
	if _, err := held.Result(ctx); err != nil {
		t.Errorf("the call the worker drained: %v", err)
	}
	if err := <-served; err != nil {
		t.Error(err)
	}
}

// TestKilledLocalWorkerLeavesWindow: the slots of a local worker that is
// killed leave the window when the pool sees it exit, so that the worker
// started in its place is not counted with it until WorkerLostAfter.
func TestKilledLocalWorkerLeavesWindow(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1), WorkerLostAfter(time.Minute))
	ctx := testContext(t, time.Minute)
	if _, err := futures.Submit(p, square, 2).Result(ctx); err != nil {
		t.Fatal(err)
	}
	waitWindow(t, p, func(w int) bool { return w == 1 })
	old := p.locals.pids()
	if len(old) != 1 {
		t.Fatalf("local workers %v, want one", old)
	}
	if err := syscall.Kill(old[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The worker started in its place says hello.
	host, _ := os.Hostname()
	for {
		if now := p.locals.pids(); len(now) == 1 && now[0] != old[0] {
			p.mu.Lock()
			w, seen := p.windowLocked(), len(p.seen)
			greeted := false
			for id := range p.seen {
				greeted = greeted || strings.HasPrefix(id, workerIDPrefix(host, now[0]))
			}
			p.mu.Unlock()
			if greeted {
				if w != 1 || seen != 1 {
					t.Errorf("after a local worker was killed and replaced the pool counts %d slots of %d workers, want 1 of 1", w, seen)
				}
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("no worker replaced the killed one")
		case <-time.After(time.Millisecond):
		}
	}
}
