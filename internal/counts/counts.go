// Package counts keeps the call and worker counts of a pool, behind the
// root package's Stats: every change is one transition of a call, which
// keeps the number of calls submitted equal to the sum of the others.
package counts

// Counters are the call and worker counts of a pool. They change only
// through the methods below, one per transition of a call, each of which
// keeps submitted equal to the sum of the other call counts: a call is new
// (not counted yet), then queued, then running, then ended with an outcome,
// and may skip a step. The pool guards its Counters with a lock of its own;
// a set of Counters may also hold the changes of one worker, to be added to
// the pool's (the ThreadPool's), where running may be negative.
type Counters struct {
	submitted, queued, running   int64
	succeeded, failed, cancelled int64
	workerStarts, workerExits    int64
	workerKills                  int64
}

// Ending is how a call ended.
type Ending int8

// The outcomes of a call.
const (
	Succeeded Ending = iota
	Failed
	Cancelled
)

// count adds n calls ended with o.
func (c *Counters) count(o Ending, n int64) {
	switch o {
	case Succeeded:
		c.succeeded += n
	case Failed:
		c.failed += n
	default:
		c.cancelled += n
	}
}

// Queue counts n new calls as queued.
func (c *Counters) Queue(n int64) { c.submitted += n; c.queued += n }

// StartNew counts n new calls as running: handed to a worker at once.
func (c *Counters) StartNew(n int64) { c.submitted += n; c.running += n }

// EndNew counts n new calls that ended, with o, before they were queued.
func (c *Counters) EndNew(o Ending, n int64) { c.submitted += n; c.count(o, n) }

// Start counts n queued calls as running.
func (c *Counters) Start(n int64) { c.queued -= n; c.running += n }

// EndQueued counts n queued calls that ended, with o, without running.
func (c *Counters) EndQueued(o Ending, n int64) { c.queued -= n; c.count(o, n) }

// End counts n running calls that ended with o.
func (c *Counters) End(o Ending, n int64) { c.running -= n; c.count(o, n) }

// Queued returns the number of queued calls.
func (c *Counters) Queued() int64 { return c.queued }

// FailSucceeded counts a call counted as succeeded as failed instead: its
// result turned out unusable.
func (c *Counters) FailSucceeded() { c.succeeded--; c.failed++ }

// WorkerStarted, WorkerExited and WorkerKilled count worker processes.
func (c *Counters) WorkerStarted() { c.workerStarts++ }
func (c *Counters) WorkerExited()  { c.workerExits++ }
func (c *Counters) WorkerKilled()  { c.workerKills++ }

// Add adds the changes counted in d.
func (c *Counters) Add(d *Counters) {
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

// Snapshot is the counts at one instant, field for field the root
// package's Stats, which converts from it.
type Snapshot struct {
	Submitted, Queued, Running, Succeeded, Failed, Cancelled int64
	Workers                                                  int
	WorkerStarts, WorkerExits, WorkerKills                   int64
}

// Snapshot returns the counts, with workers alive.
func (c *Counters) Snapshot(workers int) Snapshot {
	return Snapshot{
		Submitted: c.submitted, Queued: c.queued, Running: c.running,
		Succeeded: c.succeeded, Failed: c.failed, Cancelled: c.cancelled,
		Workers:      workers,
		WorkerStarts: c.workerStarts, WorkerExits: c.workerExits, WorkerKills: c.workerKills,
	}
}
