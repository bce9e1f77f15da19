package cluster

import (
	"strconv"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/pace"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/wire"
	"github.com/nats-io/nats.go"
)

// receive handles a message on the pool's result subject: a worker asking
// to start calls, results, a call that overran TaskTimeout and the end of
// its run, or lost calls. A malformed message is dropped.
func (p *Pool) receive(m *nats.Msg) {
	if len(m.Data) == 0 {
		return
	}
	switch m.Data[0] {
	case msgStart:
		attempt, worker, rest, ok := readHead(m.Data[1:])
		if !ok || m.Reply == "" {
			return
		}
		d := wire.NewDecoder(rest)
		ids := readIDs(d)
		if d.Finish() == nil {
			m.Respond(appendIDs(nil, p.startCalls(attempt, worker, ids)))
		}
	case msgResults:
		if ran, rest, ok := readResultsHead(m.Data[1:]); ok {
			p.results(rest, ran)
		}
	case msgOverran, msgFreed:
		if attempt, worker, id, err := parseOverrun(m.Data[1:]); err == nil {
			if m.Data[0] == msgOverran {
				p.overran(attempt, worker, id)
			} else {
				p.freed(attempt, worker, id)
			}
		}
	case msgLost:
		d := wire.NewDecoder(m.Data[1:])
		attempts := int(d.Uvarint())
		ids := readIDs(d)
		if d.Finish() == nil {
			p.lost(attempts, ids, nil)
		}
	}
}

// startCalls answers a worker that asks leave to start the calls ids, of
// one message it took in its attempt-th delivery, and returns those it
// must not run: calls that finished meanwhile or whose context ended, calls
// this pool does not know, and all of them if an equal or later delivery
// of the message was started. A worker asks so for a delivery after the
// first, so that a call whose worker was lost runs again, and for the first
// message of a pool it has not heard from lately. A call whose context
// ended is not run; in the first delivery, which no worker ran before, it is
// answered as cancelled here, as its worker would have, since the worker
// says nothing of the calls it skips. Delivered again, it may have run on a
// worker that was lost: it is lost WorkerLostAfter after its context ended.
func (p *Pool) startCalls(attempt int, worker string, ids []uint64) (skip []uint64) {
	if len(ids) == 0 {
		return nil
	}
	var ended []futures.Task
	p.mu.Lock()
	no := ids[0] >> idShift
	if o, ok := p.overruns[no]; ok && attempt > o.attempt {
		// The server delivers the message again: the worker that ran the
		// call past TaskTimeout is gone, and its slot with it.
		p.forgetOverrunLocked(no)
		defer p.pump()
	}
	m := p.msgs[no]
	if m == nil || attempt <= m.attempt {
		// Finished, or started by this delivery or a later one: a worker
		// that took the message before it was delivered again asks late.
		p.mu.Unlock()
		return ids
	}
	m.attempt, m.worker = attempt, worker
	for _, id := range ids {
		mm, i := p.callLocked(id)
		if mm != m || !m.calls[i].started {
			skip = append(skip, id) // finished
			continue
		}
		if m.calls[i].t.Context().Err() != nil {
			skip = append(skip, id) // endGroup ends it
			if attempt == 1 {
				p.st.cancelled++
				ended = append(ended, p.takeLocked(m, i))
			}
		}
	}
	fn := m.fn
	if len(ended) > 0 {
		p.completing++
	}
	p.mu.Unlock()
	if len(ended) > 0 {
		for _, t := range ended {
			p.complete(t, fn, &wire.Result{Kind: wire.KindCancelled})
		}
		p.completed()
		p.pump() // the message may have left the window
	}
	return skip
}

// results takes the outcomes in body, the records of a msgResults message
// whose calls ran for ran on their worker: the first outcome of a call
// wins, later ones are dropped. The futures of package futures are
// completed here, their callbacks and the completions of other tasks on
// the completer.
func (p *Pool) results(body []byte, ran time.Duration) {
	ds := p.doneBuf[:0]
	var last *message // the message of the records counted in n
	n := 0
	p.mu.Lock()
	wire.ParseResults(body, func(r *wire.Result) bool {
		m, i := p.callLocked(r.ID)
		if m != last && m != nil {
			p.pacedLocked(last, n, ran)
			last, n = m, 0
		}
		name, inStore := objectOf(r)
		if m == nil || !m.calls[i].started {
			// Finished already, or never started: a stray record.
			if inStore {
				p.dropObject(name)
			}
			return true
		}
		t := p.takeLocked(m, i)
		switch {
		case r.Kind == wire.KindOK, inStore:
			p.st.succeeded++
		case r.Kind == wire.KindCancelled:
			p.st.cancelled++
		default:
			p.st.failed++
		}
		d := finished{t: t, fn: m.fn, value: r.Value}
		if r.Kind != wire.KindOK {
			d.failure = new(wire.Result)
			*d.failure = *r
		}
		ds = append(ds, d)
		n++
		return true
	})
	p.pacedLocked(last, n, ran)
	if len(ds) > 0 {
		p.completing++
	}
	p.mu.Unlock()
	for i := range ds {
		d := &ds[i]
		if d.failure != nil {
			p.complete(d.t, d.fn, d.failure)
		} else {
			remote.Complete(d.t, d.fn.Name(), p.codec, d.value, p.later, p.uncount)
		}
		*d = finished{}
	}
	p.doneBuf = ds[:0]
	if len(ds) > 0 {
		p.completed()
	}
	p.pump()
}

// pacedLocked notes that n calls of m, n >= 0, were answered, which ran
// for ran: the pace of lone calls of m's function follows the time they
// took on their worker.
func (p *Pool) pacedLocked(m *message, n int, ran time.Duration) {
	if m == nil || n == 0 || !m.lone {
		return
	}
	e := p.paces[m.fn]
	if e == nil {
		e = new(pace.Estimator)
		p.paces[m.fn] = e
	}
	e.Answered(n, ran)
}

// finished is a call whose outcome a results message brought: its value,
// which aliases the message, or the record of a failure (a value in the
// object store included).
type finished struct {
	t       futures.Task
	fn      *registry.Func
	value   []byte
	failure *wire.Result
}

// complete completes t, a call of fn, with r, its outcome: a value decoded
// with the pool's codec, or the error of a failure record; a value in the
// object store is read on the pool's goroutine for objects. r.Value need
// only last until it returns.
func (p *Pool) complete(t futures.Task, fn *registry.Func, r *wire.Result) {
	if name, ok := objectOf(r); ok {
		p.gc.add(func() { p.completeFromObject(t, fn, name) })
		return
	}
	if r.Kind != wire.KindOK {
		remote.End(t, nil, remote.Failure(t.Context(), r, fn.Name(), p.codec), p.later)
		return
	}
	remote.Complete(t, fn.Name(), p.codec, r.Value, p.later, p.uncount)
}

// undecodable counts a call counted as succeeded, whose result could not be
// decoded, as failed.
func (p *Pool) undecodable() {
	p.mu.Lock()
	p.st.succeeded--
	p.st.failed++
	p.mu.Unlock()
}

// lost fails the calls ids, whose message was delivered attempts times
// without an answer (0: as many times as the pool knows of, at least once),
// with a *LostError whose Cause is cause.
func (p *Pool) lost(attempts int, ids []uint64, cause error) {
	p.fail(ids, func(m *message, id uint64) error {
		n := attempts
		if n == 0 {
			n = max(m.attempt, 1)
		}
		return &LostError{ID: p.client + "." + strconv.FormatUint(id, 10), Attempts: n, Worker: m.worker, Cause: cause}
	})
}
