package procpool

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/supervise"
)

// What the errors of a worker's exit say.

// maxCallRetries is how many times a call is sent again to another worker
// after a worker died as it was the next call to start.
const maxCallRetries = 3

// gaveUp returns how the last of maxCallRetries+1 workers that all died
// before starting a call ended, as e says, for the error of that call.
func gaveUp(e Exit) Exit {
	e.During = "before it started the call"
	e.Then = fmt.Sprintf("the call was sent to %d worker processes, which all exited before starting it, and is not sent again", maxCallRetries+1)
	return e
}

// afterExitLocked says what the pool did after a worker exited, for the
// calls that worker failed; started tells that it started another.
func (p *Pool[T]) afterExitLocked(started bool) string {
	switch {
	case p.broken != nil:
		return "the pool is broken and runs no more calls"
	case p.stage >= poolShutdown:
		return "the pool is shutting down and started no replacement"
	case started:
		return "the pool started a replacement"
	}
	return "the pool starts a replacement when a call needs one"
}

// startError is the error that breaks the pool when the worker with pid
// exited before it was ready. A program that parsed its command line before
// calling WorkerMain rejects the worker's flag and prints its usage: the
// error then says so, without the usage.
func (p *Pool[T]) startError(pid int, exit supervise.Exit, reason string) error {
	cause := exitOf(pid, exit, reason)
	cause.During = "before it was ready"
	advice := "check that the program calls futures.WorkerMain() first thing in main"
	rejected := "flag provided but not defined: " + strings.TrimSuffix(p.flag, "=")
	if i := strings.Index(exit.Stderr, rejected); i >= 0 {
		cause.Stderr = rejected + "\n"
		advice = "the program parsed its command line, and refused the worker's flag, before it called futures.WorkerMain(); call it first thing in main"
		if strings.Contains(exit.Stderr[i:], "-test.") {
			advice = "this test binary parsed its flags, and refused the worker's, before it called futures.WorkerMain(); call it first thing in TestMain, before m.Run"
		}
	}
	return p.errs.Broken(fmt.Sprintf("futures: a worker process of ProcessPool %q could not start: %s", p.name, advice), p.errs.Exited(cause))
}

// reap accounts for a worker that exited: the call it was running fails with
// an Errors.Exited error, the calls it had not started go back to the queue,
// and a replacement starts if calls are waiting. A worker that never became
// ready breaks the pool with startErr.
func (p *Pool[T]) reap(w *proc[T], exit supervise.Exit, startErr error) {
	p.mu.Lock()
	p.setStateLocked(w, procExited)
	if w.sp != nil {
		w.signal()
		p.st.WorkerExited()
	}
	for i, x := range p.procs {
		if x == w {
			p.procs = append(p.procs[:i], p.procs[i+1:]...)
			break
		}
	}
	var fails []failure[T]
	workers := len(p.procs)
	left := w.inflight.Drain()
	w.inflightN = 0
	var exited Exit
	if len(left) > 0 && p.forced == nil {
		exited = exitOf(w.sp.PID, exit, w.stop.reason)
	}
	// A worker that died running no call died of the next call it was to
	// start (a message it could not read), which is sent again only
	// maxCallRetries times. The errors of the calls it died with are made
	// once the pool knows what it does next (errExited, errGaveUp).
	idle := len(left) > 0 && left[0].id+uint64(left[0].done) > exit.Started
	for _, pc := range left {
		for i := pc.done; i < len(pc.ts); i++ {
			id := pc.id + uint64(i)
			switch {
			case p.forced != nil:
				fails = append(fails, failure[T]{pc.ts[i], p.forced})
			case id > exit.Started: // never started: another worker runs it
				rest := pc.slice(i, len(pc.ts))
				if idle && id == exit.Started+1 {
					if rest.tries++; rest.tries > maxCallRetries {
						fails = append(fails, failure[T]{pc.ts[i], errGaveUp})
						rest = rest.slice(1, len(rest.ts))
					}
				}
				if len(rest.ts) > 0 {
					p.retry.Push(rest)
				}
				i = len(pc.ts)
			case id == w.stop.overran:
				fails = append(fails, failure[T]{pc.ts[i], p.errs.Timeout(registry.ShortName(pc.fn.Name()), p.timeout.String())})
			default:
				fails = append(fails, failure[T]{pc.ts[i], errExited})
			}
		}
	}
	p.st.End(counts.Failed, int64(len(fails)))
	var dropped []T
	if startErr != nil {
		dropped = p.breakLocked(startErr)
	}
	p.dispatchLocked()
	exited.Then = p.afterExitLocked(len(p.procs) > workers)
	p.checkExitedLocked()
	broken := p.broken
	p.unlockAndFlush()

	if w.sp != nil {
		level := slog.LevelInfo
		if exit.Code != 0 || exit.Signal != "" {
			level = slog.LevelWarn
		}
		p.log(level, "futures: worker process exited", "pid", w.sp.PID, "code", exit.Code, "signal", exit.Signal)
	}
	var exitErr, gaveUpErr error
	for _, f := range fails {
		switch f.err {
		case errExited:
			if exitErr == nil {
				exitErr = p.errs.Exited(exited)
			}
			f.err = exitErr
		case errGaveUp:
			if gaveUpErr == nil {
				gaveUpErr = p.errs.Exited(gaveUp(exited))
			}
			f.err = gaveUpErr
		}
		p.end(f.t, nil, f.err)
	}
	for _, t := range dropped {
		p.end(t, nil, broken)
	}
}

// breakLocked marks the pool broken by cause, an Errors.Broken error, and
// returns the calls it had queued, already counted as failed, for the
// caller to fail.
func (p *Pool[T]) breakLocked(cause error) []T {
	if p.broken != nil {
		return nil
	}
	p.broken = cause
	p.room.Broadcast()
	return p.drainLocked()
}

// drainLocked empties the queues and returns their calls, counted as
// failed, for the caller to fail. The queued ones are started first, so
// that no Cancel ends them before their failure.
func (p *Pool[T]) drainLocked() []T {
	var out []T
	for _, pc := range p.retry.Drain() {
		p.st.End(counts.Failed, int64(len(pc.ts)))
		out = append(out, pc.ts...)
	}
	for _, pc := range p.queue.Drain() {
		for _, t := range pc.ts {
			if p.takeLocked(t) {
				p.st.EndQueued(counts.Failed, 1)
				out = append(out, t)
			}
		}
	}
	return out
}

// checkExitedLocked moves a pool that was shut down to poolExited once no
// worker and no call is left.
func (p *Pool[T]) checkExitedLocked() {
	if p.stage == poolShutdown && len(p.procs) == 0 && p.queue.Len()+p.retry.Len() == 0 {
		p.stage = poolExited
		close(p.exited)
	}
}

// exitOf describes how the worker with pid ended, for the calls it had;
// reason is why the pool killed it, if it did.
func exitOf(pid int, exit supervise.Exit, reason string) Exit {
	return Exit{PID: pid, ExitCode: exit.Code, Signal: exit.Signal, Stderr: exit.Stderr, Reason: reason}
}

// errExited and errGaveUp stand, in reap, for the errors of the calls a
// worker died with, made once the pool knows what it does next.
var (
	errExited = errors.New("the worker exited")
	errGaveUp = errors.New("the workers exited before starting the call")
)
