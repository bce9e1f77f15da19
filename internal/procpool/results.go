package procpool

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// answers is what a frame of results answers: the calls, as spans of runs,
// and an outcome for each.
type answers[T any] struct {
	codec value.Codec // decodes the results of the worker they came from
	spans []span[T]
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
type span[T any] struct {
	pc       *pcall[T]
	from, to int
}

// outcome is one result record: the encoded value of a success, a part of
// the frame, or fails[err] for a failure.
type outcome struct {
	val []byte
	err int // -1 for a success
}

func (a *answers[T]) reset() {
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
func (p *Pool[T]) take(w *proc[T], body []byte, a *answers[T]) error {
	p.mu.Lock()
	defer p.unlockAndFlush()
	if w.state == procAborting { // Wait gave up and failed these calls already
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
			a.spans = append(a.spans, span[T]{pc, pc.done, pc.done + 1})
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
		p.st.End(counts.Succeeded, int64(n-len(a.fails)))
		p.st.End(counts.Failed, int64(len(a.fails)-cancelled))
		p.st.End(counts.Cancelled, int64(cancelled))
	}
	if err == nil && w.state == procReady {
		p.dispatchLocked()
	}
	return err
}

// finish completes the calls of a with their outcomes, which take counted
// already.
func (p *Pool[T]) finish(a *answers[T]) {
	k := 0
	for _, sp := range a.spans {
		for _, t := range sp.pc.ts[sp.from:sp.to] {
			o := a.recs[k]
			k++
			if o.err >= 0 {
				f := &a.fails[o.err]
				remote.End(t, nil, remote.Failure(f.ctx, &f.r, f.fn, a.codec), p.later)
				continue
			}
			remote.Complete(t, sp.pc.fn.Name(), a.codec, o.val, p.later, p.undecodable)
		}
	}
}

// end completes t with the value result points to, or with err, for a
// goroutine of the pool: the user code that runs then runs in jobs passed
// to p.later.
func (p *Pool[T]) end(t T, result any, err error) { remote.End(t, result, err, p.later) }

// countUndecodable counts a call whose result could not be decoded,
// counted as succeeded, as failed.
func (p *Pool[T]) countUndecodable() {
	p.mu.Lock()
	p.st.FailSucceeded()
	p.mu.Unlock()
}
