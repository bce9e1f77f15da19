package futures

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gofutures/futures/internal/counts"
)

// TestEndOf: a task that ended without running counts as cancelled if it
// was cancelled, as failed otherwise.
func TestEndOf(t *testing.T) {
	c := &call[int, int]{}
	c.Cancel()
	assert.Equal(t, counts.Cancelled, endOf(c))
	f := &call[int, int]{}
	f.fail(ErrShutdown)
	assert.Equal(t, counts.Failed, endOf(f))
}

// statsOf copies every count into Stats, with the workers alive.
func TestStatsOf(t *testing.T) {
	c := counts.Counters{Submitted: 9, Queued: 1, Running: 2, Succeeded: 3, Failed: 2, Cancelled: 1, WorkerStarts: 4, WorkerExits: 2, WorkerKills: 1}
	assert.Equal(t, Stats{Submitted: 9, Queued: 1, Running: 2, Succeeded: 3, Failed: 2, Cancelled: 1, Workers: 2, WorkerStarts: 4, WorkerExits: 2, WorkerKills: 1}, statsOf(&c, 2))
}
