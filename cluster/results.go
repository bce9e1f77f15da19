package cluster

import (
	"strconv"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/wire"
	"github.com/nats-io/nats.go"
)

// receive handles a message on the pool's result subject: a worker asking
// to start calls, results, or lost calls. A malformed message is dropped.
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
		if _, _, rest, ok := readHead(m.Data[1:]); ok {
			p.results(rest)
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

// startCalls starts the calls ids, whose message worker took in its
// attempt-th delivery, and returns those it must not run: calls that
// finished or were cancelled meanwhile, calls this pool does not know, and
// calls an equal or later delivery started. A call started by an earlier
// delivery, whose worker was lost, runs again.
func (p *Pool) startCalls(attempt int, worker string, ids []uint64) (skip []uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		e := p.entries[id]
		switch {
		case e == nil, e.started && attempt <= e.attempt:
			// Finished, or started by this delivery or a later one: a
			// worker that took the message before it was delivered again
			// asks late.
			skip = append(skip, id)
			continue
		case !e.started && e.t.Context().Err() != nil:
			skip = append(skip, id) // its context ended: endGroup cancels it
			continue
		case !e.started:
			if !e.t.Start() {
				skip = append(skip, id) // its future ended meanwhile
				p.settleOneLocked(id, e)
				p.room.Broadcast()
				continue
			}
			e.started = true
			p.queued--
			p.st.queued--
			p.st.running++
			p.room.Broadcast()
		}
		e.attempt, e.worker = attempt, worker
	}
	return skip
}

// results takes the outcomes in body, the records of a msgResults message:
// the first outcome of a call wins, later ones are dropped. The futures of
// package futures are completed here, their callbacks and the completions
// of other tasks on the completer.
func (p *Pool) results(body []byte) {
	ds := p.doneBuf[:0]
	p.mu.Lock()
	wire.ParseResults(body, func(r *wire.Result) bool {
		e := p.entries[r.ID]
		name, inStore := objectOf(r)
		if e == nil || !e.started {
			// Finished already, or never started: a stray record.
			if inStore {
				p.dropObject(name)
			}
			return true
		}
		p.takeLocked(r.ID)
		switch {
		case r.Kind == wire.KindOK, inStore:
			p.st.succeeded++
		case r.Kind == wire.KindCancelled:
			p.st.cancelled++
		default:
			p.st.failed++
		}
		ds = append(ds, finished{e, *r})
		return true
	})
	p.mu.Unlock()
	for i := range ds {
		p.complete(ds[i].e, &ds[i].r)
		ds[i] = finished{}
	}
	p.doneBuf = ds[:0]
}

// finished is a call whose outcome a results message brought.
type finished struct {
	e *entry
	r wire.Result
}

// complete completes the future of e with r, its outcome: a value decoded
// with the pool's codec, or the error of a failure record; a value in the
// object store is read on the pool's goroutine for objects. r.Value need
// only last until it returns.
func (p *Pool) complete(e *entry, r *wire.Result) {
	if name, ok := objectOf(r); ok {
		p.gc.add(func() { p.completeFromObject(e, name) })
		return
	}
	if r.Kind != wire.KindOK {
		remote.End(e.t, nil, remote.Failure(e.t.Context(), r, e.fn.Name(), p.codec), p.later)
		return
	}
	remote.Complete(e.t, e.fn.Name(), p.codec, r.Value, p.later, p.uncount)
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
// without an answer (0: as many times as the delivery that started each),
// with a *LostError whose Cause is cause.
func (p *Pool) lost(attempts int, ids []uint64, cause error) {
	type gone struct {
		t   futures.Task
		err error
	}
	var gs []gone
	p.mu.Lock()
	for _, id := range ids {
		e := p.takeLocked(id)
		if e == nil {
			continue
		}
		p.st.failed++
		n := attempts
		if n == 0 {
			n = e.attempt
		}
		gs = append(gs, gone{e.t, &LostError{ID: p.client + "." + strconv.FormatUint(id, 10), Attempts: n, Worker: e.worker, Cause: cause}})
	}
	p.mu.Unlock()
	for _, g := range gs {
		p.done.add(func() { g.t.Complete(nil, g.err) })
	}
}
