package futures

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/supervise"
)

// What the errors of a worker's exit say.

// maxCallRetries is how many times a call is sent again to another worker
// after a worker died as it was the next call to start.
const maxCallRetries = 3

// gaveUpError returns the error of a call sent to maxCallRetries+1 workers
// that all died before starting it, the last as exitErr says.
func gaveUpError(exitErr *WorkerExitError) *WorkerExitError {
	e := *exitErr
	e.during = "before it started the call"
	e.then = fmt.Sprintf("the call was sent to %d worker processes, which all exited before starting it, and is not sent again", maxCallRetries+1)
	return &e
}

// afterExitLocked says what the pool did after a worker exited, for the
// calls that worker failed; started tells that it started another.
func (p *ProcessPool) afterExitLocked(started bool) string {
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
func (p *ProcessPool) startError(pid int, exit supervise.Exit, reason string) error {
	cause := exitError(pid, exit, reason)
	cause.during = "before it was ready"
	advice := "check that the program calls futures.WorkerMain() first thing in main"
	rejected := "flag provided but not defined: " + strings.TrimSuffix(workerArg, "=")
	if i := strings.Index(exit.Stderr, rejected); i >= 0 {
		cause.Stderr = rejected + "\n"
		advice = "the program parsed its command line, and refused the worker's flag, before it called futures.WorkerMain(); call it first thing in main"
		if strings.Contains(exit.Stderr[i:], "-test.") {
			advice = "this test binary parsed its flags, and refused the worker's, before it called futures.WorkerMain(); call it first thing in TestMain, before m.Run"
		}
	}
	return &brokenError{msg: fmt.Sprintf("futures: a worker process of ProcessPool %q could not start: %s", p.name, advice), cause: cause}
}

// reap accounts for a worker that exited: the call it was running fails with
// a *WorkerExitError, the calls it had not started go back to the queue,
// and a replacement starts if calls are waiting. A worker that never became
// ready breaks the pool with startErr.
func (p *ProcessPool) reap(w *proc, exit supervise.Exit, startErr error) {
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
	var fails []failure
	workers := len(p.procs)
	left := w.inflight.Drain()
	w.inflightN = 0
	var exitErr *WorkerExitError
	if len(left) > 0 && p.forced == nil {
		exitErr = exitError(w.sp.PID, exit, w.stop.reason)
	}
	// A worker that died running no call died of the next call it was to
	// start (a message it could not read), which is sent again only
	// maxCallRetries times.
	idle := len(left) > 0 && left[0].id+uint64(left[0].done) > exit.Started
	for _, pc := range left {
		for i := pc.done; i < len(pc.ts); i++ {
			id := pc.id + uint64(i)
			switch {
			case p.forced != nil:
				fails = append(fails, failure{pc.ts[i], p.forced})
			case id > exit.Started: // never started: another worker runs it
				rest := pc.slice(i, len(pc.ts))
				if idle && id == exit.Started+1 {
					if rest.tries++; rest.tries > maxCallRetries {
						fails = append(fails, failure{pc.ts[i], gaveUpError(exitErr)})
						rest = rest.slice(1, len(rest.ts))
					}
				}
				if len(rest.ts) > 0 {
					p.retry.Push(rest)
				}
				i = len(pc.ts)
			case id == w.stop.overran:
				fails = append(fails, failure{pc.ts[i], &timeoutError{fn: registry.ShortName(pc.fn.Name()), limit: p.timeout.String()}})
			default:
				fails = append(fails, failure{pc.ts[i], exitErr})
			}
		}
	}
	p.st.end(endFailed, int64(len(fails)))
	var dropped []Task
	if startErr != nil {
		dropped = p.breakLocked(startErr)
	}
	p.dispatchLocked()
	if exitErr != nil {
		exitErr.then = p.afterExitLocked(len(p.procs) > workers)
	}
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
	for _, f := range fails {
		p.end(f.t, nil, f.err)
	}
	for _, t := range dropped {
		p.end(t, nil, broken)
	}
}

// breakLocked marks the pool broken by cause and returns the calls it had
// queued, already counted as failed, for the caller to fail.
func (p *ProcessPool) breakLocked(cause error) []Task {
	if p.broken != nil {
		return nil
	}
	var ok bool
	if p.broken, ok = cause.(*brokenError); !ok {
		p.broken = &brokenError{msg: fmt.Sprintf("futures: ProcessPool %q is broken", p.name), cause: cause}
	}
	p.room.Broadcast()
	return p.drainLocked()
}

// drainLocked empties the queues and returns their calls, counted as
// failed, for the caller to fail. The queued ones are started first, so
// that no Cancel ends them before their failure.
func (p *ProcessPool) drainLocked() []Task {
	var out []Task
	for _, pc := range p.retry.Drain() {
		p.st.end(endFailed, int64(len(pc.ts)))
		out = append(out, pc.ts...)
	}
	for _, pc := range p.queue.Drain() {
		for _, t := range pc.ts {
			if p.takeLocked(t) {
				p.st.endQueued(endFailed, 1)
				out = append(out, t)
			}
		}
	}
	return out
}

// checkExitedLocked moves a pool that was shut down to poolExited once no
// worker and no call is left.
func (p *ProcessPool) checkExitedLocked() {
	if p.stage == poolShutdown && len(p.procs) == 0 && p.queue.Len()+p.retry.Len() == 0 {
		p.stage = poolExited
		close(p.exited)
	}
}

// exitError describes how the worker with pid ended, for the calls it had;
// reason is why the pool killed it, if it did.
func exitError(pid int, exit supervise.Exit, reason string) *WorkerExitError {
	return &WorkerExitError{PID: pid, ExitCode: exit.Code, Signal: exit.Signal, Stderr: exit.Stderr, Reason: reason}
}
