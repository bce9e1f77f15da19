package futures

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A call cancelled while the pool takes it in (its future is being settled
// when the pool finds it no longer pending) is counted Cancelled, not
// Failed.
func TestCallCancelledWhileTakenInIsCountedCancelled(t *testing.T) {
	p, err := NewThreadPool(MaxWorkers(1))
	require.NoError(t, err)
	started, gate := make(chan struct{}), make(chan struct{})
	defer func() { <-started; close(gate); require.NoError(t, p.Close()) }()
	Go(p, func(context.Context) (int, error) { close(started); <-gate; return 0, nil })
	<-started
	c := Submit(p, func(_ context.Context, x int) (int, error) { return x, nil }, 1) // in the inbox, not yet taken in

	c.mu.Lock() // holds the Cancel below between taking the outcome and publishing it
	cancelled := make(chan bool)
	go func() { cancelled <- c.Cancel() }()
	deadline := time.Now().Add(20 * time.Second)
	for c.state.v.Load() != settlingPending {
		require.True(t, time.Now().Before(deadline), "Cancel did not begin")
		runtime.Gosched()
	}
	stats := make(chan Stats)
	go func() { stats <- p.Stats() }() // takes the call in
	select {
	case s := <-stats:
		c.mu.Unlock()
		assert.True(t, <-cancelled)
		assert.Equal(t, int64(0), s.Failed, "%+v", s)
	case <-time.After(50 * time.Millisecond):
		// Stats waits for the outcome: let it be published.
		c.mu.Unlock()
		assert.True(t, <-cancelled)
		s := <-stats
		assert.Equal(t, int64(0), s.Failed, "%+v", s)
	}
	s := p.Stats()
	assert.Equal(t, Stats{Submitted: 2, Running: 1, Cancelled: 1, Workers: 1}, s)
}

// cancellerFunc is a canceller that calls itself.
type cancellerFunc func()

func (f cancellerFunc) noteCancelled() { f() }

// A cancelled future tells its owner before anyone can see it done, so that
// whoever wakes on it reads Stats that count the cancellation.
func TestCancelTellsTheOwnerBeforeTheFutureIsDone(t *testing.T) {
	c := &call[int, int]{}
	done := c.Done()
	var seen []string
	require.True(t, c.setOwner(cancellerFunc(func() {
		select {
		case <-done:
			seen = append(seen, "Done closed")
		default:
		}
		if c.State() != Pending {
			seen = append(seen, "State "+c.State().String())
		}
	})))
	require.True(t, c.Cancel())
	assert.Empty(t, seen, "when the owner was told")
	assert.Equal(t, Cancelled, c.State())
}
