package procpool

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/wire"
)

// pcall is a run of accepted calls that go to one worker together and get
// consecutive ids there: one call from Execute, or consecutive calls of a
// chunk from ExecuteBatch that have the same function and context. The
// calls of a run share one buffer of encoded arguments.
type pcall[T any] struct {
	ts      []T
	fn      *registry.Func
	ctx     context.Context // of every call of ts
	hasArg  bool
	args    []byte // the encoded arguments, back to back
	ends    []int  // with hasArg: where the argument of ts[i] ends in args
	first   int    // with hasArg: where the argument of ts[0] starts
	group   *pgroup
	id      uint64 // the id of ts[0] in the worker it was sent to
	done    int    // calls of ts that worker answered
	started bool   // every call of ts is started
	tries   uint8  // workers that died as ts[0] was the next call to start
	// split says that the run's one call has its encoded argument in args
	// followed by the caller's own bytes (see tail), written from where
	// they are.
	split bool

	one    [1]T   // ts of a single call
	oneEnd [1]int // ends of a single call
}

// arg returns the encoded argument of ts[i], or nil without arguments.
func (pc *pcall[T]) arg(i int) []byte {
	if !pc.hasArg {
		return nil
	}
	start := pc.first
	if i > 0 {
		start = pc.ends[i-1]
	}
	return pc.args[start:pc.ends[i]:pc.ends[i]]
}

// tail returns the rest of the encoded argument of a split run's one call,
// after args: the caller's own bytes; nil for another run.
func (pc *pcall[T]) tail() []byte {
	if !pc.split {
		return nil
	}
	b, _ := any(pc.ts[0]).(remote.BytesArg).ArgBytes()
	return b
}

// slice returns the run of the calls ts[from:to] of pc, started.
func (pc *pcall[T]) slice(from, to int) *pcall[T] {
	r := &pcall[T]{ts: pc.ts[from:to], fn: pc.fn, ctx: pc.ctx, hasArg: pc.hasArg, args: pc.args, group: pc.group, started: true}
	if from == 0 {
		r.tries = pc.tries
		r.split = pc.split && to > 0
	}
	if pc.hasArg {
		r.ends, r.first = pc.ends[from:to], pc.first
		if from > 0 {
			r.first = pc.ends[from-1]
		}
	}
	return r
}

// failure is a call to fail with err.
type failure[T any] struct {
	t   T
	err error
}

// Execute queues t to run in a worker process, starting a worker if none
// has room and fewer than MaxWorkers are alive, as ProcessPool.Execute
// documents.
func (p *Pool[T]) Execute(t T) error {
	rf, err := p.lookup(t)
	if err != nil {
		return err
	}
	pc := &pcall[T]{fn: rf, ctx: p.tasks.Context(t)}
	pc.one[0] = t
	pc.ts = pc.one[:]
	var args []byte
	hasArg, err := true, error(nil)
	if head, tail, ok := remote.SplitArg(nil, t, p.argCodec); ok && len(head)+len(tail) <= maxArg(rf) {
		args, pc.split = head, true
	} else if args, hasArg, err = p.encodeArg(t, rf, make([]byte, 0, rf.ArgSize())); err != nil {
		return p.enqueue(pc.ctx, nil, []failure[T]{{t, err}})
	}
	if pc.hasArg, pc.args = hasArg, args; hasArg {
		pc.oneEnd[0] = len(args)
		pc.ends = pc.oneEnd[:]
	}
	return p.enqueue(pc.ctx, []*pcall[T]{pc}, nil)
}

// ExecuteBatch queues ts, two tasks or more, as one chunk, as
// ProcessPool.ExecuteBatch documents. It keeps ts.
func (p *Pool[T]) ExecuteBatch(ts []T) error {
	if err, done := p.executeChunk(ts); done {
		return err
	}
	// The arguments go into one buffer, and consecutive calls of the same
	// function and context into one run.
	var (
		runs []*pcall[T]
		bad  []failure[T]
		args []byte
		cur  *pcall[T]
	)
	ends := make([]int, len(ts))
	for i, t := range ts {
		rf, err := p.lookup(t)
		if err != nil {
			return err
		}
		start := len(args)
		var hasArg bool
		args, hasArg, err = p.encodeArg(t, rf, args)
		ends[i] = len(args)
		if i == 0 { // make room for the others at the size of the first
			args = slices.Grow(args, (len(ts)-1)*(len(args)+len(args)/4))
		}
		if err != nil {
			bad = append(bad, failure[T]{t, err})
			cur = nil
			continue
		}
		if ctx := p.tasks.Context(t); cur == nil || cur.fn != rf || cur.hasArg != hasArg || cur.ctx != ctx {
			cur = &pcall[T]{ts: ts[i:i], fn: rf, ctx: ctx, hasArg: hasArg, ends: ends[i:i], first: start}
			runs = append(runs, cur)
		}
		cur.ts = cur.ts[:len(cur.ts)+1]
		cur.ends = cur.ends[:len(cur.ends)+1]
	}
	for _, r := range runs {
		if r.args = args; !r.hasArg {
			r.ends = nil
		}
	}
	return p.enqueue(p.tasks.Context(ts[0]), runs, bad)
}

// executeChunk queues ts as one run if Tasks.EncodeChunk encodes their
// arguments at once (the items of one Map), and reports whether it did. It
// leaves ts to ExecuteBatch's general path otherwise, and when an argument
// cannot be encoded.
func (p *Pool[T]) executeChunk(ts []T) (err error, done bool) {
	args, ends, ok := p.tasks.EncodeChunk(ts, p.argCodec)
	if !ok {
		return nil, false
	}
	rf, err := p.lookup(ts[0])
	if err != nil {
		return err, true
	}
	for i, start := 0, 0; i < len(ends); i++ {
		if ends[i]-start > maxArg(rf) {
			return nil, false // fails that item alone
		}
		start = ends[i]
	}
	pc := &pcall[T]{ts: ts, fn: rf, ctx: p.tasks.Context(ts[0]), hasArg: true, args: args, ends: ends}
	return p.enqueue(pc.ctx, []*pcall[T]{pc}, nil), true
}

// encodeArg appends t's argument, if it has one, encoded, to buf. It
// returns buf as it was and an error saying so if the codec cannot encode
// it.
func (p *Pool[T]) encodeArg(t T, rf *registry.Func, buf []byte) (out []byte, hasArg bool, err error) {
	start := len(buf)
	out, hasArg, err = remote.AppendArg(buf, t, p.argCodec, rf.ArgType())
	if err != nil {
		return buf[:start], hasArg, fmt.Errorf("futures: cannot encode the argument of %s with %s (a %s): %w; pass a type the codec supports", registry.ShortName(rf.Name()), p.codec.Name(), argTypeName(rf), err)
	}
	n := len(out) - start
	if n > maxArg(rf) {
		return buf[:start], hasArg, fmt.Errorf("futures: the argument of %s is %d bytes encoded, more than the %d bytes a call to a worker process can carry (a message holds at most %d bytes); pass the data another way, such as a file", registry.ShortName(rf.Name()), n, maxArg(rf), wire.MaxFrame)
	}
	rf.NoteArgSize(n)
	return out, hasArg, nil
}

// argTypeName names the type of rf's argument.
func argTypeName(rf *registry.Func) string {
	if t := rf.ArgType(); t != nil {
		return t.String()
	}
	return "no argument"
}

// lastFunc is the function of the tasks with Tasks.FuncKey key.
type lastFunc struct {
	key any
	rf  *registry.Func
}

// lookup returns the registration of t's function, or an error matching
// ErrNotRegistered. The items of one Map look it up once.
func (p *Pool[T]) lookup(t T) (*registry.Func, error) {
	key, shared := p.tasks.FuncKey(t)
	if shared {
		if last := p.last.Load(); last != nil && last.key == key {
			return last.rf, nil
		}
	}
	rf, err := registry.Lookup(p.tasks.Func(t))
	if err == nil && shared {
		p.last.Store(&lastFunc{key, rf})
	}
	return rf, err
}

// enqueue queues runs and fails the calls of bad, whose arguments could not
// be encoded, unless the pool refuses them all.
func (p *Pool[T]) enqueue(ctx context.Context, runs []*pcall[T], bad []failure[T]) error {
	n := len(bad)
	for _, r := range runs {
		n += len(r.ts)
	}
	p.mu.Lock()
	if err := p.waitRoomLocked(ctx, n); err != nil {
		p.mu.Unlock()
		return err
	}
	p.st.EndNew(counts.Failed, int64(len(bad)))
	for _, r := range runs {
		r.group = p.groupLocked(r.ctx, r.ts[0])
		p.queue.Push(r)
		p.admitLocked(r)
	}
	if len(runs) > 0 {
		p.dispatchLocked()
	}
	p.unlockAndFlush()
	for _, f := range bad {
		p.tasks.Fail(f.t, f.err)
	}
	return nil
}

// Counting queued calls. A call is Queued, and takes room in the queue
// (queued), from enqueue until it is taken from the queue (takeLocked), or
// until it is cancelled there: the pool owns the calls it queues that can
// have an owner (Tasks.Own), which tell it of their cancellation
// (NoteCancelled), so that the counters are exact and the room is free the
// moment Cancel returns.

// admitLocked counts the calls of r, just queued.
func (p *Pool[T]) admitLocked(r *pcall[T]) {
	for _, t := range r.ts {
		if owned, pending := p.tasks.Own(t); owned && !pending {
			p.st.EndNew(p.tasks.Ending(t), 1) // cancelled or failed before it got here
			continue
		}
		p.queued++
		p.st.Queue(1)
	}
}

// NoteCancelled counts a queued call that was cancelled and had the pool
// as its owner (Tasks.Own), and frees its room in the queue.
func (p *Pool[T]) NoteCancelled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queued--
	p.st.EndQueued(counts.Cancelled, 1)
	if p.queueSize > 0 {
		p.room.Broadcast()
	}
}

// takeLocked starts t, taken from the queue, and reports whether it
// started. A call that did not start was cancelled, or failed, in the
// queue: it is counted here unless the pool owns it, counted
// already by admitLocked or NoteCancelled. The caller counts a call that
// started, as running or ended.
func (p *Pool[T]) takeLocked(t T) bool {
	if p.tasks.Start(t) {
		p.queued--
		return true
	}
	if !p.tasks.Owned(t) {
		p.queued--
		p.st.EndQueued(p.tasks.Ending(t), 1)
	}
	return false
}

// waitRoomLocked returns why the pool refuses n more calls, after waiting
// for room in the queue with QueueSize.
func (p *Pool[T]) waitRoomLocked(ctx context.Context, n int) error {
	if err := p.refusalLocked(); err != nil || p.queueSize == 0 {
		return err
	}
	return p.waitRoom(ctx, p.room, func() (bool, error) {
		if err := p.refusalLocked(); err != nil {
			return false, err
		}
		return p.queued == 0 || p.queued+n <= p.queueSize, nil
	})
}

// pgroup is the context shared by calls, usually those of one Map: when it
// ends, the workers cancel the context of the calls they run for it. Its
// deadline, if it has one (Tasks.CarriesDeadline), is the deadline of those
// calls in the workers.
type pgroup struct {
	id       uint64
	ctx      context.Context
	deadline time.Time // zero without one
	stop     func() bool
}

// groupLocked returns the group of calls made with ctx, or nil for a
// context that never ends. A new group has ctx's deadline if t, its first
// call, carries it (Tasks.CarriesDeadline).
func (p *Pool[T]) groupLocked(ctx context.Context, t T) *pgroup {
	if ctx.Done() == nil {
		return nil
	}
	if g := p.lastGroup; g != nil && g.ctx == ctx {
		return g
	}
	g := p.groups[ctx]
	if g == nil {
		p.nextGroup++
		g = &pgroup{id: p.nextGroup, ctx: ctx}
		if p.tasks.CarriesDeadline(t) {
			g.deadline, _ = ctx.Deadline()
		}
		p.groups[ctx] = g
		g.stop = context.AfterFunc(ctx, func() { p.cancelGroup(g) })
	}
	p.lastGroup = g
	return g
}

// cancelGroup tells every worker to cancel the context of g's calls.
func (p *Pool[T]) cancelGroup(g *pgroup) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.groups, g.ctx)
	if p.lastGroup == g {
		p.lastGroup = nil
	}
	for _, w := range p.procs {
		if w.state == procReady {
			w.out.cancels = append(w.out.cancels, g.id)
			w.signal()
		}
	}
}
