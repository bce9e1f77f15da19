package futures

import "github.com/gofutures/futures/internal/counts"

// Stats is a snapshot of an executor's counters, from ThreadPool.Stats and
// ProcessPool.Stats. The call counts are read together, so at every instant
// Submitted == Queued + Running + Succeeded + Failed + Cancelled.
type Stats struct {
	// Submitted counts the calls the executor accepted.
	Submitted int64
	// Queued counts the accepted calls not yet handed to a worker.
	Queued int64
	// Running counts the calls handed to a worker and not finished.
	Running int64
	// Succeeded counts the calls that returned a nil error.
	Succeeded int64
	// Failed counts the calls that finished with an error: returned, a
	// panic or runtime.Goexit, a worker that died, a broken executor, a
	// forced shutdown.
	Failed int64
	// Cancelled counts the calls cancelled before a worker started them,
	// and the calls a worker did not invoke because their context had ended
	// when their turn came (the rest of a stopped Map's chunk, say; their
	// futures fail with an error matching ErrCancelled).
	Cancelled int64

	// Workers is the number of workers alive now.
	Workers int
	// WorkerStarts, WorkerExits and WorkerKills count worker processes
	// started, exited, and killed by the pool (TaskTimeout, a forced
	// Shutdown). They stay zero for a ThreadPool.
	WorkerStarts, WorkerExits, WorkerKills int64
}

// endOf is the ending of t, which ended without running: cancelled, or
// failed. A task of this package whose outcome is being written, by a
// Cancel say, reads as pending until then: endOf waits for it.
func endOf(t Task) counts.Ending {
	s := t.State()
	if o, ok := t.(ownedTask); ok {
		s = o.settled()
	}
	if s == Cancelled {
		return counts.Cancelled
	}
	return counts.Failed
}

// statsOf returns the counts c as Stats, with workers alive.
func statsOf(c *counts.Counters, workers int) Stats {
	return Stats{
		Submitted: c.Submitted, Queued: c.Queued, Running: c.Running,
		Succeeded: c.Succeeded, Failed: c.Failed, Cancelled: c.Cancelled,
		Workers:      workers,
		WorkerStarts: c.WorkerStarts, WorkerExits: c.WorkerExits, WorkerKills: c.WorkerKills,
	}
}
