package futures_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// A queued call that a Shutdown giving up fails, or that a failing
// Initializer fails, is counted Failed before its future completes: its
// OnDone callback already sees it so.
func TestQueuedCallEndedByThePoolIsCountedBeforeItsFutureCompletes(t *testing.T) {
	t.Run("Shutdown gave up", func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1))
		require.NoError(t, err)
		started, gate := make(chan struct{}), make(chan struct{})
		release := sync.OnceFunc(func() { close(gate) })
		defer release()
		futures.Go(p, func(context.Context) (int, error) {
			close(started)
			<-gate // ignores its context
			return 0, nil
		})
		within(t, started, "the first call")
		queued := futures.Submit(p, double, 1)
		seen := make(chan futures.Stats, 1)
		queued.OnDone(func(*futures.Future[int]) { seen <- p.Stats() })
		require.ErrorIs(t, p.Shutdown(cancelledContext()), context.Canceled)
		s := <-seen
		assert.Equal(t, int64(0), s.Queued, "%+v", s)
		assert.Equal(t, int64(2), s.Failed, "%+v", s)
		release()
		require.NoError(t, p.Close())
	})
	t.Run("Initializer failed", func(t *testing.T) {
		p, entered, gate := poolWithGatedFailingInit(t)
		f := futures.Submit(p, double, 1)
		seen := make(chan futures.Stats, 1)
		f.OnDone(func(*futures.Future[int]) { seen <- p.Stats() })
		within(t, entered, "the Initializer")
		close(gate)
		s := <-seen
		assert.Equal(t, futures.Stats{Submitted: 1, Failed: 1, Workers: s.Workers}, s)
		require.NoError(t, p.Close())
	})
}

// A runtime.Goexit in an OnDone callback of a call that the pool fails
// leaves no other call unfinished: the pool fails the others, and a Shutdown
// that gives up still cancels the running calls' contexts.
func TestOnDoneGoexitWhilePoolFailsCallsFinishesTheOthers(t *testing.T) {
	t.Run("Shutdown gave up", func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1))
		require.NoError(t, err)
		started := make(chan struct{})
		running := futures.Go(p, func(ctx context.Context) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})
		within(t, started, "the first call")
		first := futures.Submit(p, double, 1)
		first.OnDone(func(*futures.Future[int]) { runtime.Goexit() })
		second := futures.Submit(p, double, 2)
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.Shutdown(cancelledContext()) // exits through the callback's Goexit
		}()
		within(t, done, "the Shutdown")
		within(t, second.Done(), "the second queued call")
		within(t, running.Done(), "the running call")
		assert.ErrorIs(t, second.Err(), futures.ErrBrokenExecutor)
		closed := make(chan struct{})
		go func() { defer close(closed); p.Close() }()
		within(t, closed, "Close, once the running call saw its context cancelled")
		assert.Equal(t, futures.Stats{Submitted: 3, Failed: 3}, p.Stats())
	})
	t.Run("Initializer failed", func(t *testing.T) {
		p, entered, gate := poolWithGatedFailingInit(t)
		first := futures.Submit(p, double, 1)
		first.OnDone(func(*futures.Future[int]) { runtime.Goexit() })
		second := futures.Submit(p, double, 2)
		within(t, entered, "the Initializer")
		close(gate)
		within(t, second.Done(), "the second queued call")
		assert.ErrorIs(t, second.Err(), futures.ErrBrokenExecutor)
		require.NoError(t, p.Close())
		assert.Equal(t, futures.Stats{Submitted: 2, Failed: 2}, p.Stats())
	})
}

// An OnDone callback of a call that a Shutdown giving up fails may Close the
// pool: the running calls' contexts are cancelled before any callback runs,
// so Close does not wait for ever on a call that honours its context.
func TestCloseInOnDoneOfCallFailedByShutdownGivingUp(t *testing.T) {
	p, err := futures.NewThreadPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	started := make(chan struct{})
	running := futures.Go(p, func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		return 0, ctx.Err()
	})
	within(t, started, "the first call")
	closed := make(chan error, 1)
	futures.Submit(p, double, 1).OnDone(func(*futures.Future[int]) { closed <- p.Close() })
	shut := make(chan struct{})
	go func() {
		defer close(shut)
		p.Shutdown(cancelledContext())
	}()
	within(t, shut, "the Shutdown")
	require.NoError(t, <-closed)
	assert.ErrorIs(t, running.Err(), futures.ErrBrokenExecutor)
}

// Shutdowns giving up at once fail every running call with ErrBrokenExecutor
// before any of them cancels the calls' contexts: a call that returns its
// context's error does not get its own outcome in first, and no Shutdown
// returns before that.
func TestConcurrentShutdownsGivingUpFailRunningCallsFirst(t *testing.T) {
	for range 5 {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		require.NoError(t, err)
		started := make(chan struct{}, 2)
		var running []*futures.Future[int]
		for range 2 {
			running = append(running, futures.Go(p, func(ctx context.Context) (int, error) {
				started <- struct{}{}
				<-ctx.Done()
				return 0, ctx.Err()
			}))
		}
		<-started
		<-started
		for i := range 2000 { // the first Shutdown to give up fails them before the running ones
			futures.Submit(p, double, i)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// nil once the pool has exited: nothing is left to wait for
				if err := p.Shutdown(cancelledContext()); err != nil {
					assert.ErrorIs(t, err, context.Canceled)
				}
			}()
		}
		wg.Wait()
		for _, f := range running {
			require.True(t, f.State() == futures.Finished, "a Shutdown returned before the running call failed")
			assert.ErrorIs(t, f.Err(), futures.ErrBrokenExecutor)
		}
		require.NoError(t, p.Close())
	}
}

// poolWithGatedFailingInit returns a pool of one worker whose Initializer
// closes entered, waits for gate to be closed, then fails.
func poolWithGatedFailingInit(t *testing.T) (p *futures.ThreadPool, entered, gate chan struct{}) {
	entered, gate = make(chan struct{}), make(chan struct{})
	p, err := futures.NewThreadPool(futures.MaxWorkers(1), futures.Initializer(func(context.Context) error {
		close(entered)
		<-gate
		return errors.New("no")
	}))
	require.NoError(t, err)
	return p, entered, gate
}
