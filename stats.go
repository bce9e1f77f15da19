package futures

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

// counters are the call and worker counts of a pool, behind its Stats. They
// change only through the methods below, one per transition of a call, each
// of which keeps submitted equal to the sum of the other call counts: a call
// is new (not counted yet), then queued, then running, then ended with an
// outcome, and may skip a step. The pool guards its counters with a lock of
// its own; a set of counters may also hold the changes of one worker, to be
// added to the pool's (ThreadPool), where running may be negative.
type counters struct {
	submitted, queued, running   int64
	succeeded, failed, cancelled int64
	workerStarts, workerExits    int64
	workerKills                  int64
}

// ending is how a call ended, for counters.
type ending int8

const (
	endSucceeded ending = iota
	endFailed
	endCancelled
)

// endOf is the ending of t, which ended without running: cancelled, or
// failed. A task of this package whose outcome is being written, by a
// Cancel say, reads as pending until then: endOf waits for it.
func endOf(t Task) ending {
	s := t.State()
	if o, ok := t.(ownedTask); ok {
		s = o.settled()
	}
	if s == Cancelled {
		return endCancelled
	}
	return endFailed
}

// count adds n calls ended with o.
func (c *counters) count(o ending, n int64) {
	switch o {
	case endSucceeded:
		c.succeeded += n
	case endFailed:
		c.failed += n
	default:
		c.cancelled += n
	}
}

// queue counts n new calls as queued.
func (c *counters) queue(n int64) { c.submitted += n; c.queued += n }

// startNew counts n new calls as running: handed to a worker at once.
func (c *counters) startNew(n int64) { c.submitted += n; c.running += n }

// endNew counts n new calls that ended, with o, before they were queued.
func (c *counters) endNew(o ending, n int64) { c.submitted += n; c.count(o, n) }

// start counts n queued calls as running.
func (c *counters) start(n int64) { c.queued -= n; c.running += n }

// endQueued counts n queued calls that ended, with o, without running.
func (c *counters) endQueued(o ending, n int64) { c.queued -= n; c.count(o, n) }

// end counts n running calls that ended with o.
func (c *counters) end(o ending, n int64) { c.running -= n; c.count(o, n) }

// failSucceeded counts a call counted as succeeded as failed instead: its
// result turned out unusable.
func (c *counters) failSucceeded() { c.succeeded--; c.failed++ }

// workerStarted, workerExited and workerKilled count worker processes.
func (c *counters) workerStarted() { c.workerStarts++ }
func (c *counters) workerExited()  { c.workerExits++ }
func (c *counters) workerKilled()  { c.workerKills++ }

// add adds the changes counted in d.
func (c *counters) add(d *counters) {
	c.submitted += d.submitted
	c.queued += d.queued
	c.running += d.running
	c.succeeded += d.succeeded
	c.failed += d.failed
	c.cancelled += d.cancelled
	c.workerStarts += d.workerStarts
	c.workerExits += d.workerExits
	c.workerKills += d.workerKills
}

// stats returns the counts as Stats, with workers alive.
func (c *counters) stats(workers int) Stats {
	return Stats{
		Submitted: c.submitted, Queued: c.queued, Running: c.running,
		Succeeded: c.succeeded, Failed: c.failed, Cancelled: c.cancelled,
		Workers:      workers,
		WorkerStarts: c.workerStarts, WorkerExits: c.workerExits, WorkerKills: c.workerKills,
	}
}
