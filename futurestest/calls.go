package futurestest

import (
	"context"
	"fmt"
	"sync"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/guard"
)

// calls is the state Inline and Manual share: whether Shutdown was called,
// the calls queued (Manual only) and running, and how Shutdown waits for them
// or gives up on them.
type calls struct {
	name    string // "Inline" or "Manual", for error messages
	mu      sync.Mutex
	shut    bool
	queue   []*Call            // calls not started, oldest first
	running map[*Call]struct{} // calls being run now
	changed chan struct{}      // closed at the next change of queue or running; nil until needed
}

// signalLocked wakes everyone waiting for a change of the queue or of the
// running calls.
func (cs *calls) signalLocked() {
	if cs.changed != nil {
		close(cs.changed)
		cs.changed = nil
	}
}

// changedLocked returns a channel closed at the next change.
func (cs *calls) changedLocked() <-chan struct{} {
	if cs.changed == nil {
		cs.changed = make(chan struct{})
	}
	return cs.changed
}

// refuseLocked returns why Execute refuses t, or nil.
func (cs *calls) refuseLocked(t futures.Task) error {
	if t == nil {
		return fmt.Errorf("futures: %s.Execute: the Task is nil; pass the Task that Submit, Go or Map made", cs.name)
	}
	if cs.shut {
		return futures.ErrShutdown
	}
	return nil
}

// refusal returns futures.ErrShutdown after Shutdown, nil before.
func (cs *calls) refusal() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.shut {
		return futures.ErrShutdown
	}
	return nil
}

// pruneLocked drops the queued calls whose future is done already: their
// readers cancelled them.
func (cs *calls) pruneLocked() {
	kept := cs.queue[:0]
	for _, c := range cs.queue {
		if !c.done() {
			kept = append(kept, c)
		}
	}
	clear(cs.queue[len(kept):])
	cs.queue = kept
}

// removeLocked takes c out of the queue and reports whether it was there.
func (cs *calls) removeLocked(c *Call) bool {
	for i, q := range cs.queue {
		if q == c {
			cs.queue = append(cs.queue[:i], cs.queue[i+1:]...)
			cs.signalLocked()
			return true
		}
	}
	return false
}

// startLocked records c as running and returns the context it runs with:
// derived from the caller's, and cancelled if Shutdown gives up on it.
func (cs *calls) startLocked(c *Call) context.Context {
	ctx, cancel := context.WithCancelCause(c.t.Context())
	c.cancel = cancel
	if cs.running == nil {
		cs.running = make(map[*Call]struct{})
	}
	cs.running[c] = struct{}{}
	cs.signalLocked()
	return ctx
}

// run runs c, recorded by startLocked, in the calling goroutine. A call its
// reader cancelled is dropped, and a call whose caller's context is done
// already is cancelled, not invoked.
func (cs *calls) run(c *Call, ctx context.Context) {
	defer cs.finish(c)
	if c.t.Context().Err() != nil {
		c.t.Cancel()
		return
	}
	if c.t.Start() {
		c.t.Run(ctx)
	}
}

// finish records that c returned (or left through runtime.Goexit).
func (cs *calls) finish(c *Call) {
	cs.mu.Lock()
	delete(cs.running, c)
	cs.signalLocked()
	cs.mu.Unlock()
	c.cancel(nil)
}

// shutdown implements Executor.Shutdown for Inline and Manual.
func (cs *calls) shutdown(ctx context.Context, opts []futures.ShutdownOption) error {
	if ctx == nil {
		return fmt.Errorf("futures: %s.Shutdown: the context is nil; use context.Background()", cs.name)
	}
	cfg := futures.ReadShutdownOptions(opts...)
	cs.mu.Lock()
	cs.shut = true
	var cancelled []*Call
	if cfg.CancelPending {
		cancelled, cs.queue = cs.queue, nil
		cs.signalLocked()
	}
	cs.mu.Unlock()
	guard.Each(cancelled, func(c *Call) { c.t.Cancel() })
	for {
		cs.mu.Lock()
		cs.pruneLocked()
		if len(cs.queue) == 0 && len(cs.running) == 0 {
			cs.mu.Unlock()
			return nil
		}
		changed := cs.changedLocked()
		var head <-chan struct{} // the oldest queued call's Done: a reader may cancel it
		if len(cs.queue) > 0 {
			head = cs.queue[0].t.Done()
		}
		cs.mu.Unlock()
		select {
		case <-changed:
		case <-head:
		case <-ctx.Done():
			cs.abandon(ctx)
			return ctx.Err()
		}
	}
}

// abandon ends every queued and running call because Shutdown's ctx ended:
// their futures fail with an error matching ErrBrokenExecutor, and the
// contexts of the running calls are cancelled with that error as the cause,
// even if an OnDone callback calls runtime.Goexit.
func (cs *calls) abandon(ctx context.Context) {
	cs.mu.Lock()
	queued := cs.queue
	cs.queue = nil
	running := make([]*Call, 0, len(cs.running))
	for c := range cs.running {
		running = append(running, c)
	}
	cs.signalLocked()
	cs.mu.Unlock()
	notRun := fmt.Errorf("futures: %s.Shutdown gave up waiting (%w) before the call ran: %w", cs.name, ctx.Err(), futures.ErrBrokenExecutor)
	stopped := fmt.Errorf("futures: %s.Shutdown gave up waiting (%w) and cancelled the running call's context: %w", cs.name, ctx.Err(), futures.ErrBrokenExecutor)
	defer guard.Each(running, func(c *Call) {
		defer c.cancel(stopped)
		c.t.Complete(nil, stopped)
	})
	guard.Each(queued, func(c *Call) { c.t.Complete(nil, notRun) })
}
