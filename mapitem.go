package futures

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/gofutures/futures/internal/value"
)

// item is the Task of one Map item. Map hands items to the executor as it
// would calls from Submit, but an item has no Future: Map reads its outcome
// from the item itself and learns that it is done through its mapRun, so an
// item costs a slot in a slab shared with other items rather than a future,
// a waiter registration and their allocations. It is a specialisation of
// Future: the same state machine (status, in state.go) without the mutex,
// channel and callbacks, which the mapRun replaces. On a TaskForgetter
// (such as the pools of this package, whose workers touch no call they have
// finished), the item of a call that finished without an error is reused
// for a later input once its whole slab has been yielded, so that a long
// Map allocates nothing per item.
type item[A, R any] struct {
	m   *mapRun[A, R]
	arg A
	val R     // valid once Finished
	err error // valid once done

	// state is the Future's state machine; once it is owned, the Map's
	// owner is told of the item's cancellation.
	state  status
	slab   int32       // the id of its slab in m.slabs; set once
	waited atomic.Bool // Done was called: m.doneChs has its channel
	live   bool        // unordered, the loop's own: sent and not yet yielded
	next   *item[A, R] // in m's stack of settled items
}

func (it *item[A, R]) Context() context.Context { return it.m.ctx }
func (it *item[A, R]) Func() any                { return it.m.fn }
func (it *item[A, R]) Arg() (any, bool)         { return it.arg, true }
func (it *item[A, R]) funcKey() any             { return it.m }

// AppendArg appends the encoded argument to dst without boxing it.
func (it *item[A, R]) AppendArg(dst []byte, c value.Codec) ([]byte, error) {
	return value.AppendOf(dst, c, &it.arg)
}

func (it *item[A, R]) encodeChunk(ts []Task, c Codec, ends []int) ([]byte, bool) {
	var buf []byte
	for i, t := range ts {
		x, ok := t.(*item[A, R])
		if !ok || x.m != it.m {
			return nil, false
		}
		var err error
		if buf, err = value.AppendOf(buf, c, &x.arg); err != nil {
			return nil, false
		}
		ends[i] = len(buf)
		if i == 0 { // make room for the others at the size of the first
			buf = slices.Grow(buf, (len(ts)-1)*(len(buf)+len(buf)/4))
		}
	}
	return buf, true
}

func (it *item[A, R]) State() State { return it.state.load() }

func (it *item[A, R]) isDone() bool { return it.state.done() }

// settled returns the item's state once no outcome is being written.
func (it *item[A, R]) settled() State { return it.state.settled() }

func (it *item[A, R]) Err() error {
	switch it.State() {
	case Finished:
		return it.err
	case Cancelled:
		return ErrCancelled
	}
	return nil
}

// Done returns a channel closed once the item is done. Map itself never
// asks for it; executors outside this package may.
func (it *item[A, R]) Done() <-chan struct{} {
	if it.isDone() {
		return closedChan
	}
	m := it.m
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.doneChs[it]
	if ch == nil {
		if m.doneChs == nil {
			m.doneChs = map[*item[A, R]]chan struct{}{}
		}
		ch = make(chan struct{})
		m.doneChs[it] = ch
		it.waited.Store(true)
	}
	if it.isDone() { // settled before waited was set
		m.closeDoneLocked(it)
	}
	return ch
}

func (it *item[A, R]) Start() bool { return it.state.start() }

// setOwner records o as the owner of every item of the Map: an executor
// owns all the items of a Map it takes.
func (it *item[A, R]) setOwner(o canceller) bool {
	if it.m.owner.Load() == nil {
		it.m.setOwner(o)
	}
	return it.state.own()
}

func (it *item[A, R]) future() any { return it }

func (it *item[A, R]) Cancel() bool {
	if it.settle(Cancelled, ErrCancelled) {
		return true
	}
	return it.state.settled() == Cancelled
}

// CompleteFrom decodes data into the item's result and settles it, without
// boxing the result: an executor that decodes results calls it instead of
// NewResult and Complete.
func (it *item[A, R]) CompleteFrom(c value.Codec, data []byte) error {
	if !value.DecodeFast(c, data, &it.val) {
		if err := value.Decode(c, data, &it.val); err != nil {
			return err
		}
	}
	it.settleWith(&it.val, nil)
	return nil
}

// NewResult returns the item's own result slot: an executor decodes a result
// into it, then calls Complete with it, which then copies nothing.
func (it *item[A, R]) NewResult() any { return &it.val }

// CompleteLater is Complete: an item has no callbacks to pass to later.
func (it *item[A, R]) CompleteLater(result any, err error, _ func(func())) bool {
	return it.Complete(result, err)
}

func (it *item[A, R]) Complete(result any, err error) bool {
	p, err := completion[R](result, err)
	if p == nil {
		var zero R
		p = &zero
	}
	return it.settleWith(p, err)
}

// settleWith settles the item as Finished with *v and err.
func (it *item[A, R]) settleWith(v *R, err error) bool {
	if v == &it.val && err == nil && it.state.finishRunning() {
		it.m.settled(it) // the common case: the result is in place already
		return true
	}
	owned, ok := it.state.begin(Finished)
	if !ok {
		return false
	}
	if v != &it.val {
		it.val = *v
	}
	if err != nil {
		it.err = err
	}
	it.publish(Finished, owned)
	return true
}

// settle settles the item as to (Cancelled or Finished) with err and the
// zero value.
func (it *item[A, R]) settle(to State, err error) bool {
	owned, ok := it.state.begin(to)
	if !ok {
		return false
	}
	var zero R
	it.val, it.err = zero, err
	it.publish(to, owned)
	return true
}

// publish ends settling: it stores the final state, tells the owner of a
// cancellation if the item was owned, then the Map.
func (it *item[A, R]) publish(to State, owned bool) {
	it.state.publish(to)
	if to == Cancelled && owned {
		(*it.m.owner.Load()).noteCancelled()
	}
	it.m.settled(it)
}

// failRunning fails t with err if it is still running. An executor calls
// it, rather than Complete, on a call it may have finished already: Map
// reuses the item of a call that finished without an error for a later
// input, which Complete would then fail.
func failRunning(t Task, err error) {
	if it, ok := t.(runningFailer); ok {
		it.failRunning(err)
		return
	}
	t.Complete(nil, err)
}

// failRunning fails the item with err if it is running.
func (it *item[A, R]) failRunning(err error) {
	if it.state.beginRunning() {
		var zero R
		it.val, it.err = zero, err
		it.publish(Finished, false)
	}
}

func (it *item[A, R]) Run(ctx context.Context) { it.runThen(ctx, nil) }

// runThen calls the function and settles the item with what it returns, as
// runGuarded does.
func (it *item[A, R]) runThen(ctx context.Context, before func(error)) {
	runGuarded(func() (R, error) { return it.m.fn(ctx, it.arg) }, before,
		func(v R, err error) { it.settleWith(&v, err) })
}
