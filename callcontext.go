package futures

import (
	"context"
	"errors"
)

// SubmitContext schedules fn(ctx', arg) on ex, where ctx' is derived from ctx,
// and returns its future at once. Python has no direct equivalent: it is
// executor.submit(fn, arg) with a way to cancel that one call.
//
// If ctx ends while the call is queued, the call never runs: its future is
// Cancelled at once (Result returns an error matching ErrCancelled, ctx.Err()
// and ctx's cause), the call frees its room in the queue and the pool's Stats
// count it Cancelled before anyone can see the future done. A call whose ctx
// has ended already, or ends as its turn comes, is not invoked either: its
// future fails with such an error. If ctx ends while the call runs, the call's
// context is cancelled, in a worker process too, and what the call returns
// decides the outcome. ctx's deadline is the call's deadline in a worker
// process as well; ctx's values do not cross into a worker process, as they
// cannot be encoded. The call's context is also cancelled when the executor
// is shut down with a deadline that passes.
//
// SubmitContext fails as Submit does, and besides if ctx is nil. With the
// QueueSize option it blocks while the queue is full, until ctx ends.
// Watching ctx costs a few allocations and a context.AfterFunc registration,
// dropped once the call starts or ends; on a ThreadPool the call's context
// is a new one derived from ctx.
func SubmitContext[A, R any](ctx context.Context, ex Executor, fn func(context.Context, A) (R, error), arg A) *Future[R] {
	c := &call[A, R]{fn: fn, arg: arg}
	if fn == nil {
		return c.fail(errors.New("futures: SubmitContext: the function is nil"))
	}
	return scheduleWith(ctx, "SubmitContext", ex, c, &c.task)
}

// GoContext schedules fn(ctx') on ex, where ctx' is derived from ctx, and
// returns its future at once: SubmitContext for a closure. Python has no
// direct equivalent: it is executor.submit(fn) with a way to cancel that one
// call. A process pool cannot run closures, so use SubmitContext with a
// registered function there. ctx governs the call and the function fails as
// with SubmitContext.
func GoContext[R any](ctx context.Context, ex Executor, fn func(context.Context) (R, error)) *Future[R] {
	c := &thunk[R]{fn: fn}
	if fn == nil {
		return c.fail(errors.New("futures: GoContext: the function is nil"))
	}
	return scheduleWith(ctx, "GoContext", ex, c, &c.task)
}

// scheduleWith schedules t, whose task is c, with ctx as its context, for
// the function named by what: c is cancelled at once if ctx has ended, and
// when it ends while c is still pending.
func scheduleWith[R any](ctx context.Context, what string, ex Executor, t Task, c *task[R]) *Future[R] {
	switch {
	case ctx == nil:
		return c.fail(errors.New("futures: " + what + ": the context is nil; use context.Background()"))
	case isNil(ex): // a nil pointer of any executor type too
		return c.fail(errNilExecutor)
	}
	w := &watch{ctx: ctx}
	c.w = w
	if ctx.Done() != nil {
		if ctx.Err() != nil {
			c.cancelEnded()
		} else {
			w.stop = context.AfterFunc(ctx, c.cancelEnded)
		}
	}
	f := schedule(ex, t, &c.Future)
	if f.isDone() {
		w.end()
	}
	return f
}

// carriesDeadline makes the call a deadlineCarrier: a call of SubmitContext
// or GoContext has its context's deadline in a worker process too.
func (t *task[R]) carriesDeadline() bool { return t.w != nil }

// cancelEnded cancels the future, if it is pending, because its context
// ended.
func (t *task[R]) cancelEnded() {
	var zero R
	t.complete(Cancelled, zero, notStartedError(t.w.ctx))
}

// watch is the context of a call of SubmitContext or GoContext, and what
// cancels the call when that context ends while it is pending. The call
// stops watching the context once it starts or ends.
type watch struct {
	ctx   context.Context
	stop  func() bool // stops watching ctx; nil if ctx never ends or ended already
	owner canceller   // the executor that owns the call, if any
}

// end stops watching the context.
func (w *watch) end() {
	if w.stop != nil {
		w.stop()
	}
}

// noteCancelled stops watching the context of the call just cancelled and
// tells the executor that owns it.
func (w *watch) noteCancelled() {
	w.end()
	w.owner.noteCancelled()
}
