package threads

import (
	"context"
	"fmt"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/goroutine"
	"github.com/gofutures/futures/internal/guard"
)

// checkExitedLocked closes exited once the pool is shut down and has no
// worker left.
func (p *Pool[T]) checkExitedLocked() {
	if p.shutdown && len(p.all) == 0 && !p.isExited {
		p.isExited = true
		close(p.exited)
	}
}

// breakPool marks the pool broken by an Initializer's error: queued calls
// fail, idle workers exit and later calls are refused.
func (p *Pool[T]) breakPool(cause error) {
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return
	}
	p.broken = p.errs.Broken(fmt.Sprintf("futures: an Initializer of ThreadPool %q failed; the pool cannot run calls", p.name), cause)
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
func (p *Pool[T]) failQueued(es []entry[T], err error, later func(func())) {
	for _, e := range es {
		for _, t := range e.tasks() {
			p.mu.Lock()
			started := t.Start()
			if started {
				p.counts.EndQueued(counts.Failed, 1)
				p.roomFreedLocked()
			} else {
				p.dropLocked(t)
			}
			p.mu.Unlock()
			if started {
				p.tasks.Fail(t, err, later)
			}
		}
	}
}

// runLater runs the callbacks that Tasks.Fail passed on, in order. A
// runtime.Goexit in one skips none of the others.
func runLater(callbacks []func()) { guard.Each(callbacks, func(run func()) { run() }) }

// cancelQueued cancels the calls of es, taken out of the queue. A
// runtime.Goexit in an OnDone callback skips none of them.
func (p *Pool[T]) cancelQueued(es []entry[T]) {
	cancel := func(t T) {
		t.Cancel() // counted by NoteCancelled, for the tasks the pool owns
		p.mu.Lock()
		p.dropLocked(t)
		p.mu.Unlock()
	}
	guard.Each(es, func(e entry[T]) { guard.Each(e.tasks(), cancel) })
}

// Shutdown stops the pool from accepting calls, then waits until every
// queued and running call has finished and every worker goroutine has
// exited, or until ctx ends. With cancelPending, queued calls are cancelled
// first. If ctx ends first, Shutdown fails every call still queued and
// every running one with a broken error, cancels the contexts of the
// running ones, and returns ctx.Err(). Called from one of the pool's own
// calls, it returns ErrShutdownInside at once instead of waiting.
func (p *Pool[T]) Shutdown(ctx context.Context, cancelPending bool) error {
	self := goroutine.ID()
	p.mu.Lock()
	p.shutdown = true
	p.closeInboxLocked()
	inside := false
	for w := range p.all {
		inside = inside || w.gid.Load() == self
	}
	var cancelled []entry[T]
	if cancelPending {
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
		return p.errs.ShutdownInside()
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

// abandon ends every queued and running call because Shutdown's ctx ended.
func (p *Pool[T]) abandon(ctx context.Context) {
	p.abandonMu.Lock()
	p.mu.Lock()
	p.drainInboxLocked()
	queued := p.queue.Drain()
	var running []T
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
	p.failQueued(queued, p.errs.Broken("futures: the pool was shut down before the call ran", cause), later)
	stopped := p.errs.Broken("futures: Shutdown gave up waiting for the call and cancelled its context", cause)
	for _, t := range running {
		p.tasks.Fail(t, stopped, later)
	}
	p.kill(p.errs.Broken("futures: Shutdown gave up waiting", cause))
	p.abandonMu.Unlock()
	runLater(callbacks)
}

// takeOverLocked returns the calls of w's entry whose outcome w has not
// counted yet, counted as failed: the caller fails them. w counts no more.
func (w *worker[T]) takeOverLocked() []T {
	w.endedMu.Lock()
	defer w.endedMu.Unlock()
	if w.abandoned {
		return nil
	}
	w.abandoned = true
	ts := w.cur.tasks()
	ts = ts[min(w.counted-w.curBase, len(ts)):]
	w.ended.End(counts.Failed, int64(len(ts)))
	return ts
}
