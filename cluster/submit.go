package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/wire"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Execute publishes t's call to the calls stream, where it waits for a
// worker. It returns an error matching futures.ErrNotRegistered if t's
// function is not registered (a closure, say), futures.ErrShutdown after
// Shutdown and an ErrBrokenExecutor error once the pool is broken. An
// argument the codec cannot encode is accepted and fails t's future with an
// error that says so; one too big for a message of the server goes through
// the pool's object store. With
// QueueSize it blocks while the queue is full. Most code calls Submit, Go or
// Map instead.
func (p *Pool) Execute(t futures.Task) error {
	if p == nil {
		return errNilPool
	}
	if t == nil {
		return errors.New("futures/cluster: Pool.Execute: the Task is nil")
	}
	rf, err := registry.Lookup(t.Func())
	if err != nil {
		return err
	}
	return p.enqueue(t.Context(), rf, []futures.Task{t})
}

// ExecuteBatch publishes ts as few messages as it can: consecutive calls of
// the same function and context go together, in messages of at most the
// server's max_payload, so that one worker takes a whole chunk of a Map. It
// accepts or refuses all of them, as Execute does for one.
func (p *Pool) ExecuteBatch(ts []futures.Task) error {
	if p == nil {
		return errNilPool
	}
	fns := make([]*registry.Func, len(ts))
	for i, t := range ts {
		if t == nil {
			return errors.New("futures/cluster: Pool.ExecuteBatch: a Task is nil")
		}
		rf, err := registry.Lookup(t.Func())
		if err != nil {
			return err
		}
		fns[i] = rf
	}
	p.mu.Lock()
	err := p.refusalLocked()
	p.mu.Unlock()
	if err != nil {
		return err
	}
	for i := 0; i < len(ts); {
		j := i + 1
		for j < len(ts) && fns[j] == fns[i] && ts[j].Context() == ts[i].Context() {
			j++
		}
		if err := p.enqueue(ts[i].Context(), fns[i], ts[i:j]); err != nil {
			// A QueueSize wait fails when its context ends or Shutdown
			// starts; enqueue then recorded none of the run. Before any
			// run was accepted, the batch is refused as a whole; after,
			// the runs left fail like the calls of a stopped Map.
			if i == 0 {
				return err
			}
			for _, t := range ts[i:] {
				t.Complete(nil, err)
			}
			return nil
		}
		i = j
	}
	return nil
}

// enqueue accepts the calls ts of rf, whose context is ctx: it encodes
// their arguments and records them in as few messages as fit in one of the
// server's, which wait in the pool until the workers have room for them.
// Calls whose argument cannot be encoded fail at once; an argument too big
// for a message goes to the object store now.
func (p *Pool) enqueue(ctx context.Context, rf *registry.Func, ts []futures.Task) error {
	deadline, _ := ctx.Deadline()
	type failure struct {
		t   futures.Task
		err error
	}
	var bad []failure
	calls := make([]mcall, 0, len(ts))
	var args []byte // the encoded arguments, back to back; a slice of an older array stays valid
	for _, t := range ts {
		c := mcall{t: t}
		start := len(args)
		var err error
		if args, c.hasArg, err = remote.AppendArg(args, t, p.codec, rf.ArgType()); c.hasArg {
			if err != nil {
				args = args[:start]
				bad = append(bad, failure{t, fmt.Errorf("futures/cluster: cannot encode the argument of %s with %s: %w; pass a type the codec supports", registry.ShortName(rf.Name()), p.codec.Name(), err)})
				continue
			}
			c.arg = args[start:len(args):len(args)]
			if len(calls) == 0 && len(ts) > 1 {
				// The arguments of a batch are about the size of the first.
				args = slices.Grow(args, (len(ts)-1)*(len(args)+1))
			}
		}
		calls = append(calls, c)
	}

	p.mu.Lock()
	if err := p.waitRoomLocked(ctx, len(ts)); err != nil {
		p.mu.Unlock()
		return err
	}
	p.st.submitted += int64(len(ts))
	p.st.failed += int64(len(bad))
	g := p.groupLocked(ctx)
	var gid uint64
	if g != nil {
		gid = g.id
	}
	var large []*message
	ended := false
	// The messages take consecutive runs of calls, each as many as fit.
	for from := 0; from < len(calls); {
		m := &message{fn: rf, group: g, gid: gid, deadline: deadline}
		p.nextMsg++
		m.no = p.nextMsg
		to := from + 1
		if p.tooBig(rf, &calls[from]) {
			m.argObj = argObject(p.client, m.callID(0))
			large = append(large, m)
		} else {
			size := wire.CallsOverhead + callMsgSlack + callSize(rf, &calls[from])
			for to < len(calls) && !p.tooBig(rf, &calls[to]) && size+callSize(rf, &calls[to]) <= p.maxPayload {
				size += callSize(rf, &calls[to])
				to++
			}
			m.lone = len(calls) == 1
			p.pending.Push(m)
		}
		m.calls = calls[from:to:to]
		m.left = len(m.calls)
		p.msgs[m.no] = m
		for i := range m.calls {
			ended = ended || m.calls[i].t.State() != futures.Pending
		}
		from = to
	}
	p.queued += len(calls)
	p.st.queued += int64(len(calls))
	if ended { // cancelled before they got here: not published
		p.settleLocked()
	}
	p.mu.Unlock()
	for _, f := range bad {
		f.t.Complete(nil, f.err)
	}
	for _, m := range large {
		p.storeArg(m)
	}
	p.pump()
	return nil
}

// callMsgSlack is room kept in a call message for its headers and subject.
const callMsgSlack = 512

// callSize is the most bytes the record of c, a call of rf, takes in a
// message.
func callSize(rf *registry.Func, c *mcall) int {
	return len(c.arg) + len(rf.Name()) + wire.CallOverhead
}

// tooBig reports whether the argument of c, a call of rf, is too big for a
// message of the server: it goes through the object store.
func (p *Pool) tooBig(rf *registry.Func, c *mcall) bool {
	return c.hasArg && callSize(rf, c)+wire.CallsOverhead+callMsgSlack > p.maxPayload
}

// storeArg puts the argument of the one call of m in the object store, and
// queues m, its message naming the object. If the object cannot be stored,
// the call fails; if it ended meanwhile, the object is deleted.
func (p *Pool) storeArg(m *message) {
	if err := p.objs.put(m.argObj, m.calls[0].arg); err != nil {
		p.failCalls([]uint64{m.callID(0)}, err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.msgs[m.no] != m { // its deletion may have come before the object
		p.dropObject(m.argObj)
		return
	}
	p.pending.Push(m)
}

// publishMessage publishes the started calls of m.
func (p *Pool) publishMessage(m *message) {
	b := builders.Get().(*wire.CallsBuilder)
	defer builders.Put(b)
	c := wire.Call{Group: m.gid, Func: m.fn.Name()}
	if !m.deadline.IsZero() {
		c.Flags |= wire.FlagDeadline
		c.Deadline = uint64(max(time.Until(m.deadline), 1))
	}
	arg := func(i int) []byte { return m.calls[i].arg }
	for i := 0; i < len(m.calls); {
		if !m.calls[i].started {
			i++
			continue
		}
		// A run of calls started, with an argument or without.
		hasArg := m.calls[i].hasArg
		j := i + 1
		for j < len(m.calls) && m.calls[j].started && m.calls[j].hasArg == hasArg {
			j++
		}
		c.ID = m.callID(i)
		c.Flags &^= wire.FlagArg
		if hasArg {
			c.Flags |= wire.FlagArg
		}
		if m.argObj != "" { // its one call's argument is in the object store
			c.Arg = nil
			b.Add(&c)
		} else {
			from := i
			b.AddRun(&c, j-i, func(k int) []byte { return arg(from + k) })
		}
		i = j
	}
	p.publishMsg(p.top.callSubject(p.client, m.gid), b.Frame(), m)
}

// builders holds the CallsBuilders of publishMessage, whose buffers grow
// to the size of a message once instead of for every message.
var builders = sync.Pool{New: func() any { return new(wire.CallsBuilder) }}

// publishMsg publishes one message of calls, those of m; if the server
// refuses it, its calls fail.
func (p *Pool) publishMsg(subject string, data []byte, msg *message) {
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(headerCodec, p.codec.Name())
	if msg.argObj != "" {
		m.Header.Set(headerArgObject, msg.argObj)
	}
	if p.cfg.taskTimeout > 0 {
		m.Header.Set(headerTimeout, strconv.FormatInt(int64(p.cfg.taskTimeout), 10))
	}
	if !msg.deadline.IsZero() {
		// The server's TTLs are whole seconds, at least one.
		ttl := time.Until(msg.deadline).Truncate(time.Second) + time.Second
		m.Header.Set(jetstream.MsgTTLHeader, ttl.String())
	}
	giveUp := time.Now().Add(apiWait)
	for {
		_, err := p.pub.PublishMsgAsync(m)
		if err == nil {
			return
		}
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && time.Now().Before(giveUp) {
			continue // it waited for the server to acknowledge earlier messages
		}
		ids, _ := callIDs(data)
		p.failCalls(ids, fmt.Errorf("futures/cluster: publishing the call: %w", err))
		return
	}
}

// publishFailed fails the calls of a message the server did not accept.
func (p *Pool) publishFailed(_ jetstream.JetStream, m *nats.Msg, err error) {
	ids, perr := callIDs(m.Data)
	if perr != nil {
		return // not a message of calls
	}
	p.failCalls(ids, fmt.Errorf("futures/cluster: the server did not store the call: %w", err))
}

// failCalls fails the calls ids that have not finished with err.
func (p *Pool) failCalls(ids []uint64, err error) {
	p.fail(ids, func(*message, uint64) error { return err })
}

// fail fails each call of ids that has not finished, counted, with the
// error errOf returns for it, its message and its id, called with the
// pool's mutex held; the futures complete on the completer.
func (p *Pool) fail(ids []uint64, errOf func(m *message, id uint64) error) {
	type gone struct {
		t   futures.Task
		err error
	}
	var gs []gone
	p.mu.Lock()
	for _, id := range ids {
		if m, i := p.callLocked(id); m != nil {
			err := errOf(m, id)
			p.st.failed++
			gs = append(gs, gone{p.takeLocked(m, i), err})
		}
	}
	if len(gs) > 0 {
		p.completing++
	}
	p.mu.Unlock()
	if len(gs) > 0 {
		for _, g := range gs {
			p.done.add(func() { g.t.Complete(nil, g.err) })
		}
		p.completed()
	}
	p.pump()
}

// waitRoomLocked returns why the pool refuses n more calls, after waiting
// for room in the queue with QueueSize, or an error matching
// futures.ErrCancelled once ctx ends.
func (p *Pool) waitRoomLocked(ctx context.Context, n int) error {
	for {
		if err := p.refusalLocked(); err != nil {
			return err
		}
		if p.cfg.queueSize == 0 || p.queued == 0 || p.queued+n <= p.cfg.queueSize {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("futures/cluster: gave up waiting for room in the queue: %w (%w)", futures.ErrCancelled, context.Cause(ctx))
		}
		p.waitLocked(ctx, p.room)
	}
}

// waitLocked waits on c, a condition of p.mu, until it is signalled or ctx
// ends. Queued calls that were cancelled leave the queue without telling
// the pool: meanwhile it looks for them every settleEvery, signalling c.
func (p *Pool) waitLocked(ctx context.Context, c *sync.Cond) {
	t := time.AfterFunc(settleEvery, func() {
		p.mu.Lock()
		p.settleLocked()
		c.Broadcast()
		p.mu.Unlock()
	})
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		c.Broadcast()
		p.mu.Unlock()
	})
	c.Wait()
	t.Stop()
	stop()
}

// groupLocked returns the group of calls made with ctx, or nil for a
// context that never ends.
func (p *Pool) groupLocked(ctx context.Context) *group {
	if ctx.Done() == nil {
		return nil
	}
	if g := p.groups[ctx]; g != nil {
		return g
	}
	p.nextGroup++
	g := &group{id: p.nextGroup, ctx: ctx}
	p.groups[ctx] = g
	p.wg.Add(1)
	g.stop = context.AfterFunc(ctx, func() {
		defer p.wg.Done()
		p.endGroup(g)
	})
	return g
}

// endGroup stops the calls of g, whose context ended: its queued calls
// are cancelled, and the workers cancel the context of its published ones.
func (p *Pool) endGroup(g *group) {
	p.mu.Lock()
	if p.groups[g.ctx] == g {
		delete(p.groups, g.ctx)
	}
	if p.stage >= poolTornDown {
		p.mu.Unlock()
		return
	}
	var held []uint64
	for _, m := range p.msgs {
		if m.group != g {
			continue
		}
		for i := range m.calls {
			if c := &m.calls[i]; c.t != nil && c.started {
				held = append(held, m.callID(i))
			}
		}
	}
	queued := p.queuedLocked(g)
	p.mu.Unlock()
	if len(held) > 0 {
		// A worker that holds a message of the group, or takes one later,
		// answers its calls as cancelled unless they run already. A call
		// whose worker died, or that ignores its cancellation, would keep
		// its future waiting: past WorkerLostAfter it is lost. Its message,
		// delivered again, is not run: the pool tells the worker so.
		p.cancelOnWorkers(cancelMsg{groups: []uint64{g.id}})
		cause := context.Cause(g.ctx)
		time.AfterFunc(p.cfg.workerLostAfter, func() {
			p.lost(0, held, cause)
			p.mu.Lock()
			gone := p.stage >= poolTornDown // release purged every message
			p.mu.Unlock()
			if gone {
				return
			}
			// No call of the group is left: neither is any message.
			ctx, cancel := context.WithTimeout(context.Background(), apiWait)
			defer cancel()
			p.calls.Purge(ctx, jetstream.WithPurgeSubject(p.top.callSubject(p.client, g.id)))
		})
	}
	// The calls of SubmitContext and Map cancel themselves as their context
	// ends, with the error that says why; a Task of another kind may not.
	// Waiting on them is safe: startLocked starts no call whose context
	// ended, so none of them succeeds and is given to the pool again. Those
	// still pending after ownerGrace are cancelled only if still in the
	// table, taken from it first, so that no one else completes them.
	wait, stop := context.WithTimeout(context.Background(), ownerGrace)
	futures.Wait(wait, queued, futures.AllCompleted)
	stop()
	p.mu.Lock()
	left := p.takeQueuedLocked(g)
	p.mu.Unlock()
	p.cancelTaken(left)
	p.pump()
}

// queuedLocked returns the tasks of the calls of g not started.
func (p *Pool) queuedLocked(g *group) []futures.Task {
	var ts []futures.Task
	for _, m := range p.msgs {
		if m.group != g {
			continue
		}
		for i := range m.calls {
			if c := &m.calls[i]; c.t != nil && !c.started {
				ts = append(ts, c.t)
			}
		}
	}
	return ts
}

// ownerGrace is how long endGroup lets the calls of a context that ended
// cancel themselves before it cancels them.
const ownerGrace = 100 * time.Millisecond

// apiWait bounds a request to the JetStream API.
const apiWait = 10 * time.Second

// cancelOnWorkers asks every worker to cancel the context of the calls c
// names.
func (p *Pool) cancelOnWorkers(c cancelMsg) {
	p.link.nc.Publish(p.top.cancelSubject(p.client), appendCancel(nil, c))
}
