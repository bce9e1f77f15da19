package procpool

import (
	"log/slog"
	"syscall"
)

// procState is where a worker is in its life. A worker only moves forward
// through the states, in this order, though it may skip some:
//
//	starting → ready → closing → aborting → exited
//
// setStateLocked makes every move.
type procState uint8

const (
	// procStarting: its process is being started, or has not said Ready
	// yet; no call goes to it. The pool counts these workers in starting.
	procStarting procState = iota
	// procReady: it said Ready and takes calls.
	procReady
	// procClosing: it takes no more calls, because it reached
	// MaxTasksPerWorker, or is idle with nothing left to run, or was
	// killed for a call that overran TaskTimeout; its request pipe closes
	// once what was queued for it is written, and it exits once it
	// answered its calls.
	procClosing
	// procAborting: Wait gave up and failed its calls; it is told to
	// stop at once, and what it still answers is ignored.
	procAborting
	// procExited: its process exited and is being reaped; nothing is sent
	// to it, no signal reaches it.
	procExited
)

// setStateLocked moves w to state s, unless w is there or further already.
func (p *Pool[T]) setStateLocked(w *proc[T], s procState) {
	if s <= w.state {
		return
	}
	if w.state == procStarting {
		p.starting--
	}
	w.state = s
}

// stopRecord is what the pool did to stop a worker with signals, for the
// error of its calls. It is apart from procState: the pool may signal a
// worker in any state but exited, and does not move it for that.
type stopRecord struct {
	reason  string         // why the pool first signalled it; "" if it did not
	sig     syscall.Signal // the last signal sent
	overran uint64         // the call the watchdog killed it for, if any
}

// signalled reports whether the pool sent the worker a signal.
func (r *stopRecord) signalled() bool { return r.reason != "" }

// signalLocked sends sig to w's process group, unless w has no process yet,
// exited, or was sent sig last, and records why the first time: that
// reason is the Reason of the Errors.Exited error of w's calls. Every signal
// the pool sends a worker goes through it.
func (p *Pool[T]) signalLocked(w *proc[T], sig syscall.Signal, why string) {
	if w.sp == nil || w.state == procExited || w.stop.sig == sig {
		return
	}
	if !w.stop.signalled() {
		w.stop.reason = why
		p.st.WorkerKilled()
	}
	w.stop.sig = sig
	w.sp.Signal(sig)
	p.log(slog.LevelWarn, "futures: worker process killed", "pid", w.sp.PID, "signal", sig.String(), "reason", why)
}

// kill sends SIGKILL to w's process group, saying why.
func (p *Pool[T]) kill(w *proc[T], why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signalLocked(w, syscall.SIGKILL, why)
}
