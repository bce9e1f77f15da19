package futurestest

import (
	"context"
	"errors"
	"time"

	"github.com/gofutures/futures"
)

// queuedID is the id of the first call a subtest queues behind the blocked
// workers.
const queuedID = 100

// checkCancelQueued: Cancel of a queued call succeeds, finishes its future
// at once as cancelled, is counted before Cancel returns, and the call
// never runs; Cancel of a running call returns false.
func checkCancelQueued(s *suite) {
	running := s.blockWorkers()
	victim := futures.Submit(s.ex, block, s.gate(queuedID, false))
	if st := victim.State(); st != futures.Pending {
		s.t.Fatalf("a call submitted while all %d workers are busy is %v; want pending", s.workers, st)
	}
	if !victim.Cancel() {
		s.t.Errorf("Cancel() of a queued call = false, want true")
	}
	select {
	case <-victim.Done():
	default:
		s.t.Errorf("Done() is not closed when Cancel of a queued call returns")
	}
	if _, err := victim.Result(context.Background()); victim.State() != futures.Cancelled || !errors.Is(err, futures.ErrCancelled) {
		s.t.Errorf("after Cancel: State() %v, Result() error %v; want cancelled, futures.ErrCancelled", victim.State(), err)
	}
	if !victim.Cancel() {
		s.t.Errorf("Cancel() of a cancelled call = false, want true")
	}
	if running[0].Cancel() || running[0].State() != futures.Running {
		s.t.Errorf("Cancel() of a running call returned true or changed its state to %v; want false, running", running[0].State())
	}
	s.open()
	s.checkBlocked(running, nil)
	s.checkNeverRan("the cancelled call", queuedID)
	s.expect(int64(s.workers), 0, 1)
}

// checkCancelCounted: a cancellation is counted in Stats before Cancel
// returns.
func checkCancelCounted(s *suite) {
	if s.stats == nil {
		s.t.Skip("the executor has no Stats() futures.Stats method")
	}
	running := s.blockWorkers()
	victim := futures.Submit(s.ex, block, s.gate(queuedID, false))
	before := s.checkStats("with a call queued")
	victim.Cancel()
	if after := s.checkStats("right after Cancel"); after.Cancelled != before.Cancelled+1 || after.Queued != before.Queued-1 {
		s.t.Errorf("Stats right after Cancel: Queued %d, Cancelled %d (before: %d, %d); a cancellation is counted before Cancel returns",
			after.Queued, after.Cancelled, before.Queued, before.Cancelled)
	}
	s.open()
	s.checkBlocked(running, nil)
	s.expect(int64(s.workers), 0, 1)
}

// checkBlocked checks that the calls of blockWorkers returned their ids, or
// failed with an error matching target if it is not nil.
func (s *suite) checkBlocked(fs []*futures.Future[int], target error) {
	s.t.Helper()
	for i, f := range fs {
		v, err := result(s, "a blocked call", f)
		if target == nil && (v != i || err != nil) {
			s.t.Errorf("blocked call %d: Result() = %d, %v; want %d, nil", i, v, err, i)
		}
		if target != nil && !errors.Is(err, target) {
			s.t.Errorf("blocked call %d: Result() error %v; want one matching %v", i, err, target)
		}
	}
}

// shutdownResult is what a Shutdown in the background returned.
type shutdownResult struct{ err error }

// shutdownInBackground calls Shutdown with opts in a goroutine and returns
// where its result arrives; it waits until the executor refuses calls, so
// that Shutdown is known to be under way. It returns how many of its probing
// calls the executor accepted before that: each succeeds later.
func (s *suite) shutdownInBackground(opts ...futures.ShutdownOption) (<-chan shutdownResult, int64) {
	s.t.Helper()
	ch := make(chan shutdownResult, 1)
	go func() { ch <- shutdownResult{s.ex.Shutdown(s.bounded(), opts...)} }()
	accepted := int64(0)
	deadline := time.Now().Add(patience)
	for {
		err := futures.Submit(s.ex, square, 2).Err()
		if errors.Is(err, futures.ErrShutdown) {
			return ch, accepted
		}
		accepted++
		if time.Now().After(deadline) {
			s.t.Fatalf("calls submitted for %v after Shutdown was called were accepted; want futures.ErrShutdown", patience)
		}
		time.Sleep(gatePoll)
	}
}

// checkNotReturned fails the subtest if Shutdown has returned already.
func (s *suite) checkNotReturned(ch <-chan shutdownResult) {
	s.t.Helper()
	select {
	case r := <-ch:
		s.t.Fatalf("Shutdown returned %v while calls were still running; it waits for them", r.err)
	default:
	}
}

// waitShutdown waits for the result of shutdownInBackground.
func (s *suite) waitShutdown(ch <-chan shutdownResult) error {
	s.t.Helper()
	select {
	case r := <-ch:
		return r.err
	case <-time.After(patience):
		s.t.Fatalf("Shutdown did not return in %v after every call was released", patience)
		return nil
	}
}

// checkShutdownWaits: Shutdown waits for the running and the queued calls,
// which all succeed, and returns nil once they have.
func checkShutdownWaits(s *suite) {
	running := s.blockWorkers()
	queued := futures.Submit(s.ex, block, s.gate(queuedID, true))
	ch, accepted := s.shutdownInBackground()
	s.checkNotReturned(ch)
	s.open()
	if err := s.waitShutdown(ch); err != nil {
		s.t.Errorf("Shutdown() = %v, want nil", err)
	}
	for _, f := range append(running, queued) {
		if f.State() != futures.Finished {
			s.t.Errorf("a call is %v when Shutdown returned; want finished: Shutdown waits for queued and running calls", f.State())
		}
	}
	s.checkBlocked(running, nil)
	if v, err := result(s, "the queued call", queued); v != queuedID || err != nil {
		s.t.Errorf("the call queued before Shutdown: Result() = %d, %v; want %d, nil", v, err, queuedID)
	}
	s.expect(int64(s.workers)+1+accepted, 0, 0)
}

// checkShutdownCancelPending: Shutdown with CancelPending cancels the queued
// calls at once, then waits for the running ones.
func checkShutdownCancelPending(s *suite) {
	running := s.blockWorkers()
	queued := []*futures.Future[int]{
		futures.Submit(s.ex, block, s.gate(queuedID, false)),
		futures.Submit(s.ex, block, s.gate(queuedID+1, false)),
	}
	ch := make(chan shutdownResult, 1)
	go func() { ch <- shutdownResult{s.ex.Shutdown(s.bounded(), futures.CancelPending())} }()
	for _, f := range queued {
		if _, err := result(s, "a queued call", f); f.State() != futures.Cancelled || !errors.Is(err, futures.ErrCancelled) {
			s.t.Errorf("a queued call after Shutdown(CancelPending()): State() %v, error %v; want cancelled, futures.ErrCancelled", f.State(), err)
		}
	}
	s.checkNotReturned(ch)
	s.open()
	if err := s.waitShutdown(ch); err != nil {
		s.t.Errorf("Shutdown(CancelPending()) = %v, want nil", err)
	}
	s.checkBlocked(running, nil)
	s.checkNeverRan("a call cancelled by CancelPending", queuedID)
	s.checkNeverRan("a call cancelled by CancelPending", queuedID+1)
	s.expect(int64(s.workers), 0, 2)
}

// checkShutdownDeadline: Shutdown with a ctx that has ended returns
// ctx.Err(); the futures of the running and the queued calls fail with an
// error matching futures.ErrBrokenExecutor, the queued call never runs, and
// the running calls' contexts are cancelled, so that a second Shutdown
// returns nil without the test releasing them.
func checkShutdownDeadline(s *suite) {
	running := s.blockWorkers()
	queued := futures.Submit(s.ex, block, s.gate(queuedID, false))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ex.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		s.t.Errorf("Shutdown with a cancelled ctx while calls run = %v, want ctx.Err() (context.Canceled)", err)
	}
	s.checkBlocked(running, futures.ErrBrokenExecutor)
	if _, err := result(s, "the queued call", queued); !errors.Is(err, futures.ErrBrokenExecutor) {
		s.t.Errorf("the queued call after Shutdown gave up: error %v; want one matching futures.ErrBrokenExecutor", err)
	}
	if err := s.ex.Shutdown(s.bounded()); err != nil {
		s.t.Errorf("Shutdown after Shutdown gave up = %v, want nil: the contexts of the calls it stopped are cancelled, so they return", err)
	}
	s.checkNeverRan("the call queued when Shutdown gave up", queuedID)
	if err := futures.Submit(s.ex, square, 1).Err(); !errors.Is(err, futures.ErrShutdown) {
		s.t.Errorf("Submit after Shutdown gave up: error %v, want futures.ErrShutdown", err)
	}
	s.expect(0, int64(s.workers)+1, 0)
}

// checkShutdownRefuses: after Close, Submit, Go and Map fail with
// futures.ErrShutdown without counting a call, and Close and Shutdown may be
// called again.
func checkShutdownRefuses(s *suite) {
	if v, err := result(s, "Submit(square, 3)", futures.Submit(s.ex, square, 3)); v != 9 || err != nil {
		s.t.Errorf("Submit(square, 3): Result() = %d, %v; want 9, nil", v, err)
	}
	if err := s.ex.Close(); err != nil {
		s.t.Fatalf("Close() = %v, want nil", err)
	}
	f := futures.Submit(s.ex, square, 4)
	if err := f.Err(); f.State() != futures.Finished || !errors.Is(err, futures.ErrShutdown) {
		s.t.Errorf("Submit after Close: State() %v, Err() %v; want finished, futures.ErrShutdown", f.State(), err)
	}
	if err := futures.Go(s.ex, answer).Err(); !errors.Is(err, futures.ErrShutdown) {
		s.t.Errorf("Go after Close: Err() %v, want futures.ErrShutdown", err)
	}
	if got := collect(futures.Map(s.bounded(), s.ex, square, ints(0, 3))); len(got) != 1 || !errors.Is(got[0].err, futures.ErrShutdown) {
		s.t.Errorf("Map after Close yielded %v; want one error matching futures.ErrShutdown", got)
	}
	if err := s.ex.Close(); err != nil {
		s.t.Errorf("Close() a second time = %v, want nil", err)
	}
	s.expect(1, 0, 0)
}

// checkShutdownAgainWithEndedContext: Shutdown with a ctx that has ended, on
// an executor already closed, returns nil: nothing is left to wait for.
func checkShutdownAgainWithEndedContext(s *suite) {
	if err := s.ex.Close(); err != nil {
		s.t.Fatalf("Close() = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 10 {
		if err := s.ex.Shutdown(ctx); err != nil {
			s.t.Fatalf("Shutdown with a cancelled ctx on a closed executor = %v, want nil: nothing is left to wait for", err)
		}
	}
	s.expect(0, 0, 0)
}
