package futures

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// State is where a Future is in its life: Pending, then Running, then
// Finished; or Pending, then Cancelled.
type State int32

const (
	// Pending: the call is queued and has not started. Only a pending future
	// can be cancelled.
	Pending State = iota
	// Running: the call was handed to a worker and has not returned yet.
	Running
	// Cancelled: Cancel stopped the call before it ran. Cancelled futures
	// are done.
	Cancelled
	// Finished: the call returned (a result or an error) or failed to run.
	// Finished futures are done.
	Finished
)

// String returns "pending", "running", "cancelled" or "finished".
func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Running:
		return "running"
	case Cancelled:
		return "cancelled"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// status is the state word of a Future and of a Map item, and its
// transitions: both are one state machine, which a Future dresses with a
// mutex for its waiters and callbacks and a Map item with its mapRun. Its
// value is a State, or one of the values below, which read as Pending or
// Running. A status is changed by compare-and-swap only, so that Start and
// the completion of a call never take a lock of the future:
//
//   - own marks a pending future as owned by an executor, which its
//     completer then tells of a cancellation (canceller);
//   - start moves it from Pending to Running;
//   - begin takes the right to write the outcome, once: from Pending, or
//     from Running unless the outcome is a cancellation; publish then
//     stores the final state, once the outcome is written;
//   - beginRunning is begin from Running only, and finishRunning moves a
//     running call whose outcome is in place already to Finished at once.
type status struct{ v atomic.Int32 }

// The values of a status besides the States.
const (
	ownedPending    int32 = -1 // Pending, with an owner to tell of a cancellation
	settlingPending int32 = -2 // an outcome is being written; it was Pending
	settlingOwned   int32 = -3 // likewise, from ownedPending
	settlingRunning int32 = -4 // likewise, from Running
)

// load returns the state now; an outcome being written does not show yet.
func (s *status) load() State {
	switch v := s.v.Load(); v {
	case ownedPending, settlingPending, settlingOwned:
		return Pending
	case settlingRunning:
		return Running
	default:
		return State(v)
	}
}

// done reports whether the final state is published.
func (s *status) done() bool { return s.v.Load() >= int32(Cancelled) }

// own marks a pending status as owned. It returns false if it is not
// pending.
func (s *status) own() bool { return s.v.CompareAndSwap(int32(Pending), ownedPending) }

// start moves a pending status to Running. It returns false if it is not
// pending.
func (s *status) start() bool {
	for {
		v := s.v.Load()
		if v != int32(Pending) && v != ownedPending {
			return false
		}
		if s.v.CompareAndSwap(v, int32(Running)) {
			return true
		}
	}
}

// begin takes the right to write an outcome that ends in to, Finished or
// Cancelled: from Pending or Running, and only from Pending for Cancelled.
// It returns false if another outcome was taken already, and whether the
// status was owned.
func (s *status) begin(to State) (owned, ok bool) {
	for {
		v := s.v.Load()
		var next int32
		switch {
		case v == int32(Pending):
			next = settlingPending
		case v == ownedPending:
			next = settlingOwned
		case v == int32(Running) && to != Cancelled:
			next = settlingRunning
		default:
			return false, false
		}
		if s.v.CompareAndSwap(v, next) {
			return v == ownedPending, true
		}
	}
}

// beginRunning is begin, from Running only.
func (s *status) beginRunning() bool {
	return s.v.CompareAndSwap(int32(Running), settlingRunning)
}

// publish ends what begin began: it stores the final state to.
func (s *status) publish(to State) { s.v.Store(int32(to)) }

// finishRunning moves a running status to Finished, for an outcome that is
// in place already, and returns false if it was not running.
func (s *status) finishRunning() bool {
	return s.v.CompareAndSwap(int32(Running), int32(Finished))
}

// settled returns the state once no outcome is being written: a caller that
// lost the race to begin learns which outcome won.
func (s *status) settled() State {
	for s.v.Load() <= settlingPending {
		runtime.Gosched()
	}
	return s.load()
}

// reset makes a done status Pending again, for a Map item that is reused.
func (s *status) reset() { s.v.Store(int32(Pending)) }
