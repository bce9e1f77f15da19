package futurestest

import (
	"context"
	"errors"
	"time"

	"github.com/gofutures/futures"
)

func init() { futures.Register(deadlineOf, deadlineNow) }

// deadlineOf returns the deadline of its context in Unix nanoseconds, or an
// error if it has none.
func deadlineOf(ctx context.Context, _ int) (int64, error) { return deadlineNow(ctx) }

// deadlineNow is deadlineOf for GoContext.
func deadlineNow(ctx context.Context) (int64, error) {
	d, ok := ctx.Deadline()
	if !ok {
		return 0, errors.New("futurestest: the call's context has no deadline")
	}
	return d.UnixNano(), nil
}

// deadlineSlack is how much later than the caller's a deadline may be in a
// worker process, which reckons it from when it received the call.
const deadlineSlack = 10 * time.Second

// checkSubmitContext: the call's context has ctx's deadline; a call whose
// ctx has ended already is cancelled, never run; on an executor with
// workers, with a call blocked per worker, one whose ctx ends while it is
// queued is cancelled at once, never runs, and is counted before Result
// returns; a call whose ctx ends while it runs sees its context cancelled
// and its own return decides its outcome.
func checkSubmitContext(s *suite) {
	s.checkDeadline("SubmitContext", func(ctx context.Context) *futures.Future[int64] {
		return futures.SubmitContext(ctx, s.ex, deadlineOf, 0)
	})
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	f := futures.SubmitContext(ended, s.ex, block, s.gate(queuedID, true))
	s.checkCancelledBy("SubmitContext with a ctx that had ended", f, ended)
	s.checkNeverRan("a call whose ctx had ended", queuedID)
	if s.workers == 0 {
		s.expect(1, 0, 1)
		return
	}

	running := s.blockWorkers()
	ctx, cancel := context.WithCancel(context.Background())
	f = futures.SubmitContext(ctx, s.ex, block, s.gate(queuedID+1, false))
	before := s.checkStats("with a call queued")
	cancel()
	s.checkCancelledBy("SubmitContext whose ctx ended while it was queued", f, ctx)
	if after := s.checkStats("right after Result"); s.stats != nil && (after.Cancelled != before.Cancelled+1 || after.Queued != before.Queued-1) {
		s.t.Errorf("Stats right after Result of a call whose ctx ended while queued: Queued %d, Cancelled %d (before: %d, %d); the cancellation is counted before the future is done",
			after.Queued, after.Cancelled, before.Queued, before.Cancelled)
	}
	s.open()
	s.checkBlocked(running, nil)
	s.checkNeverRan("a call whose ctx ended while it was queued", queuedID+1)

	// After the blocked calls, so that a ProcessPool sends no worker more
	// than one call of block at a time; with a gate of its own, still shut.
	shut := *s
	shut.dir = s.t.TempDir()
	s.t.Cleanup(shut.open)
	ctx, cancel = context.WithCancel(context.Background())
	f = futures.SubmitContext(ctx, s.ex, block, shut.gate(queuedID+2, false))
	shut.waitStarted(queuedID + 2)
	cancel()
	_, err := result(s, "SubmitContext whose ctx ended while it ran", f)
	if f.State() != futures.Finished || !shut.marked(returnedFile, queuedID+2) {
		s.t.Errorf("a call whose ctx ended while it ran is %v; want finished, with what it returned", f.State())
	}
	s.checkCallError("SubmitContext whose ctx ended while it ran", err, context.Canceled.Error(),
		func(err error) bool { return errors.Is(err, context.Canceled) })
	s.expect(int64(s.workers)+1, 1, 2)
}

// checkGoContext: GoContext as SubmitContext for a call without an
// argument: the call's deadline, a ctx that had ended, and one that ends
// while the call is queued.
func checkGoContext(s *suite) {
	s.checkDeadline("GoContext", func(ctx context.Context) *futures.Future[int64] {
		return futures.GoContext(ctx, s.ex, deadlineNow)
	})
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	s.checkCancelledBy("GoContext with a ctx that had ended", futures.GoContext(ended, s.ex, deadlineNow), ended)
	if s.workers == 0 {
		s.expect(1, 0, 1)
		return
	}
	running := s.blockWorkers()
	ctx, cancel := context.WithCancel(context.Background())
	f := futures.GoContext(ctx, s.ex, answer)
	cancel()
	s.checkCancelledBy("GoContext whose ctx ended while it was queued", f, ctx)
	s.open()
	s.checkBlocked(running, nil)
	s.expect(int64(s.workers)+1, 0, 2)
}

// checkDeadline checks that the call submit makes with a ctx that has a
// deadline sees that deadline in its own context.
func (s *suite) checkDeadline(what string, submit func(ctx context.Context) *futures.Future[int64]) {
	s.t.Helper()
	want := time.Now().Add(patience).Round(time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), want)
	defer cancel()
	got, err := result(s, what+" with a deadline", submit(ctx))
	if err != nil {
		s.t.Errorf("%s with a deadline: Result() error %v; want the deadline the call saw", what, err)
		return
	}
	if d := time.Unix(0, got).Sub(want); d < -time.Millisecond || d > deadlineSlack {
		s.t.Errorf("%s: the call's context has the deadline %v, want %v: ctx's deadline is the call's, in a worker process too",
			what, time.Unix(0, got), want)
	}
}

// checkCancelledBy checks that f was cancelled, not run, because ctx ended.
func (s *suite) checkCancelledBy(what string, f futures.Awaitable, ctx context.Context) {
	s.t.Helper()
	select {
	case <-f.Done():
	case <-time.After(patience):
		s.t.Fatalf("%s: the future did not finish in %v", what, patience)
	}
	err := f.Err()
	if !errors.Is(err, futures.ErrCancelled) || !errors.Is(err, ctx.Err()) {
		s.t.Errorf("%s: error %v; want one matching futures.ErrCancelled and %v", what, err, ctx.Err())
	}
	if st, ok := f.(interface{ State() futures.State }); ok && st.State() != futures.Cancelled {
		s.t.Errorf("%s: state %v, want cancelled", what, st.State())
	}
}
