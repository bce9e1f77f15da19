//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

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

// TestShutdownGivesUpOnCancelledCalls: when Shutdown gives up, a queued
// call whose context ended before is counted Cancelled, as its future
// says, and only the call it abandons Failed.
func TestShutdownGivesUpOnCancelledCalls(t *testing.T) {
	p, err := NewPool(LocalWorkers(1), Name("shutcancelled"), WorkerLostAfter(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	dir, held := holdSlot(t, ctx, p)
	defer release(t, dir)
	cctx, cancelCall := context.WithCancel(ctx)
	f := futures.SubmitContext(cctx, p, square, 2)
	cancelCall()
	if _, err := f.Result(ctx); !errors.Is(err, futures.ErrCancelled) {
		t.Fatalf("a queued call whose context ended: %v, want ErrCancelled", err)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if err := p.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want DeadlineExceeded", err)
	}
	if _, err := held.Result(ctx); !errors.Is(err, futures.ErrBrokenExecutor) {
		t.Errorf("the held call after Shutdown gave up: %v, want ErrBrokenExecutor", err)
	}
	st := p.Stats()
	checkStats(t, st)
	if st.Cancelled != 1 || st.Failed != 1 {
		t.Errorf("Stats %+v: want 1 cancelled (the call whose context ended), 1 failed (the held one)", st)
	}
}
