// Package pace decides how many calls of a function to hand a worker at
// once, from the time its answers take: enough to keep it busy for
// AheadTarget between two answers, so that trivial calls go many to a
// message while slow ones do not pile up at one worker as another idles.
package pace

import "time"

// A worker gets calls for about AheadTarget of work at its measured speed,
// at least one call and at most MaxWindow.
const (
	AheadTarget = 2 * time.Millisecond
	MaxWindow   = 4096
)

// Estimator measures the time per call of one function and sizes the
// window of calls handed out together. The zero Estimator allows one call,
// as for a function whose speed is not known yet. It is not safe for
// concurrent use.
type Estimator struct {
	est    time.Duration // time per call, measured; 0 until known
	window int           // most calls at once; 0 counts as 1
}

// Limit returns how many calls may be handed out together, at least 1.
func (e *Estimator) Limit() int { return max(e.window, 1) }

// Reset forgets what was measured: the limit is one call again.
func (e *Estimator) Reset() { *e = Estimator{} }

// Answered notes that n calls, n > 0, were answered took after the
// previous answer (or after they were handed out), and resizes the window.
// The window grows at most twofold per answer, so that the quick first
// calls of a workload do not open it wide for slow later ones.
func (e *Estimator) Answered(n int, took time.Duration) {
	e.est = (e.est + took/time.Duration(n)) / 2
	if e.est == 0 {
		e.est = 1
	}
	e.window = min(max(int(min(AheadTarget/e.est, MaxWindow)), 1), 2*e.Limit())
}
