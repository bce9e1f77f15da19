package futures

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/serve"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// answers is what a frame of results answers: the calls, as spans of runs,
// and an outcome for each.
type answers struct {
	codec value.Codec // decodes the results of the worker they came from
	spans []span
	recs  []outcome
	fails []failedRecord // the outcomes that are not successes
}

// failedRecord is the record of a call that failed, whose error finish makes
// outside the pool's lock (decoding the errors it carries may run methods
// of the program's types); its Value is a part of the frame.
type failedRecord struct {
	r   wire.Result
	ctx context.Context // the call's
	fn  string
}

// span is the calls ts[from:to] of a run, answered by consecutive records.
type span struct {
	pc       *pcall
	from, to int
}

// outcome is one result record: the encoded value of a success, a part of
// the frame, or fails[err] for a failure.
type outcome struct {
	val []byte
	err int // -1 for a success
}

func (a *answers) reset() {
	clear(a.spans)
	clear(a.recs)
	clear(a.fails)
	a.spans, a.recs, a.fails = a.spans[:0], a.recs[:0], a.fails[:0]
}

// take finds the calls that the result records of body answer in w's
// in-flight runs, drops the runs answered in full, counts the outcomes, and
// refills w. It fills a with the calls answered and their outcomes. If a
// record is malformed or answers a call that is not the next one, it stops
// there and returns an error, leaving in a the calls answered before. It
// kills w when a record says a call overran TaskTimeout.
func (p *ProcessPool) take(w *proc, body []byte, a *answers) error {
	p.mu.Lock()
	defer p.unlockAndFlush()
	if w.state == procAborting { // Shutdown gave up and failed these calls already
		return nil
	}
	var wrong *wire.Result
	cancelled := 0 // of the records, those of calls that were not invoked
	err := wire.ParseResults(body, func(r *wire.Result) bool {
		pc, ok := w.inflight.Peek()
		if !ok || r.ID != pc.id+uint64(pc.done) {
			wrong = r
			return false
		}
		if k := len(a.spans) - 1; k >= 0 && a.spans[k].pc == pc {
			a.spans[k].to++
		} else {
			a.spans = append(a.spans, span{pc, pc.done, pc.done + 1})
		}
		if pc.done++; pc.done == len(pc.ts) {
			w.inflight.Pop()
		}
		if r.Kind == wire.KindOK {
			a.recs = append(a.recs, outcome{val: r.Value, err: -1})
			return true
		}
		a.recs = append(a.recs, outcome{err: len(a.fails)})
		a.fails = append(a.fails, failedRecord{*r, pc.ctx, pc.fn.Name()})
		switch {
		case r.Kind == wire.KindCancelled:
			cancelled++
		case r.Kind == wire.KindTimeout && w.state < procExited:
			p.setStateLocked(w, procClosing)
			p.signalLocked(w, syscall.SIGKILL, "a call overran TaskTimeout")
		}
		return true
	})
	if err == nil && wrong != nil {
		err = fmt.Errorf("%w: a result for call %d, which is not the next one", wire.ErrFrame, wrong.ID)
	}
	if n := len(a.recs); n > 0 {
		w.pace.answered(n, time.Now())
		w.inflightN -= n
		p.st.end(endSucceeded, int64(n-len(a.fails)))
		p.st.end(endFailed, int64(len(a.fails)-cancelled))
		p.st.end(endCancelled, int64(cancelled))
	}
	if err == nil && w.state == procReady {
		p.dispatchLocked()
	}
	return err
}

// finish completes the calls of a with their outcomes, which take counted
// already.
func (p *ProcessPool) finish(a *answers) {
	k := 0
	for _, sp := range a.spans {
		for _, t := range sp.pc.ts[sp.from:sp.to] {
			o := a.recs[k]
			k++
			if o.err >= 0 {
				f := &a.fails[o.err]
				endTask(t, nil, remoteFailure(f.ctx, &f.r, f.fn, a.codec), p.later)
				continue
			}
			completeEncoded(t, sp.pc.fn.Name(), a.codec, o.val, p.later, p.undecodable)
		}
	}
}

// end completes t with the value result points to, or with err, for a
// goroutine of the pool: the user code that runs then (OnDone callbacks, or
// the Complete of a task from another package) runs on p.cb.
func (p *ProcessPool) end(t Task, result any, err error) { endTask(t, result, err, p.later) }

// undecodable counts a call whose result could not be decoded, counted as
// succeeded, as failed.
func (p *ProcessPool) undecodable() {
	p.mu.Lock()
	p.st.FailSucceeded()
	p.mu.Unlock()
}

// remoteFailure turns a failure record from a worker into the call's error,
// decoding the errors and panic values it carries with c, for every
// executor that serves registered calls (internal/remote).
func remoteFailure(ctx context.Context, r *wire.Result, fn string, c value.Codec) error {
	switch r.Kind {
	case wire.KindError:
		return remoteError(r, c)
	case wire.KindPanic:
		return &PanicError{Value: panicValue(r, c), Stack: []byte(r.Stack)}
	case wire.KindTimeout:
		return &timeoutError{fn: registry.ShortName(fn), limit: r.Message}
	case wire.KindCancelled:
		return notStartedError(ctx)
	case wire.KindFail:
		if r.Type == serve.FailNotRegistered {
			return &registry.NotRegisteredError{Name: r.Message, InWorker: true}
		}
		return errors.New(r.Message)
	}
	return errors.New("futures: the worker reported a call as successful without a value")
}

func init() { remote.Failure = remoteFailure }
