package futures_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// poolGoroutines returns the stacks of the goroutines of a ProcessPool that
// are still running: its worker goroutines, watchdog and spawning thread
// (which no longer counts once it let go of its thread, on its way out).
func poolGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for _, fn := range []string{"futures.(*ProcessPool).run(", "futures.(*ProcessPool).writer(",
			"futures.(*ProcessPool).watchTimeouts(", "supervise.(*Spawner).loop("} {
			if strings.Contains(g, fn) && (!strings.Contains(fn, "Spawner") || strings.Contains(g, "locked to thread")) {
				left = append(left, g)
			}
		}
	}
	return left
}

// TestProcessPoolConcurrentCloseWaitsForAll closes a pool from several
// goroutines at once: every Close returns after the pool's goroutines and
// its spawner stopped, not only the one that stopped them.
func TestProcessPoolConcurrentCloseWaitsForAll(t *testing.T) {
	for range 20 {
		p, err := futures.NewProcessPool(futures.MaxWorkers(2), futures.TaskTimeout(time.Minute))
		require.NoError(t, err)
		_, err = futures.Submit(p, procSquare, 3).Result(bg)
		require.NoError(t, err)
		var wg sync.WaitGroup
		left := make([][]string, 4)
		for i := range left {
			wg.Go(func() {
				assert.NoError(t, p.Close())
				left[i] = poolGoroutines()
			})
		}
		wg.Wait()
		for i, l := range left {
			require.Empty(t, l, "Close %d returned nil with pool goroutines running", i)
		}
	}
}

// TestProcessPoolShutdownClosedWithDoneContext shuts down a closed pool with
// a context that ended already: there is nothing to wait for, so it
// returns nil, every time.
func TestProcessPoolShutdownClosedWithDoneContext(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(p, procSquare, 3).Result(bg)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	ctx, cancel := context.WithCancel(bg)
	cancel()
	for i := range 100 {
		require.NoError(t, p.Shutdown(ctx), "Shutdown %d", i)
	}
}
