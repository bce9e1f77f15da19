package futures

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCountersTransitions walks calls through every transition of counters
// and checks, after each, that Submitted is the sum of the other counts.
func TestCountersTransitions(t *testing.T) {
	var c counters
	check := func(step string, want Stats) {
		t.Helper()
		got := c.stats(want.Workers)
		assert.Equal(t, want, got, step)
		assert.Equal(t, got.Submitted, got.Queued+got.Running+got.Succeeded+got.Failed+got.Cancelled, "%s: the counts do not add up", step)
	}
	c.queue(3)
	check("queue(3)", Stats{Submitted: 3, Queued: 3})
	c.startNew(1)
	check("startNew(1)", Stats{Submitted: 4, Queued: 3, Running: 1})
	c.endNew(endFailed, 2)
	c.endNew(endCancelled, 1)
	check("endNew", Stats{Submitted: 7, Queued: 3, Running: 1, Failed: 2, Cancelled: 1})
	c.start(2)
	check("start(2)", Stats{Submitted: 7, Queued: 1, Running: 3, Failed: 2, Cancelled: 1})
	c.endQueued(endCancelled, 1)
	check("endQueued", Stats{Submitted: 7, Running: 3, Failed: 2, Cancelled: 2})
	c.end(endSucceeded, 2)
	c.end(endFailed, 1)
	check("end", Stats{Submitted: 7, Succeeded: 2, Failed: 3, Cancelled: 2})
	c.FailSucceeded()
	check("failSucceeded", Stats{Submitted: 7, Succeeded: 1, Failed: 4, Cancelled: 2})

	// A worker's own changes, added to the pool's, where running goes
	// negative in between.
	var w counters
	c.startNew(2)
	w.end(endSucceeded, 1)
	w.end(endFailed, 1)
	assert.Equal(t, int64(-2), w.Running)
	c.add(&w)
	check("add", Stats{Submitted: 9, Succeeded: 2, Failed: 5, Cancelled: 2})

	c.WorkerStarted()
	c.WorkerStarted()
	c.WorkerExited()
	c.WorkerKilled()
	check("workers", Stats{Submitted: 9, Succeeded: 2, Failed: 5, Cancelled: 2, Workers: 1, WorkerStarts: 2, WorkerExits: 1, WorkerKills: 1})
}

// TestEndOf: a task that ended without running counts as cancelled if it
// was cancelled, as failed otherwise.
func TestEndOf(t *testing.T) {
	c := &call[int, int]{}
	c.Cancel()
	assert.Equal(t, endCancelled, endOf(c))
	f := &call[int, int]{}
	f.fail(ErrShutdown)
	assert.Equal(t, endFailed, endOf(f))
}
