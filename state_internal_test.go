package futures

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatusTransitions walks a status through the transitions of a call.
func TestStatusTransitions(t *testing.T) {
	var s status
	assert.Equal(t, Pending, s.load())
	assert.True(t, s.own())
	assert.False(t, s.own(), "own twice")
	assert.Equal(t, Pending, s.load(), "owned reads as Pending")
	assert.True(t, s.start())
	assert.False(t, s.start(), "start twice")
	_, ok := s.begin(Cancelled)
	assert.False(t, ok, "a running call cannot be cancelled")
	owned, ok := s.begin(Finished)
	assert.True(t, ok)
	assert.False(t, owned, "start drops the owner: only a pending call's cancellation is told")
	assert.Equal(t, Running, s.load(), "an outcome being written does not show")
	assert.False(t, s.done())
	_, ok = s.begin(Finished)
	assert.False(t, ok, "begin twice")
	s.publish(Finished)
	assert.True(t, s.done())
	assert.Equal(t, Finished, s.settled())

	s.reset()
	s.own()
	owned, ok = s.begin(Cancelled)
	assert.True(t, ok)
	assert.True(t, owned)
	assert.Equal(t, Pending, s.load())
	assert.False(t, s.start(), "a call being cancelled does not start")
	s.publish(Cancelled)
	assert.Equal(t, Cancelled, s.load())

	s.reset()
	assert.False(t, s.beginRunning())
	assert.False(t, s.finishRunning())
	s.start()
	assert.True(t, s.finishRunning())
	assert.Equal(t, Finished, s.load())
}

// TestConcurrentCancel: every Cancel of a pending future that races with
// others returns true, and the future's owner hears of it once.
func TestConcurrentCancel(t *testing.T) {
	for range 100 {
		f := new(Future[int])
		var o countingOwner
		assert.True(t, f.setOwner(&o))
		var wg sync.WaitGroup
		results := make([]bool, 8)
		for i := range results {
			wg.Go(func() { results[i] = f.Cancel() })
		}
		wg.Wait()
		for i, r := range results {
			assert.True(t, r, "Cancel %d", i)
		}
		assert.Equal(t, 1, o.n)
	}
}

type countingOwner struct {
	mu sync.Mutex
	n  int
}

func (o *countingOwner) noteCancelled() {
	o.mu.Lock()
	o.n++
	o.mu.Unlock()
}
