package futures

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/ring"
)

// Awaitable is what AsCompleted and Wait need of a future: a channel closed
// when it is done and its error once done. Every *Future[T] is one, whatever
// its T, so futures of different result types can be waited on together as
// []Awaitable.
type Awaitable interface {
	// Done returns a channel that is closed once the future is done.
	Done() <-chan struct{}
	// Err returns the future's error once it is done, nil before that or on
	// success.
	Err() error
}

// closedChan is the Done channel of every future that finished before anyone
// asked for its channel, so that a future costs no channel unless one waits.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Future is the eventual result of one call: Python's
// concurrent.futures.Future, typed. Submit and Go create futures (Map yields
// its results without one per item); NewPromise creates one to complete by
// hand.
//
// All methods are safe for concurrent use. The zero Future is not usable.
type Future[T any] struct {
	state status // published under mu once done (see complete)

	mu        sync.Mutex
	done      chan struct{} // created on demand; closedChan once done
	listeners []listener[T] // OnDone callbacks and waiters, in order

	val T     // valid once Finished
	err error // valid once done

	owner canceller // told when the future is cancelled, if state is owned

	claimed atomic.Uint64 // the last unique() call that took this future
}

// setOwner makes o the executor told of the future's cancellation. It
// returns false, changing nothing, if the future is not pending. The
// executor calls it once, before anyone can start the future.
func (f *Future[T]) setOwner(o canceller) bool {
	f.owner = o
	if !f.state.own() {
		f.owner = nil
		return false
	}
	return true
}

// listener is what a future tells when it is done: an OnDone callback, or a
// waiter registered by AsCompleted or Wait, which gets key back.
type listener[T any] struct {
	fn  func(*Future[T])
	w   *waiter
	key int
}

// waiter collects the keys of registered futures as they finish. Notifying
// never blocks, however many futures are registered.
type waiter struct {
	mu     sync.Mutex
	keys   ring.Queue[int]
	signal chan struct{} // has a value when keys may be non-empty
}

func newWaiter() *waiter { return &waiter{signal: make(chan struct{}, 1)} }

// notify records that the future registered with key is done.
func (w *waiter) notify(key int) {
	w.mu.Lock()
	w.keys.Push(key)
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// next returns the key of the next future done, waiting for one if needed,
// or false if ctx ends first.
func (w *waiter) next(ctx context.Context) (int, bool) {
	for {
		w.mu.Lock()
		key, ok := w.keys.Pop()
		w.mu.Unlock()
		if ok {
			return key, true
		}
		select {
		case <-w.signal:
		case <-ctx.Done():
			return 0, false
		}
	}
}

func (f *Future[T]) claim(stamp uint64) bool {
	return f != nil && f.claimed.Swap(stamp) != stamp
}

func (f *Future[T]) watch(w *waiter, key int) bool {
	if f.isDone() {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isDone() {
		return false
	}
	f.listeners = append(f.listeners, listener[T]{w: w, key: key})
	return true
}

func (f *Future[T]) unwatch(w *waiter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listeners = slices.DeleteFunc(f.listeners, func(l listener[T]) bool { return l.w == w })
}

func (f *Future[T]) isDone() bool {
	return f.state.done()
}

// State returns the future's state now. A state other than Pending and
// Running never changes again. Python: running(), cancelled(), done().
func (f *Future[T]) State() State { return f.state.load() }

// Done returns a channel that is closed once the future is finished or
// cancelled. Python: done(), as a channel to select on.
func (f *Future[T]) Done() <-chan struct{} {
	if f.isDone() {
		return closedChan
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done == nil {
		f.done = make(chan struct{})
	}
	return f.done
}

// Err returns the future's error without blocking: nil while it is pending or
// running and on success; an error matching ErrCancelled if it was cancelled;
// the call's error otherwise. Python: exception(timeout=0), without raising.
func (f *Future[T]) Err() error {
	if !f.isDone() {
		return nil
	}
	return f.err
}

// Result waits until the future is done or ctx ends, whichever is first, and
// returns the call's result and error. Python: result(timeout).
//
// The call's own error is returned as it was, so errors.Is and errors.As see
// it; a panic in the call is returned as *PanicError. A cancelled future
// returns an error matching ErrCancelled.
//
// If ctx ends first, Result returns an error matching ErrTimeout and
// context.DeadlineExceeded when its deadline passed, or matching
// context.Canceled when it was cancelled, and leaves the future as it is: the
// call goes on.
//
// Result never hangs on a deadlock it can see: when ctx is the context a
// call running on a ThreadPool received, or one derived from it (with a
// deadline too), Result is called in that call's goroutine, and the future
// cannot finish before ctx ends because every worker of that pool is busy
// waiting, Result returns at once with an error matching ErrDeadlock. A wait
// of another call without a deadline counts as endless there, even if its
// context is cancelled later. Only
// Result is checked: Wait, AsCompleted and Map called inside a call, and a
// Submit blocked on its own pool's full QueueSize, wait without the check.
//
// On a done future Result returns at once and allocates nothing. On a
// running one it yields once to the scheduler, which often lets the call
// finish, before it blocks on the future's channel.
func (f *Future[T]) Result(ctx context.Context) (T, error) {
	if !f.isDone() {
		if ctx == nil {
			var zero T
			return zero, errNilContext
		}
		if err := f.wait(ctx); err != nil {
			var zero T
			return zero, err
		}
	}
	return f.val, f.err
}

// wait blocks until f is done or ctx ends.
func (f *Future[T]) wait(ctx context.Context) error {
	// A running call often ends within a turn of the scheduler: yield once
	// and look again before making a channel to block on. A round trip
	// then allocates no channel, and the worker wakes no one.
	if f.State() == Running {
		runtime.Gosched()
		if f.isDone() {
			return nil
		}
	}
	done := f.Done()
	if ctx.Done() == nil {
		<-done
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if cw, ok := ctx.Value(callWaiterKey{}).(callWaiter); ok {
		return cw.WaitIn(ctx, f, done)
	}
	return waitDone(ctx, done)
}

// waitDone blocks until done is closed or ctx ends.
func waitDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return stopError("stopped waiting for the result", ctx, nil)
	}
}

// Cancel cancels the call if it has not started: the future becomes
// Cancelled, its waiters wake and its callbacks run in the caller. It returns
// true if the future is cancelled now (it was pending, or already cancelled)
// and false if the call is running or finished; a running call is not
// interrupted. Python: cancel().
func (f *Future[T]) Cancel() bool {
	var zero T
	if f.complete(Cancelled, zero, ErrCancelled) {
		return true
	}
	return f.state.settled() == Cancelled
}

// OnDone arranges for fn to be called with the future once it is done. If it
// is done already, fn runs at once in the caller; otherwise it runs exactly
// once in the goroutine that completes the future, after the callbacks added
// before it. The callbacks of a future a ProcessPool completes run in a
// goroutine of the pool that runs callbacks one at a time, never in the one
// that reads results, so that no callback can stall the pool. A panic in fn
// is recovered and logged through log/slog; the other callbacks still run. A
// runtime.Goexit in fn (t.FailNow does that) is logged likewise: the other
// callbacks run before the goroutine exits. A nil fn is ignored. Python:
// add_done_callback(fn).
func (f *Future[T]) OnDone(fn func(*Future[T])) {
	if fn == nil {
		return
	}
	if !f.isDone() {
		f.mu.Lock()
		if !f.isDone() {
			f.listeners = append(f.listeners, listener[T]{fn: fn})
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
	}
	f.runCallbacks([]listener[T]{{fn: fn}})
}

// String returns a short description such as "Future[int](finished)".
func (f *Future[T]) String() string {
	var zero T
	return fmt.Sprintf("Future[%T](%v)", zero, f.State())
}

// runCallbacks runs the callbacks of ls in order, as runGuarded runs a call:
// a panic in one is logged and the next one runs; a runtime.Goexit in one
// is logged, the others run, then the goroutine goes on exiting.
func (f *Future[T]) runCallbacks(ls []listener[T]) {
	for i, l := range ls {
		if l.fn == nil {
			continue
		}
		runGuarded(func() (struct{}, error) { l.fn(f); return struct{}{}, nil }, nil, func(_ struct{}, err error) {
			if err == nil {
				return
			}
			attrs := []any{"future", f.String(), "error", err}
			if pe, ok := err.(*PanicError); ok {
				attrs = append(attrs, "stack", string(pe.Stack))
			}
			slog.Error("futures: a Future.OnDone callback did not return; the other callbacks still run", attrs...)
			if err == errGoexit {
				f.runCallbacks(ls[i+1:])
			}
		})
	}
}

// settled returns the future's state once no outcome is being written.
func (f *Future[T]) settled() State { return f.state.settled() }

// start moves a pending future to Running. It returns false if the future is
// not pending: cancelled, or already running or finished.
func (f *Future[T]) start() bool { return f.state.start() }

// complete moves a pending or running future to the final state to (Finished
// or Cancelled) with the given outcome, then wakes its waiters and runs its
// callbacks. It returns false, changing nothing, if the future was done
// already, or if to is Cancelled and the future is no longer pending.
func (f *Future[T]) complete(to State, v T, err error) bool {
	return f.completeThen(to, v, err, nil)
}

// completeThen is complete, except that, with later not nil, the callbacks
// are not run but passed to later, as a function that runs them.
//
// The outcome is written once begin grants it, and published under mu, so
// that Done, OnDone and watch, which look under mu, either see the future
// done or leave what they add to the completer.
func (f *Future[T]) completeThen(to State, v T, err error, later func(func())) bool {
	owned, ok := f.state.begin(to)
	if !ok {
		return false
	}
	f.val, f.err = v, err
	if owned {
		// Before the future shows done, so that whoever wakes on it sees
		// the cancellation counted.
		owner := f.owner
		f.owner = nil
		if to == Cancelled {
			owner.noteCancelled()
		}
	}
	f.mu.Lock()
	f.state.publish(to)
	if f.done == nil {
		f.done = closedChan
	} else {
		close(f.done)
	}
	listeners := f.listeners
	f.listeners = nil
	f.mu.Unlock()

	for _, l := range listeners {
		if l.w != nil {
			l.w.notify(l.key)
		}
	}
	if later != nil && slices.ContainsFunc(listeners, func(l listener[T]) bool { return l.fn != nil }) {
		later(func() { f.runCallbacks(listeners) })
		return true
	}
	f.runCallbacks(listeners)
	return true
}

// run calls body, which must not be nil, and completes the future with what
// it returns, as runGuarded does.
func (f *Future[T]) run(body func() (T, error), before func(error)) {
	runGuarded(body, before, func(v T, err error) { f.complete(Finished, v, err) })
}
