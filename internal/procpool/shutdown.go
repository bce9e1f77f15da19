package procpool

import (
	"context"
	"syscall"
	"time"

	"github.com/gofutures/futures/internal/counts"
)

// escalation is a ladder of ever harder ways to stop the workers: each step
// sends its signal to every worker still alive, then waits up to its grace
// for all of them to be reaped before the next step.
type escalation []escalationStep

// escalationStep is a step of an escalation.
type escalationStep struct {
	sig   syscall.Signal // 0: no signal, the workers were asked to stop
	grace time.Duration  // 0: wait for as long as it takes
}

// Escalation when Wait gives up: the workers are asked to stop, then
// sent SIGTERM after askGrace, then SIGKILL after termGrace.
const (
	askGrace  = 200 * time.Millisecond
	termGrace = 200 * time.Millisecond
)

// giveUpLadder is how abandon stops the workers. Asked to stop, a worker
// cancels the context of its calls and exits once they return; SIGTERM
// stops one whose calls ignore their context, unless it handles the signal;
// SIGKILL stops any.
var giveUpLadder = escalation{
	{grace: askGrace},
	{sig: syscall.SIGTERM, grace: termGrace},
	{sig: syscall.SIGKILL},
}

// climb goes up the ladder, sending each step's signal with signal, until
// exited is closed.
func (e escalation) climb(exited <-chan struct{}, signal func(syscall.Signal)) {
	for _, s := range e {
		if s.sig != 0 {
			signal(s.sig)
		}
		if s.grace == 0 {
			break
		}
		t := time.NewTimer(s.grace)
		select {
		case <-exited:
			t.Stop()
			return
		case <-t.C:
		}
	}
	<-exited
}

// Stop makes the pool refuse new calls, with cancelPending cancels its
// queued calls, and lets its workers go once they have nothing left to
// run.
func (p *Pool[T]) Stop(cancelPending bool) {
	p.mu.Lock()
	if p.stage == poolOpen {
		p.stage = poolShutdown
	}
	var cancelled []*pcall[T]
	if cancelPending {
		cancelled = p.queue.Drain()
		for _, pc := range cancelled {
			for _, t := range pc.ts {
				if !p.tasks.Owned(t) { // else counted by NoteCancelled
					p.queued--
					p.st.EndQueued(counts.Cancelled, 1)
				}
			}
		}
	}
	p.room.Broadcast()
	p.dispatchLocked()
	p.checkExitedLocked()
	p.unlockAndFlush()
	for _, pc := range cancelled {
		for _, t := range pc.ts {
			p.tasks.Cancel(t)
		}
	}
}

// Wait waits, after Stop, until every queued and running call has finished
// and every worker process has exited and been reaped, or until ctx ends,
// then stops the pool's goroutines. If ctx ends first, it fails every call
// left, stops the workers up giveUpLadder, waits for them and returns
// ctx.Err(). A Wait that finds another stopping the goroutines waits for it,
// or for ctx, whose error it then returns.
func (p *Pool[T]) Wait(ctx context.Context) error {
	var err error
	select {
	case <-p.exited: // nothing left to wait for, whatever ctx says
	default:
		select {
		case <-p.exited:
		case <-ctx.Done():
			p.abandon(ctx)
			err = ctx.Err()
		}
	}
	if rerr := p.teardown(ctx); err == nil {
		err = rerr
	}
	return err
}

// abandon stops everything because Wait's ctx ended, up giveUpLadder
// from a request to SIGTERM to SIGKILL, and waits for the workers to be
// reaped.
func (p *Pool[T]) abandon(ctx context.Context) {
	cause := ctx.Err()
	p.mu.Lock()
	if p.forced == nil {
		p.forced = p.errs.Broken("futures: Shutdown gave up waiting for the call and stopped its worker process", cause)
	}
	queued := p.drainLocked()
	var running []T
	for _, w := range p.procs {
		p.setStateLocked(w, procAborting)
		for _, pc := range w.inflight.Drain() {
			running = append(running, pc.ts[pc.done:]...)
		}
		w.inflightN = 0
		w.signal()
	}
	p.st.End(counts.Failed, int64(len(running)))
	p.checkExitedLocked()
	p.mu.Unlock()
	err := p.errs.Broken("futures: the pool was shut down before the call ran", cause)
	for _, t := range queued {
		p.tasks.Fail(t, err)
	}
	for _, t := range running {
		p.tasks.Fail(t, p.forced)
	}
	giveUpLadder.climb(p.exited, p.signalAll)
}

// signalAll sends sig to every worker process still alive.
func (p *Pool[T]) signalAll(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.procs {
		p.signalLocked(w, sig, "Shutdown gave up waiting for it")
	}
}

// teardown is the last step of Wait, once every worker is gone: it
// stops watching the contexts of calls, waits for the pool's goroutines and
// stops the spawning thread. A call that finds another doing so waits for
// it to finish, or for ctx to end, and then returns ctx.Err().
func (p *Pool[T]) teardown(ctx context.Context) error {
	p.mu.Lock()
	stop := p.stage == poolExited
	if stop {
		p.stage = poolTornDown
		for _, g := range p.groups {
			g.stop()
		}
		clear(p.groups)
		p.lastGroup = nil
	}
	p.mu.Unlock()
	if stop {
		p.wg.Wait()
		p.spawner.Stop()
		close(p.released)
		return nil
	}
	select {
	case <-p.released:
		return nil
	default:
	}
	select {
	case <-p.released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
