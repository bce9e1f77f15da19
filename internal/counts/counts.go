// Package counts keeps the call and worker counts of a pool, behind the
// Stats of package futures. They change only through the methods of
// Counters, one per transition of a call, each of which keeps Submitted
// equal to the sum of the other call counts: a call is new (not counted
// yet), then queued, then running, then ended with an outcome, and may skip
// a step.
package counts

// Counters are the call and worker counts of a pool. The pool guards them
// with a lock of its own; a set of Counters may also hold the changes of one
// worker, to be added to the pool's, where Running may be negative.
type Counters struct {
	Submitted, Queued, Running   int64
	Succeeded, Failed, Cancelled int64
	WorkerStarts, WorkerExits    int64
	WorkerKills                  int64
}

// Ending is how a call ended.
type Ending int8

const (
	Succeeded Ending = iota
	Failed
	Cancelled
)

// count adds n calls ended with o.
func (c *Counters) count(o Ending, n int64) {
	switch o {
	case Succeeded:
		c.Succeeded += n
	case Failed:
		c.Failed += n
	default:
		c.Cancelled += n
	}
}

// Queue counts n new calls as queued.
func (c *Counters) Queue(n int64) { c.Submitted += n; c.Queued += n }

// StartNew counts n new calls as running: handed to a worker at once.
func (c *Counters) StartNew(n int64) { c.Submitted += n; c.Running += n }

// EndNew counts n new calls that ended, with o, before they were queued.
func (c *Counters) EndNew(o Ending, n int64) { c.Submitted += n; c.count(o, n) }

// Start counts n queued calls as running.
func (c *Counters) Start(n int64) { c.Queued -= n; c.Running += n }

// EndQueued counts n queued calls that ended, with o, without running.
func (c *Counters) EndQueued(o Ending, n int64) { c.Queued -= n; c.count(o, n) }

// End counts n running calls that ended with o.
func (c *Counters) End(o Ending, n int64) { c.Running -= n; c.count(o, n) }

// FailSucceeded counts a call counted as succeeded as failed instead: its
// result turned out unusable.
func (c *Counters) FailSucceeded() { c.Succeeded--; c.Failed++ }

// WorkerStarted, WorkerExited and WorkerKilled count worker processes.
func (c *Counters) WorkerStarted() { c.WorkerStarts++ }
func (c *Counters) WorkerExited()  { c.WorkerExits++ }
func (c *Counters) WorkerKilled()  { c.WorkerKills++ }

// Add adds the changes counted in d.
func (c *Counters) Add(d *Counters) {
	c.Submitted += d.Submitted
	c.Queued += d.Queued
	c.Running += d.Running
	c.Succeeded += d.Succeeded
	c.Failed += d.Failed
	c.Cancelled += d.Cancelled
	c.WorkerStarts += d.WorkerStarts
	c.WorkerExits += d.WorkerExits
	c.WorkerKills += d.WorkerKills
}
