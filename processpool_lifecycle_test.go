//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"runtime"
	"slices"
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
// (which no longer counts once it let go of its thread, on its way out). A
// goroutine that returned from its deferred wg.Done may not have exited
// yet: it counts only if it is still there after a few milliseconds.
func poolGoroutines() []string {
	left := poolStacks()
	for i := 0; i < 50 && len(left) > 0; i++ {
		time.Sleep(time.Millisecond)
		left = poolStacks()
	}
	return left
}

func poolStacks() []string {
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

// blockedPool returns a pool of one worker that runs a call blocked until
// the returned function is called, which also waits for the Map of that
// call to end.
func blockedPool(t *testing.T, opts ...futures.Option) (*futures.ProcessPool, func()) {
	t.Helper()
	p := newProcPool(t, append([]futures.Option{futures.MaxWorkers(1)}, opts...)...)
	fifo, running := runningSignal(t)
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range futures.Map(ctx, p, procBlock, slices.Values([]string{fifo})) {
		}
	}()
	running()
	return p, func() { cancel(); <-done }
}

// TestProcessPoolCallbacksCannotStallThePool registers OnDone callbacks
// that close the pool, wait on a sibling future, or submit a call and wait
// for it: none of them stalls the goroutine that reads results.
func TestProcessPoolCallbacksCannotStallThePool(t *testing.T) {
	for _, tc := range []struct {
		name string
		cb   func(p *futures.ProcessPool, sibling *futures.Future[int]) error
		want error
	}{
		{"Close", func(p *futures.ProcessPool, _ *futures.Future[int]) error { return p.Close() }, futures.ErrDeadlock},
		{"waits on a sibling", func(_ *futures.ProcessPool, s *futures.Future[int]) error {
			_, err := s.Result(bg)
			return err
		}, nil},
		{"submits and waits", func(p *futures.ProcessPool, _ *futures.Future[int]) error {
			_, err := futures.Submit(p, procSquare, 3).Result(bg)
			return err
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, unblock := blockedPool(t, futures.QueueSize(2))
			f := futures.Submit(p, procSquare, 1)
			sibling := futures.Submit(p, procSquare, 2)
			got := make(chan error, 1)
			f.OnDone(func(*futures.Future[int]) { got <- tc.cb(p, sibling) })
			unblock()
			ctx, cancel := context.WithTimeout(bg, 20*time.Second)
			defer cancel()
			select {
			case err := <-got:
				if tc.want != nil {
					assert.ErrorIs(t, err, tc.want)
				} else {
					assert.NoError(t, err)
				}
			case <-ctx.Done():
				t.Fatal("the callback hangs")
			}
			v, err := sibling.Result(ctx)
			require.NoError(t, err, "the pool stalled")
			assert.Equal(t, 4, v)
			require.NoError(t, p.Close())
		})
	}
}

// TestProcessPoolCallbackGoexit calls runtime.Goexit in an OnDone callback:
// the callback of the next future still runs, the pool keeps serving, and
// Close returns.
func TestProcessPoolCallbackGoexit(t *testing.T) {
	p, unblock := blockedPool(t)
	f := futures.Submit(p, procSquare, 1)
	g := futures.Submit(p, procSquare, 2)
	f.OnDone(func(*futures.Future[int]) { runtime.Goexit() })
	ran := make(chan int, 1)
	g.OnDone(func(g *futures.Future[int]) { v, _ := g.Result(bg); ran <- v })
	unblock()
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	select {
	case v := <-ran:
		assert.Equal(t, 4, v)
	case <-ctx.Done():
		t.Fatal("the next callback did not run after one called runtime.Goexit")
	}
	for i := range 3 {
		v, err := futures.Submit(p, procSquare, i).Result(ctx)
		require.NoError(t, err, "the pool stopped serving")
		assert.Equal(t, i*i, v)
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("Close hangs after a callback called runtime.Goexit")
	}
}

// TestProcessPoolCancelQueuedCountsAndFreesRoom cancels a call queued
// behind a busy worker: the counters show it cancelled the moment Cancel
// returns, and its room in a full queue is free for the next Submit at once.
func TestProcessPoolCancelQueuedCountsAndFreesRoom(t *testing.T) {
	p, unblock := blockedPool(t, futures.QueueSize(1))
	defer unblock()
	f := futures.Submit(p, procSquare, 1)
	before := p.Stats()
	require.Equal(t, int64(1), before.Queued)
	require.True(t, f.Cancel())
	s := p.Stats()
	assert.Equal(t, int64(0), s.Queued, "a cancelled call is still counted queued")
	assert.Equal(t, before.Cancelled+1, s.Cancelled)

	submitted := make(chan *futures.Future[int], 1)
	go func() { submitted <- futures.Submit(p, procSquare, 2) }()
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	var g *futures.Future[int]
	select {
	case g = <-submitted:
	case <-ctx.Done():
		t.Fatal("Submit blocks on the room of a cancelled call")
	}
	assert.Equal(t, int64(1), p.Stats().Queued)
	unblock()
	v, err := g.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, v)
	s = p.Stats()
	assert.Equal(t, s.Submitted, s.Queued+s.Running+s.Succeeded+s.Failed+s.Cancelled, "%+v", s)
	assert.Equal(t, int64(1), s.Cancelled)
}
