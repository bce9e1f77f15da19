package futures

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gofutures/futures/internal/mpsc"
	"github.com/gofutures/futures/internal/value"
)

// Executor runs calls and gives back futures: Python's
// concurrent.futures.Executor. ThreadPool and ProcessPool implement it; so
// can any other package (a remote executor, a fake in a test): Submit, Go and
// Map drive an Executor only through these methods and the Task interface.
type Executor interface {
	// Execute schedules t to run. It returns nil once t is queued or
	// running; from then on the executor must eventually either run t (call
	// t.Start, then t.Run or, for a call run elsewhere, t.Complete) or end it
	// (t.Cancel or t.Complete with an error), so that its future finishes.
	//
	// It returns an error, and must not touch t, if it refuses the call:
	// ErrShutdown after Shutdown, an ErrBrokenExecutor error when broken, an
	// ErrNotRegistered error for a function it cannot run. Submit and Go turn
	// that error into an already failed future; Map yields it once and stops.
	//
	// Execute may block while the executor's queue is full; it then returns
	// an error matching t.Context().Err() if that context ends first.
	Execute(t Task) error

	// Shutdown stops the executor from accepting calls, then waits for
	// queued and running calls to finish or for ctx to end, whichever is
	// first. Python: shutdown(wait=True, cancel_futures=...).
	//
	// With CancelPending it first cancels every queued call. If ctx ends
	// first, it stops the calls still queued or running (their contexts are
	// cancelled and their futures fail with an error matching
	// ErrBrokenExecutor) and returns ctx.Err(). Calling it again waits again.
	Shutdown(ctx context.Context, opts ...ShutdownOption) error

	// Close is Shutdown(context.Background()): it waits for every queued and
	// running call. It makes an Executor an io.Closer; `go ex.Close()` is
	// Python's shutdown(wait=False). Calling it again is harmless.
	Close() error
}

// BatchExecutor is an Executor that can take several calls at once. Map hands
// each chunk of Chunksize items to ExecuteBatch when the executor has it: a
// process pool sends the chunk to a worker in one message, a goroutine pool
// runs it in one worker. Executors without it get the calls one by one.
type BatchExecutor interface {
	Executor
	// ExecuteBatch schedules every task of ts, as Execute does for one; it
	// accepts all of them or refuses all of them. It may keep ts until the
	// tasks are done: the caller must not change it afterwards.
	ExecuteBatch(ts []Task) error
}

// Task is one call handed to an Executor: a function, its argument and the
// future to complete. Submit, Go and Map create tasks; executors run them.
//
// An executor that runs calls in this process calls Start, then Run. One that
// runs them elsewhere reads Func and Arg, calls Start when it hands the call
// over, and reports the outcome with Complete.
type Task interface {
	// Context is the context of whoever made the call: Map's, the ctx of
	// SubmitContext and GoContext, or context.Background() for Submit and
	// Go. The call's own context must be
	// derived from it, and an executor blocked on a full queue stops waiting
	// when it ends.
	Context() context.Context

	// Func returns the function to call: a func(context.Context, A) (R,
	// error) for Submit and Map, a func(context.Context) (R, error) for Go.
	Func() any

	// Arg returns the argument of the call, and false for a call without one
	// (from Go).
	Arg() (any, bool)

	// Start moves the future from Pending to Running and returns true. It
	// returns false if the future is not pending, most often because it was
	// cancelled: the executor must then drop the task.
	Start() bool

	// Run calls the function with ctx in the calling goroutine and completes
	// the future with what it returns. A panic becomes a *PanicError; a
	// runtime.Goexit completes the future, then exits the goroutine.
	Run(ctx context.Context)

	// Cancel cancels the future if it is still pending, as Future.Cancel.
	Cancel() bool

	// NewResult returns a pointer to a new zero result value (a *R), for an
	// executor to decode a result computed elsewhere into.
	NewResult() any

	// Complete finishes the future with err if it is not nil, otherwise with
	// the value result points to (a *R from NewResult, or nil for the zero
	// value). It returns false, doing nothing, if the future is done already:
	// the first outcome wins.
	Complete(result any, err error) bool

	// State returns the state of the future, as Future.State: an executor
	// can skip a task whose future was cancelled while it waited.
	State() State

	// Done and Err observe the future, as Future.Done and Future.Err.
	Awaitable
}

// ShutdownOption changes what Shutdown does.
type ShutdownOption struct {
	cancelPending bool
}

// CancelPending makes Shutdown cancel every call that has not started before
// it waits for the running ones. Python: shutdown(cancel_futures=True).
func CancelPending() ShutdownOption { return ShutdownOption{cancelPending: true} }

// ShutdownConfig is what a list of ShutdownOptions asks for, for executors
// implemented outside this package.
type ShutdownConfig struct {
	// CancelPending is set by the CancelPending option.
	CancelPending bool
}

// ReadShutdownOptions returns what opts ask for.
func ReadShutdownOptions(opts ...ShutdownOption) ShutdownConfig {
	var c ShutdownConfig
	for _, o := range opts {
		c.CancelPending = c.CancelPending || o.cancelPending
	}
	return c
}

// Submit schedules fn(ctx, arg) on ex and returns its future at once: Python's
// executor.submit(fn, arg). fn receives a context that is cancelled if the
// executor is shut down with a deadline that passes.
//
// Submit does not return an error: if the call cannot be scheduled (ex is
// shut down or broken, fn or ex is nil, fn cannot be sent to a worker
// process) the future is already finished with that error. With the QueueSize
// option, Submit blocks while the queue is full.
//
// On a ThreadPool, Submit costs about 0.1-0.2 µs and one allocation of 160 B
// per call when calls are submitted in a batch and collected afterwards, also
// from 64 goroutines at once, and a pending call holds about 170 B;
// submitting one call and waiting for it takes about 0.4-0.5 µs and one
// allocation (bench/README.md has the figures and how they were measured).
func Submit[A, R any](ex Executor, fn func(context.Context, A) (R, error), arg A) *Future[R] {
	c := &call[A, R]{fn: fn, arg: arg}
	if fn == nil {
		return c.fail(errors.New("futures: Submit: the function is nil"))
	}
	return schedule(ex, c, &c.Future)
}

// Go schedules fn(ctx) on ex and returns its future at once: Python's
// executor.submit(fn) with a closure. It fails as Submit does; a process pool
// cannot run closures, so use Submit with a registered function there. It
// costs what Submit costs.
func Go[R any](ex Executor, fn func(context.Context) (R, error)) *Future[R] {
	c := &thunk[R]{fn: fn}
	if fn == nil {
		return c.fail(errors.New("futures: Go: the function is nil"))
	}
	return schedule(ex, c, &c.Future)
}

func schedule[R any](ex Executor, t Task, f *Future[R]) *Future[R] {
	if isNil(ex) { // a nil pointer of any executor type too
		return f.fail(errNilExecutor)
	}
	if err := ex.Execute(t); err != nil {
		return f.fail(err)
	}
	return f
}

var errNilExecutor = errors.New("futures: the Executor is nil; create one with NewThreadPool or NewProcessPool")

// fail finishes a pending future with err and returns it.
func (f *Future[T]) fail(err error) *Future[T] {
	var zero T
	f.complete(Finished, zero, err)
	return f
}

// task holds the Task methods that do not depend on the function's shape.
type task[R any] struct {
	Future[R]
	w    *watch          // the context of SubmitContext and GoContext; nil means context.Background()
	link mpsc.Node[Task] // in a ThreadPool's inbox
}

func (t *task[R]) inboxLink() *mpsc.Node[Task] { return &t.link }
func (t *task[R]) future() any                 { return &t.Future }

func (t *task[R]) Context() context.Context {
	if t.w == nil {
		return context.Background()
	}
	return t.w.ctx
}

func (t *task[R]) Start() bool {
	ok := t.start()
	if t.w != nil {
		t.w.end()
	}
	return ok
}

func (t *task[R]) Cancel() bool {
	ok := t.Future.Cancel()
	if t.w != nil {
		t.w.end()
	}
	return ok
}

// setOwner is Future.setOwner; a call with its own context is told of its
// cancellation first, to stop watching the context.
func (t *task[R]) setOwner(o canceller) bool {
	if t.w == nil {
		return t.Future.setOwner(o)
	}
	t.w.owner = o
	return t.Future.setOwner(t.w)
}

func (t *task[R]) NewResult() any { return new(R) }

func (t *task[R]) Complete(result any, err error) bool { return t.CompleteLater(result, err, nil) }

// CompleteLater is Complete, except that, with later not nil, the future's
// OnDone callbacks are passed to later to run instead of being run.
func (t *task[R]) CompleteLater(result any, err error, later func(func())) bool {
	if t.w != nil {
		t.w.end()
	}
	var v R
	p, err := completion[R](result, err)
	if p != nil {
		v = *p
	}
	return t.completeThen(Finished, v, err, later)
}

// completion is the outcome of a call that Task.Complete was given: the
// value result points to (nil for the zero value) and err, or an error
// saying that result is not the *R of NewResult.
func completion[R any](result any, err error) (*R, error) {
	if err != nil || result == nil {
		return nil, err
	}
	p, ok := result.(*R)
	if !ok {
		return nil, errors.New("futures: Task.Complete: the result is not the *R that NewResult returned")
	}
	return p, nil
}

// call is the Task of Submit and Map: fn(ctx, arg).
type call[A, R any] struct {
	task[R]
	fn  func(context.Context, A) (R, error)
	arg A
}

func (c *call[A, R]) Func() any        { return c.fn }
func (c *call[A, R]) Arg() (any, bool) { return c.arg, true }

// AppendArg appends the encoded argument to dst without boxing it.
func (c *call[A, R]) AppendArg(dst []byte, cd value.Codec) ([]byte, error) {
	return value.AppendOf(dst, cd, &c.arg)
}

// ArgBytes returns the argument if it is a []byte, without boxing it, so
// that a large one is written to a worker process from where it is.
func (c *call[A, R]) ArgBytes() ([]byte, bool) {
	p, ok := any(&c.arg).(*[]byte) // a pointer: no allocation
	if !ok {
		return nil, false
	}
	return *p, true
}

func (c *call[A, R]) Run(ctx context.Context) { c.runThen(ctx, nil) }

func (c *call[A, R]) runThen(ctx context.Context, before func(error)) {
	c.run(func() (R, error) { return c.fn(ctx, c.arg) }, before)
}

// thunk is the Task of Go: fn(ctx).
type thunk[R any] struct {
	task[R]
	fn func(context.Context) (R, error)
}

func (c *thunk[R]) Func() any        { return c.fn }
func (c *thunk[R]) Arg() (any, bool) { return nil, false }

func (c *thunk[R]) Run(ctx context.Context) { c.runThen(ctx, nil) }

func (c *thunk[R]) runThen(ctx context.Context, before func(error)) {
	c.run(func() (R, error) { return c.fn(ctx) }, before)
}

// executeFew is ExecuteBatch of the pool ex, named pool, for what is not a
// chunk: it refuses ts if one of its Tasks is nil, accepts an empty ts and
// executes a single Task alone.
func executeFew(ex Executor, pool string, ts []Task) error {
	if slices.Contains(ts, nil) {
		return fmt.Errorf("futures: %s.ExecuteBatch: a Task is nil", pool)
	}
	if len(ts) == 1 {
		return ex.Execute(ts[0])
	}
	return nil
}

// waitRoom waits on room, whose lock the caller holds, until check, called
// with the lock held, returns an error (why the pool refuses the calls) or
// that the calls fit in the queue of QueueSize. It returns check's error,
// nil, or, once ctx ends, an error matching ErrCancelled and ctx's that
// names pool.
func waitRoom(ctx context.Context, room *sync.Cond, pool string, check func() (bool, error)) error {
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		if fit, err := check(); fit || err != nil {
			return err
		}
		if ctx.Err() != nil {
			return stopError("gave up waiting for room in the "+pool+"'s queue", ctx, ErrCancelled)
		}
		if stop == nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, func() {
				room.L.Lock()
				room.Broadcast()
				room.L.Unlock()
			})
		}
		room.Wait()
	}
}
