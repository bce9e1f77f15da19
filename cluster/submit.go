package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// callMsg is a message of calls being built.
type callMsg struct {
	b   wire.CallsBuilder
	ids []uint64
}

// enqueue publishes the calls ts of rf, whose context is ctx: it encodes
// their arguments, records them and publishes them in as few messages as
// fit. Calls whose argument cannot be encoded fail at once.
func (p *Pool) enqueue(ctx context.Context, rf *registry.Func, ts []futures.Task) error {
	n := uint64(len(ts))
	first := p.nextID.Add(n) - n + 1
	deadline, hasDeadline := ctx.Deadline()
	type failure struct {
		t   futures.Task
		err error
	}
	var bad []failure
	calls := make([]wire.Call, 0, len(ts))
	kept := make([]int32, 0, len(ts)) // the index in ts of each of calls
	var args []byte                   // the encoded arguments, back to back; a slice of an older array stays valid
	for i, t := range ts {
		c := wire.Call{ID: first + uint64(i), Func: rf.Name()}
		start := len(args)
		var hasArg bool
		var err error
		if args, hasArg, err = remote.AppendArg(args, t, p.codec, rf.ArgType()); hasArg {
			arg := args[start:len(args):len(args)]
			if err != nil {
				err = fmt.Errorf("futures/cluster: cannot encode the argument of %s with %s: %w; pass a type the codec supports", registry.ShortName(rf.Name()), p.codec.Name(), err)
			}
			if err != nil {
				args = args[:start]
				bad = append(bad, failure{t, err})
				continue
			}
			c.Flags |= wire.FlagArg
			c.Arg = arg
		}
		calls = append(calls, c)
		kept = append(kept, int32(i))
	}

	p.mu.Lock()
	if err := p.waitRoomLocked(ctx, len(ts)); err != nil {
		p.mu.Unlock()
		return err
	}
	p.st.submitted += int64(len(bad))
	p.st.failed += int64(len(bad))
	g := p.groupLocked(ctx)
	var gid uint64
	if g != nil {
		gid = g.id
	}
	live := calls[:0]
	ended := 0
	es := make([]entry, len(kept)) // one allocation for the entries of a chunk
	for i, k := range kept {
		t := ts[k]
		c := calls[i]
		c.Group = gid
		// A call cancelled before it got here, or whose context ended, is
		// recorded but not published: settleLocked counts it once it is
		// cancelled, by its owner or by endGroup.
		e := &es[i]
		*e = entry{t: t, fn: rf, group: g}
		if p.tooBig(&c) {
			e.argObj = argObject(p.client, c.ID)
		}
		p.entries[c.ID] = e
		p.queued++
		p.st.submitted++
		p.st.queued++
		if t.State() != futures.Pending || ctx.Err() != nil {
			ended++
			continue
		}
		live = append(live, c)
	}
	p.mu.Unlock()
	for _, f := range bad {
		f.t.Complete(nil, f.err)
	}
	if ended > 0 {
		p.mu.Lock()
		p.settleLocked()
		p.mu.Unlock()
	}
	if len(live) > 0 {
		p.publish(ctx, gid, live, deadline, hasDeadline)
	}
	return nil
}

// callMsgSlack is room kept in a call message for its headers and subject.
const callMsgSlack = 512

// publish publishes calls, of group gid, in messages of at most the
// server's max_payload.
func (p *Pool) publish(ctx context.Context, gid uint64, calls []wire.Call, deadline time.Time, hasDeadline bool) {
	subject := p.top.callSubject(p.client, gid)
	var b wire.CallsBuilder
	size := wire.CallsOverhead
	from := 0
	flush := func(to int) {
		if to == from {
			return
		}
		p.publishMsg(subject, b.Frame(), calls[from:to], deadline, hasDeadline, "")
		from, size = to, wire.CallsOverhead
	}
	for i := range calls {
		c := &calls[i]
		if hasDeadline {
			c.Flags |= wire.FlagDeadline
			c.Deadline = uint64(max(time.Until(deadline), 1))
		}
		if p.tooBig(c) {
			flush(i)
			p.publishLarge(subject, c, deadline, hasDeadline)
			from = i + 1
			continue
		}
		need := len(c.Arg) + len(c.Func) + wire.CallOverhead
		if size+need+callMsgSlack > p.maxPayload {
			flush(i)
		}
		b.Add(c)
		size += need
	}
	flush(len(calls))
}

// tooBig reports whether the argument of c is too big for a message of the
// server: it goes through the object store.
func (p *Pool) tooBig(c *wire.Call) bool {
	return c.Flags&wire.FlagArg != 0 && len(c.Arg)+len(c.Func)+wire.CallOverhead+wire.CallsOverhead+callMsgSlack > p.maxPayload
}

// publishLarge puts the argument of c in the object store and publishes c
// alone, its message naming the object. If the object cannot be stored, c
// fails; if c ended meanwhile, the object is deleted and c not published.
func (p *Pool) publishLarge(subject string, c *wire.Call, deadline time.Time, hasDeadline bool) {
	name := argObject(p.client, c.ID)
	if err := p.objs.put(name, c.Arg); err != nil {
		p.failCalls([]uint64{c.ID}, err)
		return
	}
	p.mu.Lock()
	_, live := p.entries[c.ID]
	p.mu.Unlock()
	if !live { // its deletion may have come before the object
		p.dropObject(name)
		return
	}
	small := *c
	small.Arg = nil
	var b wire.CallsBuilder
	b.Add(&small)
	p.publishMsg(subject, b.Frame(), []wire.Call{small}, deadline, hasDeadline, name)
}

// publishMsg publishes one message of calls, whose argument is the object
// argObj if not empty; if the server refuses it, its calls fail.
func (p *Pool) publishMsg(subject string, data []byte, calls []wire.Call, deadline time.Time, hasDeadline bool, argObj string) {
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(headerCodec, p.codec.Name())
	if argObj != "" {
		m.Header.Set(headerArgObject, argObj)
	}
	if p.cfg.taskTimeout > 0 {
		m.Header.Set(headerTimeout, strconv.FormatInt(int64(p.cfg.taskTimeout), 10))
	}
	if hasDeadline {
		// The server's TTLs are whole seconds, at least one.
		ttl := time.Until(deadline).Truncate(time.Second) + time.Second
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
		ids := make([]uint64, len(calls))
		for i := range calls {
			ids[i] = calls[i].ID
		}
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
	p.mu.Lock()
	var ts []futures.Task
	for _, id := range ids {
		if e := p.takeLocked(id); e != nil {
			p.st.failed++
			ts = append(ts, e.t)
		}
	}
	p.mu.Unlock()
	for _, t := range ts {
		p.done.add(func() { t.Complete(nil, err) })
	}
}

// takeLocked removes the entry id and uncounts it as queued or running; it
// returns nil if the call finished already. The caller counts its outcome.
func (p *Pool) takeLocked(id uint64) *entry {
	e := p.entries[id]
	if e == nil {
		return nil
	}
	delete(p.entries, id)
	p.forgetLocked(e)
	if e.started {
		p.st.running--
	} else {
		p.st.queued--
		p.queued--
		p.room.Broadcast()
	}
	return e
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
		// Cancelled calls leave the queue without telling the pool: look
		// for them now and then.
		t := time.AfterFunc(settleEvery, func() {
			p.mu.Lock()
			p.settleLocked()
			p.mu.Unlock()
		})
		stop := context.AfterFunc(ctx, func() {
			p.mu.Lock()
			p.room.Broadcast()
			p.mu.Unlock()
		})
		p.room.Wait()
		t.Stop()
		stop()
	}
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
// leave the stream and are cancelled, and the workers cancel the context of
// its running ones.
func (p *Pool) endGroup(g *group) {
	p.mu.Lock()
	if p.groups[g.ctx] == g {
		delete(p.groups, g.ctx)
	}
	if p.stage >= poolTornDown {
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.cancelOnWorkers(cancelMsg{groups: []uint64{g.id}})
	ctx, cancel := context.WithTimeout(context.Background(), apiWait)
	defer cancel()
	// A failure leaves the messages to the workers, which skip them.
	p.calls.Purge(ctx, jetstream.WithPurgeSubject(p.top.callSubject(p.client, g.id)))
	p.mu.Lock()
	var queued []futures.Task
	var held []uint64
	for id, e := range p.entries {
		switch {
		case e.group != g:
		case e.started:
			held = append(held, id)
		default:
			queued = append(queued, e.t)
		}
	}
	p.mu.Unlock()
	// The purge took the messages of the running calls too, so none of
	// them is delivered again: a call whose worker died, or that ignores
	// its cancellation, would wait forever. Past WorkerLostAfter it is lost.
	if len(held) > 0 {
		cause := context.Cause(g.ctx)
		time.AfterFunc(p.cfg.workerLostAfter, func() { p.lost(0, held, cause) })
	}
	// The calls of SubmitContext and Map cancel themselves as their context
	// ends, with the error that says why; a Task of another kind may not.
	wait, stop := context.WithTimeout(context.Background(), ownerGrace)
	futures.Wait(wait, queued, futures.AllCompleted)
	stop()
	for _, t := range queued {
		t.Cancel() // counted by the next settleLocked
	}
	p.mu.Lock()
	p.settleLocked()
	p.mu.Unlock()
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
