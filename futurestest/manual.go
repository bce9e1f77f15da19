package futurestest

import (
	"context"
	"fmt"

	"github.com/gofutures/futures"
)

// Manual is a futures.Executor that queues every call until the test runs it:
// RunNext runs the oldest, RunAll runs them all, and Queued hands out the
// queued calls so that a test can run, fail or cancel chosen ones. Between
// those steps the test sees the code under test with its work queued and
// nothing running. Calls run in the goroutine that runs them.
//
// Code that waits for results (Future.Result, Map) blocks until the test runs
// the calls, so drive it from another goroutine, or inside a testing/synctest
// bubble with synctest.Wait; WaitPending waits until such code has queued its
// calls. A Manual used in a bubble must be created in it.
//
// A call that waits for the result of another call queued on the same Manual
// waits until the test runs that call from another goroutine: unlike a
// ThreadPool, a Manual does not report that wait as futures.ErrDeadlock.
//
// Create one with NewManual; all methods are safe for concurrent use.
type Manual struct {
	calls
}

// NewManual returns a Manual executor with nothing queued.
func NewManual() *Manual {
	return &Manual{calls{name: "Manual"}}
}

// Execute queues t and returns nil; it never blocks. It returns
// futures.ErrShutdown after Shutdown or Close, and an error for a nil t,
// without queuing anything.
func (m *Manual) Execute(t futures.Task) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.refuseLocked(t); err != nil {
		return err
	}
	m.queue = append(m.queue, &Call{m: m, t: t})
	m.signalLocked()
	return nil
}

// Pending returns how many calls are queued; calls whose futures were
// cancelled while queued are not counted (and will not run).
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked()
	return len(m.queue)
}

// Queued returns the queued calls, oldest first, for the test to inspect
// (Call.Arg) and to run, fail or cancel one by one.
func (m *Manual) Queued() []*Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked()
	return append([]*Call(nil), m.queue...)
}

// RunNext takes the oldest queued call, runs it in the caller's goroutine,
// and returns true once it has returned; it returns false if no call is
// queued. Calls cancelled while queued are dropped, not run, and a call
// whose caller's context (Map's) is done already is cancelled. The call's
// context is derived from its caller's and is cancelled if a Shutdown gives
// up waiting for it.
func (m *Manual) RunNext() bool {
	m.mu.Lock()
	m.pruneLocked()
	if len(m.queue) == 0 {
		m.mu.Unlock()
		return false
	}
	c := m.queue[0]
	m.queue[0] = nil
	m.queue = m.queue[1:]
	ctx := m.startLocked(c)
	m.mu.Unlock()
	m.run(c, ctx)
	return true
}

// RunAll runs queued calls, oldest first, until none is left, including the
// calls that those calls queue, and returns how many it ran. Code that keeps
// queueing calls forever makes it run forever.
func (m *Manual) RunAll() int {
	n := 0
	for m.RunNext() {
		n++
	}
	return n
}

// WaitPending waits until at least n calls are queued, for a test whose code
// under test submits from another goroutine. If ctx ends first, it returns an
// error saying how many were queued, matching ctx.Err(). Inside a
// testing/synctest bubble, synctest.Wait does the same without a count.
func (m *Manual) WaitPending(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		m.pruneLocked()
		have := len(m.queue)
		changed := m.changedLocked()
		m.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("futures: Manual.WaitPending: %d of the %d calls awaited were queued when the context ended; does the code under test submit them?: %w", have, n, ctx.Err())
		}
	}
}

// Shutdown stops the Manual from accepting calls (Execute then returns
// futures.ErrShutdown) and waits until every queued call has been run,
// failed or cancelled by the test and every running call has returned, or
// until ctx ends. Python: shutdown(wait=True, cancel_futures).
//
// With futures.CancelPending it first cancels every queued call. If ctx ends
// first, the futures of the calls still queued or running fail with an error
// matching futures.ErrBrokenExecutor, the contexts of the running calls are
// cancelled with that error as the cause, and Shutdown returns ctx.Err(). It
// returns an error for a nil ctx. It may be called any number of times.
func (m *Manual) Shutdown(ctx context.Context, opts ...futures.ShutdownOption) error {
	return m.shutdown(ctx, opts)
}

// Close is Shutdown(context.Background()): it waits until the test has run
// every queued call, and returns nil. Calling it again is harmless.
func (m *Manual) Close() error { return m.Shutdown(context.Background()) }

// Refusal returns futures.ErrShutdown after Shutdown or Close and nil
// before: the error Execute would return now for any call. It makes Manual a
// futures.Refuser, so that Map over an empty input after Shutdown yields
// that error, as on the pools.
func (m *Manual) Refusal(fn any) error { return m.refusal() }

// Call is one call queued on a Manual, from Manual.Queued. Its methods act on
// the call only while it is still queued.
type Call struct {
	m      *Manual // nil for a call of Inline
	t      futures.Task
	cancel context.CancelCauseFunc // set once the call starts
}

// Arg returns the argument the call was submitted with, and false for a call
// from futures.Go, which has none.
func (c *Call) Arg() (any, bool) { return c.t.Arg() }

// Func returns the function of the call: a func(context.Context, A) (R,
// error) from Submit and Map, a func(context.Context) (R, error) from Go.
func (c *Call) Func() any { return c.t.Func() }

// Run runs the call in the caller's goroutine, as RunNext does for the oldest,
// and returns true once it has returned. It returns false, running nothing,
// if the call is no longer queued: run, failed, cancelled, or ended by
// Shutdown. A call whose context has ended is cancelled instead of run.
func (c *Call) Run() bool {
	m := c.m
	m.mu.Lock()
	if c.done() || !m.removeLocked(c) {
		m.mu.Unlock()
		return false
	}
	ctx := m.startLocked(c)
	m.mu.Unlock()
	m.run(c, ctx)
	return true
}

// Fail takes the call out of the queue without running it and finishes its
// future with err, as if the call had returned it; a nil err finishes it with
// the zero value, as Promise.SetError does. It returns false, doing nothing,
// if the call is no longer queued.
func (c *Call) Fail(err error) bool {
	if !c.take() {
		return false
	}
	return c.t.Complete(nil, err)
}

// Cancel takes the call out of the queue and cancels its future, as
// Future.Cancel does. It returns false, doing nothing, if the call is no
// longer queued.
func (c *Call) Cancel() bool {
	if !c.take() {
		return false
	}
	return c.t.Cancel()
}

// take removes the call from its Manual's queue and reports whether it was
// queued and still pending.
func (c *Call) take() bool {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return !c.done() && c.m.removeLocked(c)
}

// done reports whether the call's future is done.
func (c *Call) done() bool {
	select {
	case <-c.t.Done():
		return true
	default:
		return false
	}
}
