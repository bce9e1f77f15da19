package procpool

import (
	"time"

	"github.com/gofutures/futures/internal/registry"
)

// Pipelining: each worker gets calls for about aheadTarget of work at its
// measured speed, at least one call and at most maxWindow; the window
// starts at one call for each new function.
const (
	aheadTarget = 2 * time.Millisecond
	maxWindow   = 4096
)

// pacer decides how many calls a worker may have in flight, from the time
// its replies take: enough to keep it busy for aheadTarget between two
// replies, so that trivial calls go many to a message while slow ones do
// not pile up in one worker as another idles. Its methods are called with
// the pool's mutex held.
type pacer struct {
	est       time.Duration  // time per call of fn, measured; 0 until known
	window    int            // most calls in flight; 0 counts as 1
	fn        *registry.Func // the function of the call sent last
	busySince time.Time      // since the last reply, or since the worker got calls when idle
}

// limit returns how many calls the worker may have in flight.
func (e *pacer) limit() int { return max(e.window, 1) }

// busy notes that the worker, idle, got calls at now.
func (e *pacer) busy(now time.Time) { e.busySince = now }

// sent notes a call of fn sent: a new function's speed is not known yet, so
// the worker gets no more calls until its first result.
func (e *pacer) sent(fn *registry.Func) {
	if fn != e.fn {
		e.fn, e.est, e.window = fn, 0, 1
	}
}

// answered notes a reply at now that answered n calls, n > 0, and resizes
// the window. The window grows at most twofold per reply, so that the quick
// first calls of a workload do not open it wide for slow later ones.
func (e *pacer) answered(n int, now time.Time) {
	e.est = (e.est + now.Sub(e.busySince)/time.Duration(n)) / 2
	if e.est == 0 {
		e.est = 1
	}
	e.window = min(max(int(min(aheadTarget/e.est, maxWindow)), 1), 2*e.limit())
	e.busySince = now
}
