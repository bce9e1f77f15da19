package futures

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
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

// Escalation when Shutdown gives up: the workers are asked to stop, then
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

// Shutdown stops the pool from accepting calls (they then fail with
// ErrShutdown), then waits until every queued and running call has finished
// and every worker process has exited and been reaped, or until ctx ends.
// Python: shutdown(wait=True, cancel_futures).
//
// With CancelPending, queued calls are cancelled first. If ctx ends first,
// Shutdown fails every queued call with an error matching ErrBrokenExecutor,
// asks the workers to cancel the context of their calls and exit, sends
// them SIGTERM, then SIGKILL, if they do not; the futures of the calls they
// were running fail likewise. It then waits for the workers to be reaped and
// returns ctx.Err(). Python 3.14: terminate_workers, kill_workers. It may be
// called any number of times, also at once: each call that returns nil
// returns once every worker was reaped and the pool's goroutines stopped,
// and a call on a pool that stopped already returns nil even if ctx ended.
//
// Called from an OnDone callback of one of the pool's futures, which the
// pool runs and so could never wait for, Shutdown stops the pool from
// accepting calls and returns at once an error matching ErrDeadlock.
// On a nil pool it returns an error that says the executor is nil.
func (p *ProcessPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if p == nil {
		return errNilExecutor
	}
	if ctx == nil {
		return errors.New("futures: ProcessPool.Shutdown: the context is nil; use context.Background()")
	}
	cfg := ReadShutdownOptions(opts...)
	inside := p.cb.inside()
	p.mu.Lock()
	if p.stage == poolOpen {
		p.stage = poolShutdown
	}
	var cancelled []*pcall
	if cfg.CancelPending {
		cancelled = p.queue.Drain()
		for _, pc := range cancelled {
			for _, t := range pc.ts {
				if _, owned := t.(ownedTask); !owned { // else counted by noteCancelled
					p.queued--
					p.st.endQueued(endCancelled, 1)
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
			t.Cancel()
		}
	}
	if inside {
		return errShutdownInCallback
	}
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

// abandon stops everything because Shutdown's ctx ended, up giveUpLadder
// from a request to SIGTERM to SIGKILL, and waits for the workers to be
// reaped.
func (p *ProcessPool) abandon(ctx context.Context) {
	cause := ctx.Err()
	p.mu.Lock()
	if p.forced == nil {
		p.forced = &brokenError{msg: "futures: Shutdown gave up waiting for the call and stopped its worker process", cause: cause}
	}
	queued := p.drainLocked()
	var running []Task
	for _, w := range p.procs {
		p.setStateLocked(w, procAborting)
		for _, pc := range w.inflight.Drain() {
			running = append(running, pc.ts[pc.done:]...)
		}
		w.inflightN = 0
		w.signal()
	}
	p.st.end(endFailed, int64(len(running)))
	p.checkExitedLocked()
	p.mu.Unlock()
	err := &brokenError{msg: "futures: the pool was shut down before the call ran", cause: cause}
	for _, t := range queued {
		t.Complete(nil, err)
	}
	for _, t := range running {
		t.Complete(nil, p.forced)
	}
	giveUpLadder.climb(p.exited, p.signalAll)
}

// signalAll sends sig to every worker process still alive.
func (p *ProcessPool) signalAll(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.procs {
		p.signalLocked(w, sig, "Shutdown gave up waiting for it")
	}
}

// teardown is the last step of Shutdown, once every worker is gone: it
// stops watching the contexts of calls, waits for the pool's goroutines and
// stops the spawning thread. A call that finds another doing so waits for
// it to finish, or for ctx to end, and then returns ctx.Err().
func (p *ProcessPool) teardown(ctx context.Context) error {
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

// errShutdownInCallback is returned by Shutdown called from a callback the
// pool runs, which it cannot wait for.
var errShutdownInCallback = fmt.Errorf("%w: Shutdown was called from an OnDone callback of a future of the same ProcessPool, which runs that callback and cannot wait for it; the pool stopped accepting calls and finishes the others: call Shutdown or Close outside the callback to wait", ErrDeadlock)
