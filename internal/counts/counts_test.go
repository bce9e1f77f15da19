package counts

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTransitions walks calls through every transition of Counters and
// checks, after each, that Submitted is the sum of the other counts.
func TestTransitions(t *testing.T) {
	var c Counters
	check := func(step string, want Counters) {
		t.Helper()
		got := c
		assert.Equal(t, want, got, step)
		assert.Equal(t, got.Submitted, got.Queued+got.Running+got.Succeeded+got.Failed+got.Cancelled, "%s: the counts do not add up", step)
	}
	c.Queue(3)
	check("Queue(3)", Counters{Submitted: 3, Queued: 3})
	c.StartNew(1)
	check("StartNew(1)", Counters{Submitted: 4, Queued: 3, Running: 1})
	c.EndNew(Failed, 2)
	c.EndNew(Cancelled, 1)
	check("EndNew", Counters{Submitted: 7, Queued: 3, Running: 1, Failed: 2, Cancelled: 1})
	c.Start(2)
	check("Start(2)", Counters{Submitted: 7, Queued: 1, Running: 3, Failed: 2, Cancelled: 1})
	c.EndQueued(Cancelled, 1)
	check("EndQueued", Counters{Submitted: 7, Running: 3, Failed: 2, Cancelled: 2})
	c.End(Succeeded, 2)
	c.End(Failed, 1)
	check("End", Counters{Submitted: 7, Succeeded: 2, Failed: 3, Cancelled: 2})
	c.FailSucceeded()
	check("FailSucceeded", Counters{Submitted: 7, Succeeded: 1, Failed: 4, Cancelled: 2})

	// A worker's own changes, added to the pool's, where running goes
	// negative in between.
	var w Counters
	c.StartNew(2)
	w.End(Succeeded, 1)
	w.End(Failed, 1)
	assert.Equal(t, int64(-2), w.Running)
	c.Add(&w)
	check("Add", Counters{Submitted: 9, Succeeded: 2, Failed: 5, Cancelled: 2})

	c.WorkerStarted()
	c.WorkerStarted()
	c.WorkerExited()
	c.WorkerKilled()
	check("workers", Counters{Submitted: 9, Succeeded: 2, Failed: 5, Cancelled: 2, WorkerStarts: 2, WorkerExits: 1, WorkerKills: 1})
}
