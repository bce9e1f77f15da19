package futures

import (
	"context"
	"fmt"

	"github.com/gofutures/futures/internal/counts"
)

// threadTasks is how a ThreadPool's threads.Pool handles Tasks: through the
// optional methods of capabilities.go, for the fast paths and exact counts
// of this package's tasks, and through Task for the others.
type threadTasks struct{ p *ThreadPool }

func (tt threadTasks) Own(t Task) (owned, pending bool) { return ownBy(t, tt.p) }

func (threadTasks) Future(t Task) any {
	if o, ok := t.(ownedTask); ok {
		return o.future()
	}
	return nil
}

func (threadTasks) IsDone(f any) bool {
	d, ok := f.(doneChecker)
	return ok && d.isDone()
}

func (threadTasks) Ending(t Task) counts.Ending { return endOf(t) }

func (threadTasks) Run(t Task, ctx context.Context, before func(error)) {
	if o, ok := t.(ownedTask); ok {
		o.runThen(ctx, before)
		return
	}
	t.Run(ctx)
	before(t.Err())
}

// Fail fails t, which is running, with err as failRunning does, and passes
// the OnDone callbacks of its future, if any, to later unless later is nil.
func (threadTasks) Fail(t Task, err error, later func(func())) {
	if _, ok := t.(runningFailer); ok {
		failRunning(t, err)
	} else if lc, ok := t.(laterCompleter); ok {
		lc.CompleteLater(nil, err, later)
	} else {
		t.Complete(nil, err)
	}
}

// threadErrors makes the errors of a ThreadPool's threads.Pool: those it
// shares with the ProcessPool's, and its own.
type threadErrors struct{ poolErrors }

// errShutdownInside is returned by Shutdown called from one of the pool's own
// calls, which it cannot wait for.
var errShutdownInside = fmt.Errorf("%w: Shutdown was called from a call running on the same pool and cannot wait for that call; the pool stopped accepting calls and finishes the others: call Shutdown or Close from outside the pool to wait", ErrDeadlock)

func (threadErrors) ShutdownInside() error                { return errShutdownInside }
func (threadErrors) NotStarted(ctx context.Context) error { return notStartedError(ctx) }
func (threadErrors) Deadlock(chain string) error          { return &deadlockError{chain: chain} }
