package cluster

import "time"

// overrun is what the pool keeps of a message one of whose calls overran
// TaskTimeout on its worker: the call failed on the pool, but it still
// runs on the worker and holds its slot. The message keeps its place in
// the window (Pool.inflight), even once every call of it has an outcome,
// until the worker says the call returned (msgFreed), a later delivery of
// the message asks to start (its worker was lost), the worker says it
// stops or is silent for WorkerLostAfter, or the pool tears down. The pool
// keeps at most one per message it published.
type overrun struct {
	worker  string
	attempt int       // the delivery the worker runs
	at      time.Time // when the pool heard of it
}

// overran records that the call id, of the attempt-th delivery of its
// message to worker, overran TaskTimeout and still runs: a msgOverran
// message, which comes before the call's timeout record. A call that has
// an outcome already, or is of an earlier delivery than one the pool
// started, is not recorded.
func (p *Pool) overran(attempt int, worker string, id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, _ := p.callLocked(id)
	if m == nil || !m.sent || attempt < m.attempt || p.stage >= poolTornDown {
		return
	}
	if o, ok := p.overruns[m.no]; ok && o.attempt > attempt {
		return
	}
	p.overruns[m.no] = overrun{worker: worker, attempt: attempt, at: time.Now()}
}

// freed handles a msgFreed message: the call id, which overran on worker
// in its attempt-th delivery, returned, and its slot is free.
func (p *Pool) freed(attempt int, worker string, id uint64) {
	p.mu.Lock()
	no := id >> idShift
	o, ok := p.overruns[no]
	if ok && o.attempt == attempt && o.worker == worker {
		p.forgetOverrunLocked(no)
	}
	p.mu.Unlock()
	if ok {
		p.pump()
	}
}

// forgetOverrunLocked forgets the overrun of the message no, which it
// has: the message leaves the window if its calls all have outcomes.
func (p *Pool) forgetOverrunLocked(no uint64) {
	delete(p.overruns, no)
	if p.msgs[no] == nil {
		p.inflight--
	}
}

// forgetOverrunsLocked forgets the overruns for which gone returns true,
// and reports whether there was one.
func (p *Pool) forgetOverrunsLocked(gone func(o overrun) bool) (forgot bool) {
	for no, o := range p.overruns {
		if gone(o) {
			p.forgetOverrunLocked(no)
			forgot = true
		}
	}
	return forgot
}
