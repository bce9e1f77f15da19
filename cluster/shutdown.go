package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofutures/futures"
	"github.com/nats-io/nats.go/jetstream"
)

// Shutdown stops the pool from accepting calls (they then fail with
// futures.ErrShutdown), waits until every call of the pool has finished,
// then stops its local workers, its connection and its embedded server. It
// returns nil then. Python: shutdown(wait=True, cancel_futures).
//
// With futures.CancelPending, the queued calls (not published yet) are
// cancelled first. If ctx ends first,
// Shutdown removes the queued calls from the stream and fails them with an
// error matching futures.ErrBrokenExecutor, asks the workers to cancel the
// context of the running ones, whose futures fail likewise, kills the local
// workers and returns ctx.Err() once everything is released. It may be
// called any number of times; once the pool has stopped it returns nil
// whatever ctx says. Called from an OnDone callback of one of the pool's
// futures, which the pool runs and so could never wait for, it stops the
// pool from accepting calls and returns at once an error matching
// futures.ErrDeadlock. On a nil pool it returns an error.
func (p *Pool) Shutdown(ctx context.Context, opts ...futures.ShutdownOption) error {
	if p == nil {
		return errNilPool
	}
	if ctx == nil {
		return errors.New("futures/cluster: Pool.Shutdown: the context is nil; use context.Background()")
	}
	select {
	case <-p.released:
		return nil
	default:
	}
	cfg := futures.ReadShutdownOptions(opts...)
	p.mu.Lock()
	if p.stage == poolOpen {
		p.stage = poolShutdown
	}
	p.room.Broadcast()
	if p.done.inside() {
		// The callbacks the pool runs, this one among them, complete its
		// calls: waiting here for them would never end.
		p.mu.Unlock()
		return errShutdownInCallback
	}
	var queued []futures.Task
	if cfg.CancelPending {
		queued = p.takeQueuedLocked(nil) // none of them is published
	}
	p.mu.Unlock()
	p.cancelTaken(queued)
	p.pump() // the messages of the calls taken may have left the window
	var err error
	if !p.waitCalls(ctx) {
		p.abandon(ctx)
		err = ctx.Err()
	}
	p.teardown()
	return err
}

// errShutdownInCallback is returned by Shutdown called from a callback the
// pool runs, which it cannot wait for.
var errShutdownInCallback = fmt.Errorf("%w: Shutdown was called from an OnDone callback of a future of the same cluster.Pool, which runs that callback and cannot wait for it; the pool stopped accepting calls and finishes the others: call Shutdown or Close outside the callback to wait", futures.ErrDeadlock)

// Close shuts the pool down and waits for every call: it is
// Shutdown(context.Background()). It returns nil and may be called any
// number of times. Python: shutdown(wait=True).
func (p *Pool) Close() error { return p.Shutdown(context.Background()) }

// waitCalls waits until no call of the pool is left, and reports whether
// that happened before ctx ended. It waits on the table, never on the
// tasks: a task whose call succeeded may be given to the pool again, by a
// Map that reuses its items, for another call.
func (p *Pool) waitCalls(ctx context.Context) bool {
	for {
		p.mu.Lock()
		p.settleLocked()
		over := p.overLocked()
		p.mu.Unlock()
		p.pump() // settleLocked may have made room
		if over {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.mu.Lock()
		if !p.overLocked() {
			p.waitLocked(ctx, p.idle)
		}
		p.mu.Unlock()
	}
}

// overLocked reports whether every call of the pool is over: none is left
// in the table, and every goroutine that took calls from it completed
// them.
func (p *Pool) overLocked() bool { return len(p.msgs) == 0 && p.completing == 0 }

// abandon ends every call left because Shutdown's ctx ended.
func (p *Pool) abandon(ctx context.Context) {
	cause := ctx.Err()
	notRun := fmt.Errorf("futures/cluster: Shutdown gave up waiting (%w) before the call ran: %w", cause, futures.ErrBrokenExecutor)
	stopped := fmt.Errorf("futures/cluster: Shutdown gave up waiting (%w) and cancelled the call on its worker: %w", cause, futures.ErrBrokenExecutor)
	p.mu.Lock()
	type end struct {
		t   futures.Task
		err error
	}
	var ends []end
	for _, m := range p.msgs {
		for i := range m.calls {
			c := &m.calls[i]
			if c.t == nil {
				continue
			}
			err := notRun
			if c.started {
				err = stopped
			}
			p.st.failed++
			ends = append(ends, end{p.takeLocked(m, i), err})
		}
	}
	p.pending.Drain() // all of their calls were taken
	p.mu.Unlock()
	p.purgeClient()
	p.cancelOnWorkers(cancelMsg{all: true})
	for _, e := range ends {
		e.t.Complete(nil, e.err)
	}
	if p.locals != nil {
		p.locals.kill()
	}
}

// purgeClient removes every queued call of the pool from the stream.
func (p *Pool) purgeClient() {
	ctx, cancel := context.WithTimeout(context.Background(), apiWait)
	defer cancel()
	p.calls.Purge(ctx, jetstream.WithPurgeSubject(p.top.clientCalls(p.client)))
}

// teardown releases what the pool holds, once: its local workers, its
// goroutines, its connection and server. A concurrent call waits for the
// first.
func (p *Pool) teardown() {
	p.mu.Lock()
	first := p.stage < poolTornDown
	p.stage = poolTornDown
	for _, g := range p.groups {
		if g.stop() {
			p.wg.Done() // its function will not run
		}
	}
	clear(p.groups)
	clear(p.overruns)
	p.mu.Unlock()
	if !first {
		<-p.released
		return
	}
	p.release()
}

// release stops everything the pool started, and closes released.
func (p *Pool) release() {
	if p.locals != nil {
		p.locals.stop()
	}
	p.wg.Wait()
	if p.reaper != nil {
		p.reaper.Stop()
		<-p.reaper.Closed()
	}
	if p.sub != nil {
		p.sub.Unsubscribe()
	}
	if p.hello != nil {
		p.hello.Unsubscribe()
	}
	// Completions from objects add callbacks; a callback may drop objects.
	p.gc.wait()
	p.done.wait()
	p.gc.wait()
	if p.calls != nil {
		// Messages of calls cancelled while queued wait for a worker to
		// skip them; every call of the pool is over now.
		p.purgeClient()
	}
	if p.objs != nil {
		// Objects stored for calls that ended as they were put.
		p.objs.removePrefix(p.client + ".")
	}
	p.link.close()
	close(p.released)
}
