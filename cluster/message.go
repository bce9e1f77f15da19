package cluster

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/wire"
	"github.com/nats-io/nats.go"
)

// message is a message of calls of one function and context that the pool
// accepted: it waits in the pool, in pending, until a worker has a free
// slot for it, is then published, and is forgotten once each of its calls
// has an outcome. A Map chunk is one message; so is each Submit, but the
// lone calls of one function and context that wait in the pool together go
// out in one message when the function's calls are quick (see joinLocked).
type message struct {
	no       uint64 // its number: the id of its call i is no<<idShift | i
	fn       *registry.Func
	group    *group    // nil for a context that never ends
	gid      uint64    // the group's id, 0 for none
	deadline time.Time // of its context, zero for none
	argObj   string    // the object holding the argument of its one call, if too big for a message
	calls    []mcall
	left     int    // calls without an outcome
	sent     bool   // published, and counted in Pool.inflight until left is 0 (see overrun)
	lone     bool   // made for one call, of Execute or a Map with Chunksize 1: others may join it (see joinLocked)
	attempt  int    // the latest delivery a worker asked to start, 0 before any
	worker   string // the worker that asked
}

// mcall is a call of a message.
type mcall struct {
	t       futures.Task // nil once the call has an outcome
	arg     []byte       // its encoded argument, with hasArg
	hasArg  bool
	started bool // published: Running
}

// idShift splits the id of a call into its message's number and its index
// in the message: a message holds fewer than 1<<idShift calls, since each
// record takes at least four bytes of a message of at most 64 MiB.
const idShift = 24

// callID returns the id of the call i of m.
func (m *message) callID(i int) uint64 { return m.no<<idShift | uint64(i) }

// callLocked returns the message of the call id and its index there, or nil
// if the call has an outcome already or is not the pool's.
func (p *Pool) callLocked(id uint64) (*message, int) {
	m := p.msgs[id>>idShift]
	i := int(id & (1<<idShift - 1))
	if m == nil || i >= len(m.calls) || m.calls[i].t == nil {
		return nil, 0
	}
	return m, i
}

// takeLocked removes the call i of m, which has no outcome yet, and
// uncounts it as queued or running; it returns its task, whose outcome the
// caller counts. A message whose last call it takes is forgotten, with its
// large argument and the arguments of its calls, and leaves room for
// another in the window, unless its worker still runs a call of it that
// overran TaskTimeout.
func (p *Pool) takeLocked(m *message, i int) futures.Task {
	c := &m.calls[i]
	t := c.t
	c.t = nil // its argument stays: publishMessage may be reading it
	if c.started {
		p.st.running--
	} else {
		p.st.queued--
		p.queued--
		p.room.Broadcast()
	}
	m.left--
	if m.left == 0 {
		delete(p.msgs, m.no)
		if m.argObj != "" {
			p.dropObject(m.argObj)
		}
		if _, busy := p.overruns[m.no]; m.sent && !busy {
			p.inflight--
		}
		p.idleLocked()
	}
	return t
}

// idleLocked signals idle if every call of the pool is over.
func (p *Pool) idleLocked() {
	if p.overLocked() {
		p.idle.Broadcast()
	}
}

// completed notes that a goroutine that took calls from the table, having
// counted itself in completing, completed them or passed them to the
// completer, which release waits for.
func (p *Pool) completed() {
	p.mu.Lock()
	p.completing--
	p.idleLocked()
	p.mu.Unlock()
}

// settleLocked counts and forgets the queued calls whose futures ended
// meanwhile: cancelled by their reader, or by the end of their context. A
// message waiting in the pool whose calls all ended leaves it, so that the
// pool does not keep it, arguments and all, until a worker has room.
func (p *Pool) settleLocked() {
	p.sweepLocked(nil, p.settleOneLocked)
}

// sweepLocked calls each for every call of the messages of g, or of every
// message if g is nil, then drops from pending the messages each left
// without calls, and signals room.
func (p *Pool) sweepLocked(g *group, each func(m *message, i int)) {
	gone := false
	for _, m := range p.msgs {
		if g != nil && m.group != g {
			continue
		}
		for i := range m.calls {
			each(m, i)
		}
		gone = gone || m.left == 0
	}
	if gone {
		for _, m := range p.pending.Drain() {
			if m.left > 0 {
				p.pending.Push(m)
			}
		}
	}
	p.room.Broadcast()
}

// settleOneLocked counts and forgets the call i of m if it is queued and
// its future ended.
func (p *Pool) settleOneLocked(m *message, i int) {
	c := &m.calls[i]
	if c.t == nil || c.started {
		return
	}
	switch c.t.State() {
	case futures.Pending:
		return
	case futures.Cancelled:
		p.st.cancelled++
	default:
		p.st.failed++
	}
	p.takeLocked(m, i)
}

// takeQueuedLocked takes the calls not started of g, or of every group if
// g is nil, to be cancelled: one whose future ended is counted as
// settleOneLocked counts it, one still pending is counted as cancelled and
// returned for the caller to cancel once it has unlocked p.mu (see
// cancelTaken). Taken, a call can be completed by no one else in the pool.
func (p *Pool) takeQueuedLocked(g *group) []futures.Task {
	var ts []futures.Task
	p.sweepLocked(g, func(m *message, i int) {
		c := &m.calls[i]
		if c.t == nil || c.started || c.t.State() != futures.Pending {
			p.settleOneLocked(m, i)
			return
		}
		ts = append(ts, c.t)
		p.st.cancelled++
		p.takeLocked(m, i)
	})
	return ts
}

// cancelTaken cancels ts, the calls takeQueuedLocked returned; one that
// ended otherwise meanwhile, which Cancel reports, is counted as failed
// instead, as settleOneLocked would have counted it.
func (p *Pool) cancelTaken(ts []futures.Task) {
	for _, t := range ts {
		if !t.Cancel() {
			p.mu.Lock()
			p.st.cancelled--
			p.st.failed++
			p.mu.Unlock()
		}
	}
}

// pump publishes the messages waiting in the pool, oldest first, while the
// window has room.
func (p *Pool) pump() {
	for {
		p.mu.Lock()
		free := p.windowLocked() - p.inflight
		if p.stage >= poolTornDown || p.pending.Len() == 0 || free <= 0 {
			p.mu.Unlock()
			return
		}
		m, _ := p.pending.Pop()
		if p.pending.Len() >= free { // more wait than the workers have room for
			p.joinLocked(m)
		}
		n := p.startLocked(m)
		p.mu.Unlock()
		if n > 0 {
			p.publishMessage(m)
		}
	}
}

// joinLocked moves into m, a lone call's message about to be published
// while more wait than the workers have free slots for, the calls of the
// lone calls' messages of the same function, context and deadline that
// wait behind it, as many as the function's pace allows
// for the time its calls take and as fit in a message of the server. A
// worker slot then takes them together and runs them one after the other,
// which spares a round trip through the server per call; a function whose
// speed is not known yet, or whose calls take longer than pace.AheadTarget,
// has one call per message. The calls moved get ids in m.
func (p *Pool) joinLocked(m *message) {
	if !m.lone {
		return
	}
	e := p.paces[m.fn]
	if e == nil || e.Limit() <= 1 {
		return
	}
	size := wire.CallsOverhead + callMsgSlack + m.liveSize()
	for m.left < e.Limit() && len(m.calls) < 1<<idShift {
		o, ok := p.pending.Peek()
		if !ok || !o.lone || o.fn != m.fn || o.group != m.group || !o.deadline.Equal(m.deadline) {
			return
		}
		grow := o.liveSize()
		if size+grow > p.maxPayload {
			return
		}
		p.pending.Pop()
		delete(p.msgs, o.no)
		for _, c := range o.calls {
			if c.t != nil {
				m.calls = append(m.calls, c)
				m.left++
			}
		}
		size += grow
	}
}

// liveSize returns at most the bytes the records of the calls of m without
// an outcome take in a message.
func (m *message) liveSize() int {
	size := 0
	for i := range m.calls {
		if m.calls[i].t != nil {
			size += callSize(m.fn, &m.calls[i])
		}
	}
	return size
}

// startLocked marks the calls of m Running, and m sent, and returns how
// many it marked: a call whose future ended meanwhile is counted and
// forgotten, and one whose context ended stays queued for endGroup to
// cancel.
func (p *Pool) startLocked(m *message) int {
	n := 0
	for i := range m.calls {
		c := &m.calls[i]
		if c.t == nil {
			continue
		}
		if c.t.Context().Err() != nil {
			continue
		}
		if !c.t.Start() {
			p.settleOneLocked(m, i)
			continue
		}
		c.started = true
		p.queued--
		p.st.queued--
		p.st.running++
		n++
	}
	if n > 0 {
		m.sent = true
		p.inflight++
		p.room.Broadcast()
	}
	return n
}

// windowLocked returns how many messages may be published and unanswered:
// the slots of the workers that said hello within WorkerLostAfter, and at
// least one per local worker. A call no worker has room for thus waits in
// the pool, where it can be cancelled. It forgets the workers silent
// longer first (forgetSilentLocked).
func (p *Pool) windowLocked() int {
	p.forgetSilentLocked()
	n := 0
	for _, s := range p.seen {
		n += s.slots
	}
	return max(n, p.cfg.localWorkers)
}

// forgetSilentLocked forgets the workers that said no hello within
// WorkerLostAfter, and the overruns of workers it does not know that it
// heard of longer ago.
func (p *Pool) forgetSilentLocked() {
	if len(p.seen) == 0 && len(p.overruns) == 0 {
		return
	}
	now := time.Now()
	for id, s := range p.seen {
		if now.Sub(s.at) > p.cfg.workerLostAfter {
			delete(p.seen, id)
		}
	}
	p.forgetOverrunsLocked(func(o overrun) bool {
		_, seen := p.seen[o.worker]
		return !seen && now.Sub(o.at) > p.cfg.workerLostAfter
	})
}

// seenWorker is what the pool knows of a worker from its hellos.
type seenWorker struct {
	slots int
	at    time.Time // its last hello
}

// forgetLocal forgets the hellos of the local worker process pid, which
// exited: its slots leave the window at once, not WorkerLostAfter later,
// so that the worker started in its place is not counted with it; so do
// its overruns.
func (p *Pool) forgetLocal(pid int) {
	host, _ := os.Hostname()
	prefix := workerIDPrefix(host, pid)
	p.mu.Lock()
	for id := range p.seen {
		if strings.HasPrefix(id, prefix) {
			delete(p.seen, id)
		}
	}
	forgot := p.forgetOverrunsLocked(func(o overrun) bool { return strings.HasPrefix(o.worker, prefix) })
	p.mu.Unlock()
	if forgot {
		p.pump()
	}
}

// workerIDPrefix is how the id of the worker process pid on host starts;
// a random suffix follows.
func workerIDPrefix(host string, pid int) string {
	return host + ":" + strconv.Itoa(pid) + ":"
}

// greet handles a worker's hello: the window counts its slots until it has
// been silent for WorkerLostAfter, or says it stops; the pool then forgets
// its overruns.
func (p *Pool) greet(m *nats.Msg) {
	id, slots, err := parseHello(m.Data)
	if err != nil {
		return
	}
	p.mu.Lock()
	if slots == 0 {
		delete(p.seen, id)
		// Its slots leave the window, those of its overruns with them.
		p.forgetOverrunsLocked(func(o overrun) bool { return o.worker == id })
	} else {
		p.seen[id] = seenWorker{slots: slots, at: time.Now()}
	}
	p.forgetSilentLocked() // even with nothing to publish
	p.mu.Unlock()
	p.pump()
}
