package procpool

import (
	"time"

	"github.com/gofutures/futures/internal/pace"
	"github.com/gofutures/futures/internal/registry"
)

// pacer decides how many calls a worker may have in flight, from the time
// its replies take (see package pace). Its methods are called with the
// pool's mutex held.
type pacer struct {
	pace.Estimator
	fn        *registry.Func // the function of the call sent last
	busySince time.Time      // since the last reply, or since the worker got calls when idle
}

// limit returns how many calls the worker may have in flight.
func (e *pacer) limit() int { return e.Limit() }

// busy notes that the worker, idle, got calls at now.
func (e *pacer) busy(now time.Time) { e.busySince = now }

// sent notes a call of fn sent: a new function's speed is not known yet, so
// the worker gets no more calls until its first result.
func (e *pacer) sent(fn *registry.Func) {
	if fn != e.fn {
		e.fn = fn
		e.Reset()
	}
}

// answered notes a reply at now that answered n calls, n > 0, and resizes
// the window.
func (e *pacer) answered(n int, now time.Time) {
	e.Answered(n, now.Sub(e.busySince))
	e.busySince = now
}
