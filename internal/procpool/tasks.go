package procpool

import (
	"context"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/value"
)

// Tasks is what a Pool does with its tasks, values of T (package futures'
// Task), which package futures implements: a task there may have optional
// methods, for exact counts and fast paths, that this package cannot name.
// A Pool calls the methods that complete a task without its lock held. It
// encodes the arguments of tasks and completes them with their results
// through internal/remote, as other executors of registered calls do.
type Tasks[T any] interface {
	// Context returns the context of whoever made the call.
	Context(t T) context.Context
	// Func returns the function to call, a registered one.
	Func(t T) any
	// FuncKey returns a key that tasks with the same function share, and
	// false for a task without one, whose function is looked up alone.
	FuncKey(t T) (key any, ok bool)
	// EncodeChunk encodes the arguments of ts back to back, and returns
	// them with where each ends, if it can do so at once: it declines
	// unless the tasks share their function (the items of one Map) and
	// every argument can be encoded.
	EncodeChunk(ts []T, c value.Codec) (args []byte, ends []int, ok bool)
	// CarriesDeadline reports whether the deadline of t's context is the
	// deadline of the call in the worker.
	CarriesDeadline(t T) bool
	// Own makes the pool the owner of t, if t can have one (Owned): t
	// tells its owner (Pool.NoteCancelled) when it is cancelled while
	// pending. owned is false for a task that takes no owner, whose end
	// the pool counts when it sees it; pending is false if t is not
	// pending any more.
	Own(t T) (owned, pending bool)
	// Owned reports whether t can have an owner.
	Owned(t T) bool
	// Start moves t to Running; it returns false if t is not pending.
	Start(t T) bool
	// Ending returns how t, which ended without running, ended.
	Ending(t T) counts.Ending
	// Cancel cancels t if it is pending.
	Cancel(t T)
	// Fail completes t with err, in the calling goroutine.
	Fail(t T, err error)
}

// Errors makes the errors of package futures that a Pool returns and fails
// calls with.
type Errors interface {
	// Shutdown is the error of a call made after Stop.
	Shutdown() error
	// Broken returns an error saying msg that matches ErrBrokenExecutor
	// and cause.
	Broken(msg string, cause error) error
	// Timeout is the error of a call of fn that overran TaskTimeout,
	// limit.
	Timeout(fn, limit string) error
	// Exited is the error of a call whose worker process ended as e says.
	Exited(e Exit) error
}

// Exit is how a worker process ended, for the errors of its calls.
type Exit struct {
	PID      int
	ExitCode int    // -1 if a signal killed it
	Signal   string // the signal that killed it, or ""
	Stderr   string // the end of its standard error
	Reason   string // why the pool killed it, if it did
	During   string // what it was doing, if not running the call
	Then     string // what the pool did about it
}
