package futures_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// testCtx bounds a test that would hang if deadlock detection failed.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waiter returns a call that waits for start, then for the future *other.
func waiter(start <-chan struct{}, other **futures.Future[int]) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		<-start
		v, err := (*other).Result(ctx)
		if err != nil {
			return 0, fmt.Errorf("waiting on the other call: %w", err)
		}
		return v + 1, nil
	}
}

func TestDeadlockTwoFuturesWaitingOnEachOther(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	start := make(chan struct{})
	var a, b *futures.Future[int]
	a = futures.Go(p, waiter(start, &b))
	b = futures.Go(p, waiter(start, &a))
	close(start)
	ctx := testCtx(t)
	for _, f := range []*futures.Future[int]{a, b} {
		_, err := f.Result(ctx)
		require.ErrorIs(t, err, futures.ErrDeadlock)
		assert.Contains(t, err.Error(), "a cycle")
		assert.Contains(t, err.Error(), "TestDeadlockTwoFuturesWaitingOnEachOther")
	}
}

func TestDeadlockThreeFutureCycle(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(3))
	start := make(chan struct{})
	var a, b, c *futures.Future[int]
	a = futures.Go(p, waiter(start, &b))
	b = futures.Go(p, waiter(start, &c))
	c = futures.Go(p, waiter(start, &a))
	close(start)
	ctx := testCtx(t)
	for _, f := range []*futures.Future[int]{a, b, c} {
		_, err := f.Result(ctx)
		require.ErrorIs(t, err, futures.ErrDeadlock)
	}
}

func TestDeadlockWaitingOnOwnQueuedCall(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	outer := futures.Go(p, func(ctx context.Context) (int, error) {
		inner := futures.Submit(p, double, 5)
		return inner.Result(ctx)
	})
	_, err := outer.Result(testCtx(t))
	require.ErrorIs(t, err, futures.ErrDeadlock)
	assert.Contains(t, err.Error(), "futures_test.double, queued in")
	assert.Contains(t, err.Error(), "whose only worker waits")
}

func TestDeadlockEveryWorkerWaitingOnQueuedCalls(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	start := make(chan struct{})
	outer := func(ctx context.Context) (int, error) {
		<-start
		return futures.Submit(p, double, 1).Result(ctx)
	}
	f1, f2 := futures.Go(p, outer), futures.Go(p, outer)
	close(start)
	ctx := testCtx(t)
	// The second to wait sees every worker stuck and fails; once it returns
	// its worker runs the queued calls and the first gets its result.
	_, err1 := f1.Result(ctx)
	_, err2 := f2.Result(ctx)
	assert.True(t, (err1 == nil) != (err2 == nil), "exactly one deadlock: %v, %v", err1, err2)
	for _, err := range []error{err1, err2} {
		if err != nil {
			assert.ErrorIs(t, err, futures.ErrDeadlock)
		}
	}
}

func TestNoDeadlockWhenAnotherWorkerWillFreeUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(2))
		g := newGate()
		busy := futures.Submit(p, g.call, 7) // holds the second worker for now
		waiting := futures.Go(p, func(ctx context.Context) (int, error) {
			return futures.Submit(p, double, 21).Result(ctx) // queued behind busy
		})
		synctest.Wait()
		assert.Equal(t, futures.Running, waiting.State(), "no false alarm")
		close(g.open)
		v, err := waiting.Result(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 42, v)
		_, err = busy.Result(context.Background())
		require.NoError(t, err)
	})
}

func TestNoDeadlockWhenAnotherGoroutineWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(1))
		got := make(chan error, 1)
		outer := futures.Go(p, func(ctx context.Context) (int, error) {
			inner := futures.Submit(p, double, 5)
			go func() {
				_, err := inner.Result(ctx) // the worker itself does not wait
				got <- err
			}()
			return 0, nil
		})
		_, err := outer.Result(context.Background())
		require.NoError(t, err)
		assert.NoError(t, <-got)
	})
}

func TestDeadlockOnALaterItemOfTheSameChunk(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	var second *futures.Future[int]
	first := futures.NewPromise[int]()
	fn := func(ctx context.Context, x int) (int, error) {
		if x == 0 {
			<-first.Future().Done()
			return second.Result(ctx)
		}
		return x, nil
	}
	tasks := []*futures.Future[int]{}
	for x := range 2 {
		tasks = append(tasks, futures.Submit(futures.Executor(chunked{p}), fn, x))
	}
	second = tasks[1]
	require.NoError(t, first.SetResult(0))
	_, err := tasks[0].Result(testCtx(t))
	require.ErrorIs(t, err, futures.ErrDeadlock)
	assert.Contains(t, err.Error(), "queued behind")
	v, err := tasks[1].Result(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, 1, v)
}

// chunked gathers two calls and hands them to its pool as one chunk.
type chunked struct{ *futures.ThreadPool }

var pendingChunk []futures.Task

func (c chunked) Execute(t futures.Task) error {
	pendingChunk = append(pendingChunk, t)
	if len(pendingChunk) < 2 {
		return nil
	}
	ts := pendingChunk
	pendingChunk = nil
	return c.ExecuteBatch(ts)
}

func TestDeadlockWaitWithDeadlineChildOfTheCallsContext(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	var inner *futures.Future[int]
	outer := futures.Go(p, func(ctx context.Context) (int, error) {
		inner = futures.Submit(p, double, 1) // queued behind this call
		wctx, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		return inner.Result(wctx)
	})
	_, err := outer.Result(testCtx(t))
	require.ErrorIs(t, err, futures.ErrDeadlock, "at once, not after the hour")
	v, err := inner.Result(testCtx(t))
	require.NoError(t, err)
	assert.Equal(t, 2, v)
}

func TestNoDeadlockWhileAnotherWaitHasADeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		require.NoError(t, err)
		defer p.Close()
		start := make(chan struct{})
		var queued *futures.Future[int]
		// b waits on queued with no deadline, then a with one: a's wait can
		// only time out, while b's ends once a's worker is free for queued.
		a := futures.Go(p, func(ctx context.Context) (int, error) {
			<-start
			synctest.Wait() // b waits first
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			return queued.Result(wctx)
		})
		b := futures.Go(p, func(ctx context.Context) (int, error) {
			<-start
			return queued.Result(ctx)
		})
		queued = futures.Submit(p, double, 1)
		close(start)
		_, err = a.Result(context.Background())
		assert.ErrorIs(t, err, futures.ErrDeadlock, "a's wait can only time out")
		v, err := b.Result(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 2, v)
	})
}

// Another call's wait without a deadline counts as endless, even if its
// context is cancelled later: the new waiter gets ErrDeadlock at once.
func TestDeadlockCountsAnotherWaitWithoutDeadlineAsEndless(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(2))
		xs := make(chan *futures.Future[int], 2)
		cancelA := make(chan context.CancelFunc, 1)
		a := futures.Go(p, func(ctx context.Context) (int, error) {
			x := <-xs
			ctx, cancel := context.WithCancel(ctx)
			cancelA <- cancel
			return x.Result(ctx)
		})
		startB := make(chan struct{})
		b := futures.Go(p, func(ctx context.Context) (int, error) {
			x := <-xs
			<-startB
			return x.Result(ctx)
		})
		x := futures.Submit(p, double, 21) // queued: both workers are busy
		xs <- x
		xs <- x
		cancel := <-cancelA
		synctest.Wait() // a waits on x
		close(startB)
		_, err := b.Result(context.Background())
		require.ErrorIs(t, err, futures.ErrDeadlock)
		cancel() // a could free up this way, had b not given up
		<-a.Done()
		v, err := x.Result(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 42, v)
	})
}
