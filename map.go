package futures

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/ring"
)

// Map calls fn(ctx, a) on ex for every a of args and yields each result with
// its error: Python's executor.map(fn, args, timeout, chunksize, buffersize).
//
// Results come in input order, or in completion order with Unordered. Every
// item yields its own pair and the loop goes on after an item's error; to
// stop at the first error, break. Input is read lazily, no more than Buffer
// chunks of Chunksize items ahead of the consumer; nothing runs before the
// loop starts.
//
// When ctx ends (Python's timeout) the loop yields one last pair: the zero R
// and an error matching ErrTimeout and context.DeadlineExceeded if the
// deadline passed, or ErrCancelled and context.Canceled if ctx was cancelled.
// A call's own error is always that item's error, even when it is a deadline
// error. Bad options, a nil ex, fn or args, or an executor that refuses the
// calls (ErrShutdown, ErrBrokenExecutor, ErrNotRegistered) likewise yield
// one error and stop; on a Refuser, such as the pools of this package, even
// when args is empty.
//
// However the loop stops (break, ctx, an error, a panic) every call not yet
// started is cancelled, the context of every running call is cancelled, and
// the loop returns only after those calls have returned: nothing is left
// running or queued on its behalf.
//
// On a ThreadPool of four workers, Map costs about 0.11 µs per trivial item
// in input order and 0.10 µs with Unordered, and 64 bytes per item in
// flight. On a TaskForgetter, such as the pools of this package and the
// cluster pool, the items of calls that succeeded are reused, so that a
// long Map allocates nothing per item. On a ProcessPool of two workers it
// carries about 1.7M trivial items a second with the default Chunksize and
// 7M with Chunksize(1000). Its memory does not grow with the input.
func Map[A, R any](ctx context.Context, ex Executor, fn func(context.Context, A) (R, error),
	args iter.Seq[A], opts ...MapOption) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		m, err := newMapRun(ctx, ex, fn, args, opts)
		if err != nil {
			yield(zero, err)
			return
		}
		if ctx.Err() != nil {
			yield(zero, m.stopped())
			return
		}
		defer m.close()
		for a := range args {
			m.read++
			if m.add(a) < m.size {
				continue
			}
			if !m.send(yield) {
				return
			}
			for m.full() {
				if !m.yieldNext(yield) {
					return
				}
			}
		}
		m.tally.Total = m.read
		if m.read == 0 {
			if r, ok := ex.(Refuser); ok {
				if err := r.Refusal(fn); err != nil {
					yield(zero, err)
				}
			}
			return
		}
		if m.used > m.chunkStart && !m.send(yield) {
			return
		}
		for m.inFlight > 0 {
			if !m.yieldNext(yield) {
				return
			}
		}
	}
}

// mapRun is the state of one Map loop.
type mapRun[A, R any] struct {
	// Set up once, then only read, by the loop and by the goroutines that
	// run and settle items.
	parent    context.Context
	ctx       context.Context // the calls' context: parent, cancelled when Map stops
	cancel    context.CancelCauseFunc
	fn        func(context.Context, A) (R, error)
	ex        Executor
	batch     BatchExecutor // ex, if it takes chunks; else nil
	size      int           // Chunksize
	window    int           // most items in flight: Buffer × Chunksize
	slabLen   int
	unordered bool
	progress  func(MapProgress) // nil: not reported
	wake      chan struct{}     // the loop sleeps on it, see waitFor
	_         [64]byte          // what follows is written: other cache lines

	// Shared by the loop and the goroutines that settle items. The loop
	// sleeps on wake while it waits for the item in waitFor, or for any item
	// with waitAny (unordered). Unordered items push themselves onto the
	// stack at settledTop when they settle.
	settledTop atomic.Pointer[item[A, R]]
	waitFor    atomic.Pointer[item[A, R]]
	waitAny    atomic.Bool
	owner      atomic.Pointer[canceller] // the executor that owns the items, if it said so
	_          [64]byte

	// The loop's own. Items are allocated in slabs of whole chunks; the
	// chunk not sent yet is cur[chunkStart:used], in curSlab. slabs holds
	// every slab with items not yet yielded, by id (nil: a free id); a slab
	// whose items have all been yielded goes to spare, for reuse, when
	// reuse is set and every one of its calls finished without an error,
	// else its id goes to freeIDs.
	cur        []item[A, R]
	curSlab    *slab[A, R]
	used       int
	chunkStart int
	slabs      []*slab[A, R]
	freeIDs    []int32
	spare      []*slab[A, R]
	reuse      bool // the executor touches no call it has finished

	inFlight int                      // items sent and not yet yielded
	order    ring.Queue[[]item[A, R]] // ordered: sent chunks, oldest first
	head     []item[A, R]             // ordered: the chunk yielded from, taken from order
	next     int                      // ordered: the item of head yielded next

	tally MapProgress
	read  int // items read from the input

	ready *item[A, R] // unordered: the part of the settled stack the loop took, oldest first

	mu      sync.Mutex                    // guards doneChs
	doneChs map[*item[A, R]]chan struct{} // the Done channels asked for
}

// setOwner records o as the owner of the Map's items, unless one is
// recorded already.
func (m *mapRun[A, R]) setOwner(o canceller) { m.owner.CompareAndSwap(nil, &o) }

// closeDoneLocked closes the Done channel of it, if one was asked for.
func (m *mapRun[A, R]) closeDoneLocked(it *item[A, R]) {
	if ch := m.doneChs[it]; ch != nil {
		close(ch)
		delete(m.doneChs, it)
	}
}

func newMapRun[A, R any](ctx context.Context, ex Executor, fn func(context.Context, A) (R, error),
	args iter.Seq[A], opts []MapOption) (*mapRun[A, R], error) {
	c := mapConfig{chunksize: 1}
	for _, o := range opts {
		if o.apply == nil {
			return nil, errors.New("futures: Map: the zero MapOption is not an option; use Chunksize, Buffer or Unordered")
		}
		o.apply(&c)
	}
	switch {
	case len(c.bad) > 0:
		return nil, fmt.Errorf("futures: Map: %s", c.bad[0])
	case ctx == nil:
		return nil, errNilContext
	case isNil(ex):
		return nil, errNilExecutor
	case fn == nil:
		return nil, errors.New("futures: Map: the function is nil")
	case args == nil:
		return nil, errors.New("futures: Map: the input sequence is nil")
	}
	if c.buffer == 0 {
		c.buffer = defaultBuffer(ex, c.chunksize)
	}
	m := &mapRun[A, R]{parent: ctx, fn: fn, ex: ex, size: c.chunksize, unordered: c.unordered,
		progress: c.progress, wake: make(chan struct{}, 1)}
	m.tally.Total = -1
	m.window = c.buffer * c.chunksize
	if c.buffer > 0 && m.window/c.buffer != c.chunksize { // overflow
		m.window = int(^uint(0) >> 1)
	}
	m.slabLen = min(c.chunksize*max(1, slabItems/c.chunksize), maxSlab) // whole chunks, if not large
	if c.chunksize > 1 {
		m.batch, _ = ex.(BatchExecutor)
	}
	if f, ok := ex.(TaskForgetter); ok {
		m.reuse = f.ForgetsFinishedTasks(ex)
	}
	m.ctx, m.cancel = context.WithCancelCause(ctx)
	return m, nil
}

// errMapStopped is the cause of the context of calls whose Map stopped.
var errMapStopped = errors.New("futures: the Map loop that made this call has stopped")

// stopped is the error yielded when the Map's context ended.
func (m *mapRun[A, R]) stopped() error {
	return stopError("Map stopped", m.parent, ErrCancelled)
}

// full reports whether the window has no room for another chunk.
func (m *mapRun[A, R]) full() bool { return m.inFlight+m.size > m.window }

// send hands the pending chunk to the executor. If the executor refuses it,
// send yields the error and returns false.
func (m *mapRun[A, R]) send(yield func(R, error) bool) bool {
	chunk := m.cur[m.chunkStart:m.used]
	m.chunkStart = m.used
	var err error
	sent := len(chunk)
	if m.batch != nil && len(chunk) > 1 {
		ts := m.curSlab.tasks[m.used-len(chunk) : m.used : m.used]
		if err = m.batch.ExecuteBatch(ts); err != nil {
			sent = 0
		}
	} else {
		for i := range chunk {
			if err = m.ex.Execute(&chunk[i]); err != nil {
				sent = i
				break
			}
		}
	}
	m.track(chunk[:sent])
	if err != nil {
		var zero R
		if m.parent.Err() != nil {
			err = m.stopped()
		}
		yield(zero, err)
		return false
	}
	return true
}

// track records sent items as in flight.
func (m *mapRun[A, R]) track(items []item[A, R]) {
	m.inFlight += len(items)
	if !m.unordered {
		if len(items) > 0 {
			m.order.Push(items)
		}
		return
	}
	for i := range items {
		items[i].live = true
	}
}

// settled is called by an item once it is done, in the goroutine that
// settled it: it lets the loop know.
func (m *mapRun[A, R]) settled(it *item[A, R]) {
	first := false // it went onto an empty stack: the loop may sleep
	if m.unordered {
		for {
			top := m.settledTop.Load()
			it.next = top
			if m.settledTop.CompareAndSwap(top, it) {
				first = top == nil
				break
			}
		}
	}
	if it.waited.Load() {
		m.mu.Lock()
		m.closeDoneLocked(it)
		m.mu.Unlock()
	}
	if m.waitFor.Load() == it || first && m.waitAny.Load() {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

// nextSettled returns the unordered item that settled first of those not
// yielded yet, waiting for one if needed, or false if the Map's context
// ends first.
func (m *mapRun[A, R]) nextSettled() (*item[A, R], bool) {
	for {
		if it := m.ready; it != nil {
			m.ready, it.next = it.next, nil
			return it, true
		}
		if top := m.settledTop.Swap(nil); top != nil {
			var rev *item[A, R] // completion order
			for top != nil {
				top, top.next, rev = top.next, rev, top
			}
			m.ready = rev
			continue
		}
		if !m.sleep(nil, m.parent.Done()) {
			return nil, false
		}
	}
}

// sleep waits until it is done (for a nil it: until an item settles),
// unless that happened already, or until stop is closed. It returns false
// if stop was closed first.
func (m *mapRun[A, R]) sleep(it *item[A, R], stop <-chan struct{}) bool {
	if it == nil {
		m.waitAny.Store(true)
		defer m.waitAny.Store(false)
	} else {
		m.waitFor.Store(it)
		defer m.waitFor.Store(nil)
	}
	ready := func() bool { return it == nil && m.settledTop.Load() != nil || it != nil && it.isDone() }
	if ready() {
		return true
	}
	runtime.Gosched() // a trivial call finishes before the loop would sleep
	if ready() {
		return true
	}
	select {
	case <-m.wake:
		return true
	case <-stop:
		return false
	}
}

// yieldNext waits for the next result and yields it. It returns false when
// the loop must stop: the consumer broke out, or ctx ended (after yielding
// that error).
func (m *mapRun[A, R]) yieldNext(yield func(R, error) bool) bool {
	var it *item[A, R]
	ok := true
	if m.unordered {
		if it, ok = m.nextSettled(); ok {
			it.live = false
		}
	} else {
		if m.head == nil {
			m.head, _ = m.order.Pop()
		}
		it = &m.head[m.next]
		for ok && !it.isDone() {
			ok = m.sleep(it, m.parent.Done())
		}
		if ok {
			if m.next++; m.next == len(m.head) {
				m.head, m.next = nil, 0
			}
		}
	}
	if !ok || m.parent.Err() != nil {
		var zero R
		yield(zero, m.stopped())
		return false
	}
	m.inFlight--
	v, err := it.val, it.Err()
	m.yielded(it, err)
	if m.progress != nil {
		m.tally.Done++
		if err != nil {
			m.tally.Failed++
		}
		m.progress(m.tally)
	}
	return yield(v, err)
}

// close ends the loop: it cancels every item not yet started and the context
// of the running ones, and waits for those to return.
func (m *mapRun[A, R]) close() {
	var left []*item[A, R]
	for i := m.next; i < len(m.head); i++ {
		left = append(left, &m.head[i])
	}
	for {
		chunk, ok := m.order.Pop()
		if !ok {
			break
		}
		for i := range chunk {
			left = append(left, &chunk[i])
		}
	}
	for _, s := range m.slabs {
		if s == nil {
			continue
		}
		for i := range s.items {
			if s.items[i].live {
				left = append(left, &s.items[i])
			}
		}
	}
	for _, it := range left {
		it.Cancel()
	}
	m.cancel(errMapStopped)
	for _, it := range left {
		for !it.isDone() {
			m.sleep(it, nil)
		}
	}
}
