//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"slices"
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
// queued, none published and unanswered, and its window is free.
func waitIdle(t *testing.T, ctx context.Context, p *Pool) {
	t.Helper()
	for {
		p.mu.Lock()
		inflight, msgs, queued, pending := p.inflight, len(p.msgs), p.queued, p.pending.Len()
		p.mu.Unlock()
		if inflight == 0 && msgs == 0 && queued == 0 && pending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the pool holds calls: %d published messages, %d messages, %d queued calls, %d messages waiting", inflight, msgs, queued, pending)
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

// TestShutdownCancelPendingWindowFull: Shutdown with CancelPending while
// calls wait in the pool behind a busy slot cancels them at once, never
// runs them, and waits for the running call.
func TestShutdownCancelPendingWindowFull(t *testing.T) {
	p, err := NewPool(LocalWorkers(1), Name("cancelpending"), WorkerLostAfter(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	dir, other := t.TempDir(), t.TempDir()
	running := futures.Submit(p, holdPID, dir)
	waitPIDs(t, ctx, dir, 1)
	var queued []*futures.Future[int]
	for range 5 {
		queued = append(queued, futures.Submit(p, holdPID, other))
	}
	shut := make(chan error, 1)
	go func() { shut <- p.Shutdown(ctx, futures.CancelPending()) }()
	for i, f := range queued {
		if _, err := f.Result(ctx); !errors.Is(err, futures.ErrCancelled) {
			t.Errorf("queued call %d after Shutdown(CancelPending): %v, want ErrCancelled", i, err)
		}
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a call runs", err)
	default:
	}
	release(t, dir)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := running.Result(ctx); err != nil {
		t.Errorf("the running call: %v", err)
	}
	st := p.Stats()
	checkStats(t, st)
	if st.Succeeded != 1 || st.Cancelled != 5 {
		t.Errorf("Stats %+v: want 1 succeeded, 5 cancelled", st)
	}
	if pids := startedPIDs(t, other); len(pids) != 0 {
		t.Errorf("calls cancelled by Shutdown ran in %v", pids)
	}
}

// TestShutdownDeadlineWindowFull: Shutdown whose context ends while calls
// wait in the pool behind a busy slot fails them all, the running one
// too, with ErrBrokenExecutor, and returns the context's error.
func TestShutdownDeadlineWindowFull(t *testing.T) {
	p, err := NewPool(LocalWorkers(1), Name("shutdeadline"), WorkerLostAfter(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	dir := t.TempDir()
	defer release(t, dir)
	fs := []*futures.Future[int]{futures.Submit(p, holdPID, dir)}
	waitPIDs(t, ctx, dir, 1)
	for range 5 {
		fs = append(fs, futures.Submit(p, holdPID, dir))
	}
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want DeadlineExceeded", err)
	}
	for i, f := range fs {
		if _, err := f.Result(ctx); !errors.Is(err, futures.ErrBrokenExecutor) {
			t.Errorf("call %d after Shutdown gave up: %v, want ErrBrokenExecutor", i, err)
		}
	}
	st := p.Stats()
	checkStats(t, st)
	if st.Failed != 6 || st.Queued != 0 || st.Running != 0 {
		t.Errorf("Stats %+v: want 6 failed", st)
	}
	if pids := startedPIDs(t, dir); len(pids) != 1 {
		t.Errorf("calls ran in %v, want only the first", pids)
	}
}

// TestMapStopsWithChunksInPool: a Map whose context ends while its chunks
// wait in the pool for the only slot ends, its waiting chunks are never
// published, and the window is free afterwards.
func TestMapStopsWithChunksInPool(t *testing.T) {
	p, err := NewPool(LocalWorkers(1), Name("mapstop"), WorkerLostAfter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	for _, unordered := range []bool{false, true} {
		mctx, cancel := context.WithCancel(ctx)
		in := make([]int, 400)
		for i := range in {
			in[i] = 2
		}
		opts := []futures.MapOption{futures.Chunksize(4), futures.Buffer(16)}
		if unordered {
			opts = append(opts, futures.Unordered())
		}
		got := 0
		for _, err := range futures.Map(mctx, p, nap, slices.Values(in), opts...) {
			if err != nil {
				break
			}
			got++
			if got == 6 {
				cancel()
			}
		}
		cancel()
		if got >= len(in) {
			t.Errorf("unordered %v: the Map ran all of its %d calls after its context ended", unordered, got)
		}
		waitIdle(t, ctx, p)
		st := p.Stats()
		checkStats(t, st)
		if st.Queued != 0 || st.Running != 0 {
			t.Errorf("unordered %v: Stats %+v after the Map stopped", unordered, st)
		}
		if v, err := futures.Submit(p, square, 5).Result(ctx); v != 25 || err != nil {
			t.Errorf("unordered %v: square(5) after: %d, %v", unordered, v, err)
		}
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
	dir := t.TempDir()
	held := futures.Submit(p, holdPID, dir)
	waitPIDs(t, ctx, dir, 1)
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

// TestEndedGroupAnsweredWhenAsked: a published call whose context ends
// while its message waits in the stream, taken by a worker that asks the
// pool whether to run it (here the only delivery MaxAttempts allows), is
// answered as cancelled at once, not lost WorkerLostAfter later.
func TestEndedGroupAnsweredWhenAsked(t *testing.T) {
	const lostAfter = 8 * time.Second
	p, err := NewPool(LocalWorkers(0), Name("endedasked"), WorkerLostAfter(lostAfter), MaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	stop, served := serveInBackground(t, ctx, p, Concurrency(1))
	defer func() {
		stop()
		<-served
	}()
	first, second := t.TempDir(), t.TempDir()
	defer release(t, second) // lets the call end if it ran
	busy := futures.Submit(p, holdPID, first)
	waitPIDs(t, ctx, first, 1)
	ghostSlots(t, p, 2) // the pool publishes the next call, which waits in the stream
	cctx, cancel := context.WithCancel(ctx)
	f := futures.SubmitContext(cctx, p, holdPID, second)
	<-p.pub.PublishAsyncComplete()
	if st := f.State(); st != futures.Running {
		t.Fatalf("the call published behind the busy slot is %v, want Running", st)
	}
	cancel()
	release(t, first)
	if _, err := busy.Result(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, rcancel := context.WithTimeout(ctx, lostAfter/2)
	defer rcancel()
	_, err = f.Result(rctx)
	var lost *LostError
	if errors.As(err, &lost) || !errors.Is(err, futures.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("the call whose context ended in the stream: error %v, want ErrCancelled and context.Canceled, before WorkerLostAfter", err)
	}
	if pids := startedPIDs(t, second); len(pids) != 0 {
		t.Errorf("the call whose context ended in the stream ran in %v", pids)
	}
	if st := p.Stats(); st.Cancelled != 1 || st.Succeeded != 1 || st.Running != 0 {
		t.Errorf("Stats %+v: want 1 succeeded, 1 cancelled", st)
	}
}

// TestMapStopsWithChunksInStream: a Map whose context ends while chunks of
// it were published and wait in the stream (the pool counted slots of a
// worker that is gone) ends, and the worker that takes those chunks
// answers their calls as cancelled, whether it asks the pool or not:
// nothing is left before WorkerLostAfter.
func TestMapStopsWithChunksInStream(t *testing.T) {
	const lostAfter = 20 * time.Second
	for _, attempts := range []int{1, 5} {
		p, err := NewPool(LocalWorkers(0), Name("mapstream"), WorkerLostAfter(lostAfter), MaxAttempts(attempts))
		if err != nil {
			t.Fatal(err)
		}
		ctx := testContext(t, lostAfter/2)
		stop, served := serveInBackground(t, ctx, p, Concurrency(1))
		ghostSlots(t, p, 8)
		mctx, cancel := context.WithCancel(ctx)
		got := 0
		for _, err := range futures.Map(mctx, p, nap, slices.Values(make([]int, 200)), futures.Chunksize(4), futures.Buffer(32)) {
			if err != nil {
				break
			}
			if got++; got == 4 {
				cancel()
			}
		}
		cancel()
		waitIdle(t, ctx, p)
		st := p.Stats()
		checkStats(t, st)
		if st.Succeeded >= 200 || st.Cancelled == 0 {
			t.Errorf("MaxAttempts %d: Stats %+v: want the Map's calls beyond its end cancelled", attempts, st)
		}
		stop()
		if err := <-served; err != nil {
			t.Error(err)
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
}

// TestCancelledCallsLeaveThePool: calls cancelled while they wait in a
// pool that has no worker leave it, arguments and all, once counted: the
// pool keeps nothing of them until a worker comes.
func TestCancelledCallsLeaveThePool(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("leave"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, 10*time.Second)
	var fs []*futures.Future[int]
	for i := range 50 {
		fs = append(fs, futures.Submit(p, square, i))
	}
	mctx, cancel := context.WithCancel(ctx)
	next, stop := iter.Pull2(futures.Map(mctx, p, square, slices.Values(make([]int, 100)), futures.Chunksize(2), futures.Buffer(20)))
	for _, f := range fs {
		f.Cancel()
	}
	cancel()
	if _, err, _ := next(); err == nil {
		t.Error("a Map whose context ended with no worker gave a result")
	}
	stop()
	if st := p.Stats(); st.Cancelled+st.Failed != st.Submitted || st.Queued != 0 {
		t.Errorf("Stats %+v: want every call cancelled", st)
	}
	waitIdle(t, ctx, p)
}

// TestShutdownDeadlineUnderSubmit: Shutdown whose context ends while calls
// are being submitted, cancelled and run: every future ends, every
// snapshot of Stats adds up, and nothing is left of the calls.
func TestShutdownDeadlineUnderSubmit(t *testing.T) {
	p, err := NewPool(LocalWorkers(1), Name("shutunder"), WorkerLostAfter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	var mu sync.Mutex
	var all []*futures.Future[int]
	var wg sync.WaitGroup
	started := make(chan struct{})
	for s := range 3 {
		wg.Go(func() {
			for i := range 200 {
				if i == 10 && s == 0 {
					close(started)
				}
				cctx, cancel := context.WithCancel(ctx)
				f := futures.SubmitContext(cctx, p, nap, 3)
				if i%3 == s {
					cancel()
				}
				defer cancel()
				mu.Lock()
				all = append(all, f)
				mu.Unlock()
				if errors.Is(f.Err(), futures.ErrShutdown) {
					return
				}
				checkStats(t, p.Stats())
			}
		})
	}
	<-started
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if _, notDone := futures.Wait(ctx, all, futures.AllCompleted); len(notDone) > 0 {
		t.Fatalf("%d calls did not end after Shutdown", len(notDone))
	}
	st := p.Stats()
	checkStats(t, st)
	if st.Queued != 0 || st.Running != 0 {
		t.Errorf("Stats %+v after Shutdown", st)
	}
	p.mu.Lock()
	inflight, msgs, pending := p.inflight, len(p.msgs), p.pending.Len()
	p.mu.Unlock()
	if inflight != 0 || msgs != 0 || pending != 0 {
		t.Errorf("after Shutdown the pool holds %d published messages, %d messages, %d waiting", inflight, msgs, pending)
	}
}
