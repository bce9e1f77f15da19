package serve

import (
	"context"
	"math"
	"time"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/wire"
)

// batch is the calls of one TCalls frame, in order. Its call records hold
// no pointers, so that the garbage collector neither scans them nor
// watches writes to them: they refer to their arguments by offsets in the
// frame's body, and to their functions and groups by index.
type batch struct {
	body   []byte
	calls  []call
	fns    []*registry.Func // nil for a function not registered here
	names  []string         // the names of fns
	groups []*group         // groups[0] is nil: the worker's own context
	next   int              // the first call not started
}

// call is a call received by a worker.
type call struct {
	id            uint64
	argAt, argEnd uint32 // the argument is body[argAt:argEnd]
	fn            uint32 // index in fns
	group         uint32 // index in groups
	flags         uint8
}

// Flags of a call.
const (
	callHasArg    = 1 << iota // the call has an argument
	callCancelled             // the call's context is cancelled from the start
	// callReleases says the call gives back a reference to its group
	// once done: the calls of a batch in a row with one group hold one
	// reference, given back by the last of them.
	callReleases
)

// group is the shared context of the calls of one group (one Map).
type group struct {
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	refs   int
}

// maxPrealloc bounds the calls a batch makes room for before reading them,
// so that a frame announcing more calls than it holds costs no more memory
// than its bytes do.
const maxPrealloc = 1 << 12

// queueCalls queues the calls of the TCalls frame in b.body as batch b,
// and returns an error, queueing nothing, if the body is malformed. The
// calls in a row with the same group share one lookup and one reference to
// the group.
func (s *server) queueCalls(b *batch) error {
	cr := wire.ReadCalls(b.body)
	calls := b.calls[:0]
	if n := min(cr.Len(), maxPrealloc); cap(calls) < n {
		calls = make([]call, 0, n)
	}
	b.fns, b.names, b.groups = b.fns[:0], b.names[:0], append(b.groups[:0], nil)
	var g *group // the group of the last call, if it has one
	for cr.Next() {
		c := &cr.Call
		if !cr.SameFunc {
			b.fns = append(b.fns, registry.ByName(c.Func))
			b.names = append(b.names, c.Func)
		}
		wc := call{id: c.ID, fn: uint32(len(b.fns) - 1)}
		group := c.Group
		if c.Flags&wire.FlagCancelled != 0 {
			wc.flags |= callCancelled
			group = 0
		}
		if g != nil && g.id != group {
			calls[len(calls)-1].flags |= callReleases
			g = nil
		}
		if g == nil && group != 0 {
			g = s.hold(group, c)
			b.groups = append(b.groups, g)
		}
		if g != nil {
			wc.group = uint32(len(b.groups) - 1)
		}
		if c.Flags&wire.FlagArg != 0 {
			wc.flags |= callHasArg
			wc.argAt, wc.argEnd = uint32(cr.ArgStart), uint32(cr.ArgStart+len(c.Arg))
		}
		calls = append(calls, wc)
	}
	if g != nil {
		calls[len(calls)-1].flags |= callReleases
	}
	b.calls, b.next = calls, 0
	if err := cr.Err(); err != nil {
		for i := range calls {
			s.release(b, &calls[i])
		}
		return err
	}
	if len(calls) > 0 {
		s.reuse = nil
		s.mu.Lock()
		s.queue.Push(b)
		s.mu.Unlock()
	}
	return nil
}

// hold returns the group id, created if new, and takes a reference to it.
// A new group's context has the deadline of c, a call of the group, if it
// carries one.
func (s *server) hold(id uint64, c *wire.Call) *group {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil {
		g = &group{id: id}
		if c.Flags&wire.FlagDeadline != 0 {
			g.ctx, g.cancel = context.WithTimeout(s.base, time.Duration(min(c.Deadline, math.MaxInt64)))
		} else {
			g.ctx, g.cancel = context.WithCancel(s.base)
		}
		s.groups[id] = g
	}
	g.refs++
	return g
}

// runQueue runs queued calls, in order, until none is left, then writes
// their results. Before each call it makes sure that the results of the
// calls before it are on their way, so that a long call holds none back,
// and that they are written or in the results area, so that a call that
// ends the process loses none.
func (s *server) runQueue() {
	unsent := false // a result was recorded since the writer was last asked
	for {
		b, c := s.next()
		if c == nil {
			s.flush()
			return
		}
		if s.area.full.Load() {
			s.flush()
		} else if unsent && !s.kicked.Load() {
			s.kick()
			unsent = false
		}
		s.run(b, c)
		unsent = true
	}
}

// next returns the next call to run and its batch, or nil if none is
// queued or the pool aborted. It is called by the goroutine running calls
// only.
func (s *server) next() (*batch, *call) {
	b := s.cur
	if b == nil || b.next == len(b.calls) {
		s.mu.Lock()
		s.cur, _ = s.queue.Pop()
		s.mu.Unlock()
		if b != nil {
			if cap(b.body) > wire.MaxKept {
				b.body = nil
			}
			s.batches.Put(b)
		}
		if b = s.cur; b == nil {
			return nil, nil
		}
	}
	if s.aborted.Load() {
		return nil, nil
	}
	b.next++
	return b, &b.calls[b.next-1]
}

// run runs one call of b and records its outcome. If the call ends its
// goroutine with runtime.Goexit, the runner records the outcome, and a new
// goroutine takes over the serving.
func (s *server) run(b *batch, c *call) {
	returned := false
	defer func() {
		if returned {
			return
		}
		s.release(b, c)
		s.flush()
		s.mu.Lock()
		s.running = false
		s.changed.Broadcast()
		s.ended.Broadcast()
		s.mu.Unlock()
		go s.loop()
	}()
	var arg []byte
	if c.flags&callHasArg != 0 {
		arg = b.body[c.argAt:c.argEnd:c.argEnd]
	}
	var r wire.Result
	if s.runner.Run(s.context(b, c), &r, c.id, b.fns[c.fn], b.names[c.fn], arg) {
		s.record(&r)
	}
	s.release(b, c)
	returned = true
}

// release gives back the group reference c of b holds, if any; the
// group's context ends with its last reference.
func (s *server) release(b *batch, c *call) {
	if c.flags&callReleases != 0 {
		g := b.groups[c.group]
		s.mu.Lock()
		if g.refs--; g.refs == 0 {
			delete(s.groups, g.id)
			g.cancel()
		}
		s.mu.Unlock()
	}
}

// context returns the context c of b runs with.
func (s *server) context(b *batch, c *call) context.Context {
	switch {
	case c.flags&callCancelled != 0:
		return s.cancelled
	case c.group != 0:
		return b.groups[c.group].ctx
	}
	return s.base
}
