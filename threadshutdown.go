package futures

import (
	"context"
	"errors"
	"fmt"
)

// checkExitedLocked closes exited once the pool is shut down and has no
// worker left.
func (p *ThreadPool) checkExitedLocked() {
	if p.shutdown && len(p.all) == 0 && !p.isExited {
		p.isExited = true
		close(p.exited)
	}
}

// breakPool marks the pool broken by an Initializer's error: queued calls
// fail, idle workers exit and later calls are refused.
func (p *ThreadPool) breakPool(cause error) {
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return
	}
	p.broken = &brokenError{msg: fmt.Sprintf("futures: an Initializer of ThreadPool %q failed; the pool cannot run calls", p.name), cause: cause}
	p.closeInboxLocked()
	queued := p.queue.Drain()
	idle := p.idle
	p.idle = nil
	p.room.Broadcast()
	p.mu.Unlock()
	for _, w := range idle {
		close(w.ch)
	}
	// The callbacks run once every queued call has failed.
	var callbacks []func()
	p.failQueued(queued, p.broken, func(run func()) { callbacks = append(callbacks, run) })
	runLater(callbacks)
}

// failQueued fails the calls of es, taken out of the queue, with err, and
// passes the OnDone callbacks of their futures to later. Each is started
// first, so that no Cancel wins the race, and counted as failed before its
// future completes; one that does not start was cancelled or ended before,
// and is counted as dropLocked says.
func (p *ThreadPool) failQueued(es []entry, err error, later func(func())) {
	for _, e := range es {
		for _, t := range e.tasks() {
			p.mu.Lock()
			started := t.Start()
			if started {
				p.counts.endQueued(endFailed, 1)
				p.roomFreedLocked()
			} else {
				p.dropLocked(t)
			}
			p.mu.Unlock()
			if started {
				failLater(t, err, later)
			}
		}
	}
}

// failLater fails t, which is running, with err as failRunning does, and
// passes the OnDone callbacks of its future, if any, to later.
func failLater(t Task, err error, later func(func())) {
	if _, ok := t.(runningFailer); ok {
		failRunning(t, err)
	} else if lc, ok := t.(laterCompleter); ok {
		lc.CompleteLater(nil, err, later)
	} else {
		t.Complete(nil, err)
	}
}

// runLater runs the callbacks that failLater passed on, in order. A
// runtime.Goexit in one skips none of the others.
func runLater(callbacks []func()) { eachGuarded(callbacks, func(run func()) { run() }) }

// cancelQueued cancels the calls of es, taken out of the queue. A
// runtime.Goexit in an OnDone callback skips none of them.
func (p *ThreadPool) cancelQueued(es []entry) {
	cancel := func(t Task) {
		t.Cancel() // counted by noteCancelled, for the tasks of this package
		p.mu.Lock()
		p.dropLocked(t)
		p.mu.Unlock()
	}
	eachGuarded(es, func(e entry) { eachGuarded(e.tasks(), cancel) })
}

// Shutdown stops the pool from accepting calls (they then fail with
// ErrShutdown), then waits until every queued and running call has finished
// and every worker goroutine has exited, or until ctx ends. Python:
// shutdown(wait=True, cancel_futures).
//
// With CancelPending, queued calls are cancelled first. If ctx ends first,
// Shutdown fails every call still queued with an error matching
// ErrBrokenExecutor, cancels the context of every running call and fails its
// future likewise (the goroutine itself ends when the call returns), and
// returns ctx.Err(). It may be called any number of times.
//
// Called from one of the pool's own calls, which it could never wait for,
// Shutdown stops the pool from accepting calls and returns at once an error
// matching ErrDeadlock (Python raises RuntimeError there).
// On a nil pool it returns an error that says the executor is nil.
func (p *ThreadPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if p == nil {
		return errNilExecutor
	}
	if ctx == nil {
		return errors.New("futures: ThreadPool.Shutdown: the context is nil; use context.Background()")
	}
	cfg := ReadShutdownOptions(opts...)
	self := goid()
	p.mu.Lock()
	p.shutdown = true
	p.closeInboxLocked()
	inside := false
	for w := range p.all {
		inside = inside || w.gid.Load() == self
	}
	var cancelled []entry
	if cfg.CancelPending {
		cancelled = p.queue.Drain()
	}
	idle := p.idle
	p.idle = nil
	p.room.Broadcast()
	p.checkExitedLocked()
	p.mu.Unlock()
	for _, w := range idle {
		close(w.ch)
	}
	p.cancelQueued(cancelled)
	if inside {
		return errShutdownInside
	}
	select {
	case <-p.exited: // nothing left to wait for, whatever ctx says
		return nil
	default:
	}
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
	}
	p.abandon(ctx)
	return ctx.Err()
}

// errShutdownInside is returned by Shutdown called from one of the pool's own
// calls, which it cannot wait for.
var errShutdownInside = fmt.Errorf("%w: Shutdown was called from a call running on the same pool and cannot wait for that call; the pool stopped accepting calls and finishes the others: call Shutdown or Close from outside the pool to wait", ErrDeadlock)

// abandon ends every queued and running call because Shutdown's ctx ended.
func (p *ThreadPool) abandon(ctx context.Context) {
	p.abandonMu.Lock()
	p.mu.Lock()
	p.drainInboxLocked()
	queued := p.queue.Drain()
	var running []Task
	for w := range p.all {
		running = append(running, w.takeOverLocked()...)
	}
	p.mu.Unlock()
	// Fail the futures first, so that no call ends with its own reaction to
	// the cancellation instead; run their callbacks last, once every call
	// has failed and every context is cancelled, so that a callback that
	// waits, closes the pool or calls runtime.Goexit holds up none of that.
	cause := ctx.Err()
	var callbacks []func()
	later := func(run func()) { callbacks = append(callbacks, run) }
	p.failQueued(queued, &brokenError{msg: "futures: the pool was shut down before the call ran", cause: cause}, later)
	stopped := &brokenError{msg: "futures: Shutdown gave up waiting for the call and cancelled its context", cause: cause}
	for _, t := range running {
		failLater(t, stopped, later)
	}
	p.kill(&brokenError{msg: "futures: Shutdown gave up waiting", cause: cause})
	p.abandonMu.Unlock()
	runLater(callbacks)
}

// takeOverLocked returns the calls of w's entry whose outcome w has not
// counted yet, counted as failed: the caller fails them. w counts no more.
func (w *threadWorker) takeOverLocked() []Task {
	w.endedMu.Lock()
	defer w.endedMu.Unlock()
	if w.abandoned {
		return nil
	}
	w.abandoned = true
	ts := w.cur.tasks()
	ts = ts[min(w.counted-w.curBase, len(ts)):]
	w.ended.end(endFailed, int64(len(ts)))
	return ts
}

// Close shuts the pool down and waits for every queued and running call: it
// is Shutdown(context.Background()). It always returns nil, and may be
// called any number of times. Python: shutdown(wait=True), or leaving a
// with block.
func (p *ThreadPool) Close() error { return p.Shutdown(context.Background()) }
