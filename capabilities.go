package futures

import (
	"context"

	"github.com/gofutures/futures/internal/mpsc"
	"github.com/gofutures/futures/internal/remote"
)

// Capabilities: the optional methods an executor, a task or a future may
// have beyond Executor, BatchExecutor, Task and Awaitable. Submit, Go, Map,
// Wait, AsCompleted and Future learn what an executor can do only through
// the interfaces of this file, never by naming a concrete executor; an
// executor without one of them gets the behaviour documented with it.
//
// The exported ones are for executors of any package:
//
//   - WorkerCounter (MaxWorkers): Map's default Buffer;
//   - MapBufferer (MapBuffer): Map's default Buffer, ahead of WorkerCounter;
//   - Refuser (Refusal): Map's error over an empty input;
//   - TaskForgetter (ForgetsFinishedTasks): Map reuses the items of calls
//     that succeeded.
//
// The unexported ones are kept between the futures, tasks and executors of
// this package, whose internals they expose:
//
//   - callWaiter, in a call's context: the deadlock check of Future.Result;
//   - canceller (noteCancelled), of an executor: exact Stats on Cancel;
//   - ownedTask, laterCompleter, inboxTask, runningFailer, argEncoder,
//     chunkEncoder, funcKeyer and resultDecoder, of a task: the fast paths
//     and exact counts of this package's pools (the ProcessPool's machinery,
//     in internal/procpool, asks them through poolTasks);
//   - deadlineCarrier, of a task: the deadline of a call in a worker process;
//   - watchable, doneChecker and stateReporter, of a future: waiting
//     without a goroutine per future, the deadlock check, and FirstError.

// WorkerCounter is an Executor that runs a bounded number of calls at once,
// as ThreadPool and ProcessPool do. Map, without a Buffer option and without
// MapBufferer, keeps sixteen chunks per worker in flight; without either
// method it uses runtime.GOMAXPROCS(0) as the number of workers.
type WorkerCounter interface {
	// MaxWorkers returns the most calls the executor runs at once; zero or
	// less means it does not say.
	MaxWorkers() int
}

// MapBufferer is an Executor that chooses Map's default Buffer itself, as
// ProcessPool does to batch small calls. Map calls MapBuffer once per loop
// without a Buffer option; a result below 1 falls back to WorkerCounter.
type MapBufferer interface {
	// MapBuffer returns how many chunks of chunksize items Map keeps in
	// flight by default.
	MapBuffer(chunksize int) int
}

// Refuser is an Executor that can tell, without being handed a call,
// whether it would refuse one, as ThreadPool and ProcessPool can. Map over
// an empty input yields that refusal as its one error, as it yields the
// refusal of the first call of a longer input; on an executor without
// Refusal it yields nothing.
type Refuser interface {
	// Refusal returns the error Execute would return now for a call of fn,
	// such as ErrShutdown, or nil if it would accept one.
	Refusal(fn any) error
}

// TaskForgetter is an Executor that calls no method of a task once the
// task's call has finished without an error, and keeps no reference to it
// through which it would, as ThreadPool, ProcessPool and the cluster pool
// do: it completes each task at most once, and never fails a task that may
// have finished already (the pools of this package fail a running Map item
// so only through a path that leaves a finished item as it is). Map then
// reuses the item of a call that succeeded for a later input once its
// whole slab has been yielded, so that a long Map allocates nothing per
// item. On another executor Map allocates new items as it goes.
type TaskForgetter interface {
	// ForgetsFinishedTasks reports whether ex, the executor Map was given,
	// is the executor itself rather than a type that embeds it, which may
	// touch the tasks in ways of its own; Map reuses items only then.
	ForgetsFinishedTasks(ex Executor) bool
}

// callWaiterKey is the context key of the callWaiter of the call that
// received the context.
type callWaiterKey struct{}

// callWaiter is put by an executor in the context of each call it runs, and
// inherited by every context derived from it: the ThreadPool's worker (see
// internal/threads/deadlock.go), which is why its method is exported.
// Future.Result, about to block with such a context, waits through it, so
// that the executor can see a wait that can never end; with no callWaiter
// in the context, Result just waits.
type callWaiter interface {
	// WaitIn blocks until done, the Done channel of future f, is closed or
	// ctx ends, as Future.Result does; it returns an ErrDeadlock error
	// instead if that wait could only end with ctx.
	WaitIn(ctx context.Context, f any, done <-chan struct{}) error
}

// canceller is implemented by ThreadPool and ProcessPool, and registered
// with a task through ownedTask.setOwner when the pool queues it. The
// future (or the Map item) calls noteCancelled once when it is cancelled
// while pending, before its waiters and callbacks learn of it, so that the
// pool's Stats count the cancellation the moment Cancel returns. A task
// without an owner just cancels; its executor finds out when it dequeues it.
type canceller interface {
	noteCancelled()
}

// ownedTask is implemented by the tasks of this package (Submit's, Go's and
// Map's), for the pools of this package, which keep their counters exact
// through it. A task from another package is counted when the pool sees its
// outcome, and run through Task.Run.
type ownedTask interface {
	// future returns the future the task completes, as the identity the
	// deadlock check compares.
	future() any
	// setOwner registers the executor to tell when the future is cancelled;
	// it returns false if the future is not pending.
	setOwner(o canceller) bool
	// runThen is Run, calling before with the call's error just before the
	// future completes.
	runThen(ctx context.Context, before func(error))
	// settled returns the state once no outcome is being written, as State
	// would return it next.
	settled() State
}

// ownBy makes o the owner of t, for the machinery of both pools: owned is
// false for a task that takes no owner, pending false if t is not pending
// any more.
func ownBy(t Task, o canceller) (owned, pending bool) {
	ot, ok := t.(ownedTask)
	return ok, !ok || ot.setOwner(o)
}

// laterCompleter is implemented by the tasks of this package: CompleteLater
// is Complete, except that, with later not nil, the OnDone callbacks of the
// future are passed to later to run instead of being run in the caller. A
// task that implements it runs no other code of its user when it completes.
// The ProcessPool and the cluster pool call it (through internal/remote)
// from the goroutines that read results; a task without it is completed in
// the pool's callback goroutine instead.
type laterCompleter = remote.LaterCompleter

// inboxTask is implemented by the calls of Submit and Go, which carry their
// link in a ThreadPool's inbox: the ThreadPool's Execute queues them without
// taking its lock while every worker is busy. Other tasks go through the
// lock.
type inboxTask interface {
	inboxLink() *mpsc.Node[Task]
}

// deadlineCarrier is implemented by the tasks of this package. A ProcessPool
// sends the deadline of a task's context to the worker process as the
// call's deadline there if carriesDeadline returns true: for the calls of
// SubmitContext and GoContext, not Map's items, whose Map reports its own
// deadline and stops its calls itself when it passes.
type deadlineCarrier interface {
	carriesDeadline() bool
}

// argEncoder is implemented by the tasks of this package whose function
// takes an argument (Submit's and Map's): the ProcessPool and the cluster
// pool encode the argument through it (internal/remote) without boxing it.
// Other tasks' arguments are encoded from Task.Arg.
type argEncoder = remote.ArgEncoder

// chunkEncoder is implemented by Map's items: encodeChunk encodes the
// arguments of ts back to back, recording where each ends in ends, if every
// task of ts is an item of the same Map and every argument can be encoded.
// The ProcessPool's ExecuteBatch sends such a chunk as one run; other
// chunks, and a chunk encodeChunk declines, are encoded call by call.
type chunkEncoder interface {
	encodeChunk(ts []Task, c Codec, ends []int) ([]byte, bool)
}

// funcKeyer is implemented by tasks that share their function with others
// (Map's items): tasks with the same funcKey have the same function, so the
// ProcessPool looks the registration of a Map's function up once. Other
// tasks are looked up one by one.
type funcKeyer interface {
	funcKey() any
}

// resultDecoder is implemented by the tasks of this package that decode a
// result themselves (Map's items): CompleteFrom decodes data and completes
// the task with it, or returns the error decoding gave, leaving the task as
// it is. The ProcessPool and the cluster pool (through internal/remote)
// decode the results of other tasks into Task.NewResult and complete them
// with Task.Complete.
type resultDecoder = remote.ResultDecoder

// runningFailer is implemented by Map's items: failRunning fails the item
// with err only if it is still running. Executors of this package call it
// through failRunning on a call they may have finished already, since Map
// reuses the item of a call that succeeded for a later input. Other tasks
// get Task.Complete, which refuses a second outcome.
type runningFailer interface {
	failRunning(err error)
}

// watchable is implemented by *Future[T] for every T: it lets AsCompleted,
// Wait and Map learn of completions without a goroutine per future. An
// Awaitable without it is watched through its Done channel.
type watchable interface {
	// watch registers w to get key once the future is done. It returns false,
	// registering nothing, if the future is done already.
	watch(w *waiter, key int) bool
	// unwatch removes the registration of w, if any.
	unwatch(w *waiter)
	// claim returns true the first time it is called with stamp, false
	// after that and on a nil future.
	claim(stamp uint64) bool
}

// doneChecker is implemented by *Future[T] for every T and by Map's items:
// the deadlock check never counts a done one as stuck.
type doneChecker interface{ isDone() bool }

// stateReporter is an Awaitable with a State method, as *Future[T] and
// Task are: Wait's FirstError does not count a cancelled one as failed,
// whatever its error. For another Awaitable, an error matching ErrCancelled
// marks a cancellation.
type stateReporter interface{ State() State }
