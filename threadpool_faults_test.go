package futures_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// bound is how long a test waits for what must happen at once before it
// fails instead of hanging; it only matters when the code under test is
// broken.
const bound = 20 * time.Second

// within fails t unless ch is closed within bound.
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(bound):
		t.Fatalf("%s did not happen", what)
	}
}

func TestOnDoneGoexitRunsTheOtherCallbacks(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	release := make(chan struct{})
	f := futures.Go(p, func(context.Context) (int, error) { <-release; return 1, nil })
	var runs [3]atomic.Int32
	last := make(chan struct{})
	f.OnDone(func(*futures.Future[int]) { runs[0].Add(1) })
	f.OnDone(func(*futures.Future[int]) { runs[1].Add(1); runtime.Goexit() })
	f.OnDone(func(*futures.Future[int]) { runs[2].Add(1); close(last) })
	close(release)
	within(t, last, "the callback after one that called runtime.Goexit")
	for i := range runs {
		assert.EqualValues(t, 1, runs[i].Load(), "callback %d", i)
	}
	// The pool keeps working.
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	v, err := futures.Submit(p, double, 21).Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 42, v)
}

func TestInitializerGoexitBreaksThePool(t *testing.T) {
	var runs atomic.Int32
	p := newPool(t, futures.MaxWorkers(2), futures.Initializer(func(context.Context) error {
		runs.Add(1)
		runtime.Goexit()
		return nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	_, err := futures.Submit(p, double, 1).Result(ctx)
	require.ErrorIs(t, err, futures.ErrBrokenExecutor)
	assert.Contains(t, err.Error(), "runtime.Goexit")
	assert.ErrorIs(t, futures.Submit(p, double, 2).Err(), futures.ErrBrokenExecutor)
	require.NoError(t, p.Close())
	assert.EqualValues(t, 1, runs.Load(), "a broken pool starts no more workers")
}

func TestGoexitInChunkThenFailingInitializerFinishesTheChunk(t *testing.T) {
	var inits atomic.Int32
	p := newPool(t, futures.MaxWorkers(1), futures.Initializer(func(context.Context) error {
		if inits.Add(1) > 1 {
			return errors.New("no second worker")
		}
		return nil
	}))
	fn := func(_ context.Context, x int) (int, error) {
		if x == 1 {
			runtime.Goexit()
		}
		return x, nil
	}
	var errs []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, err := range futures.Map(context.Background(), p, fn, slices.Values([]int{0, 1, 2, 3}), futures.Chunksize(4)) {
			errs = append(errs, err)
		}
	}()
	within(t, done, "the end of the Map")
	require.Len(t, errs, 4)
	assert.NoError(t, errs[0])
	assert.ErrorContains(t, errs[1], "runtime.Goexit")
	assert.ErrorIs(t, errs[2], futures.ErrBrokenExecutor)
	assert.ErrorIs(t, errs[3], futures.ErrBrokenExecutor)
	s := p.Stats()
	assert.Equal(t, futures.Stats{Submitted: 4, Succeeded: 1, Failed: 3}, s)
}

func TestQueueSizeCancelFreesRoomAtOnce(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1), futures.QueueSize(1))
	started, gate := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before Close, also when the test fails
	running := futures.Go(p, func(context.Context) (int, error) { close(started); <-gate; return 0, nil })
	within(t, started, "the first call")
	queued := futures.Submit(p, double, 1)
	require.True(t, queued.Cancel())
	assert.EqualValues(t, 0, p.Stats().Queued)

	submitted := make(chan struct{})
	var next *futures.Future[int]
	go func() {
		defer close(submitted)
		next = futures.Submit(p, double, 2)
	}()
	within(t, submitted, "a Submit into the room a cancelled call freed")
	assert.EqualValues(t, 1, p.Stats().Queued)
	release()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	v, err := next.Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, v)
	_, err = running.Result(ctx)
	require.NoError(t, err)
}

// cancelledContext returns a context that is already cancelled.
func cancelledContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestShutdownGivingUpCountsFailedAtOnce(t *testing.T) {
	tests := []struct {
		name  string
		calls int
		start func(p *futures.ThreadPool, fn func(context.Context, int) (int, error)) func()
	}{
		{"Submit", 1, func(p *futures.ThreadPool, fn func(context.Context, int) (int, error)) func() {
			futures.Submit(p, fn, 0)
			return func() {}
		}},
		{"Map chunk", 3, func(p *futures.ThreadPool, fn func(context.Context, int) (int, error)) func() {
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range futures.Map(context.Background(), p, fn, slices.Values([]int{0, 1, 2}), futures.Chunksize(3)) {
				}
			}()
			return func() { <-done }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := futures.NewThreadPool(futures.MaxWorkers(1))
			require.NoError(t, err)
			started, gate := make(chan struct{}), make(chan struct{})
			release := sync.OnceFunc(func() { close(gate) })
			defer release()
			fn := func(_ context.Context, x int) (int, error) {
				if x == 0 {
					close(started)
					<-gate // ignores its context
				}
				return x, nil
			}
			wait := tt.start(p, fn)
			within(t, started, "the first call")
			require.ErrorIs(t, p.Shutdown(cancelledContext()), context.Canceled)
			want := futures.Stats{Submitted: int64(tt.calls), Failed: int64(tt.calls), Workers: 1}
			assert.Equal(t, want, p.Stats(), "right after Shutdown gave up")
			release()
			require.NoError(t, p.Close())
			wait()
			want.Workers = 0
			assert.Equal(t, want, p.Stats(), "after the stuck call returned")
		})
	}
}

func TestShutdownOfClosedPoolWithEndedContextReturnsNil(t *testing.T) {
	p, err := futures.NewThreadPool()
	require.NoError(t, err)
	futures.Submit(p, double, 1)
	require.NoError(t, p.Close())
	ctx := cancelledContext()
	for range 64 { // the old select chose at random
		require.NoError(t, p.Shutdown(ctx))
	}
}

func TestMapStopInvokesNoCallThatHadNotStarted(t *testing.T) {
	for _, chunk := range []int{1, 100} {
		p := newPool(t, futures.MaxWorkers(1))
		ctx, cancel := context.WithCancel(context.Background())
		var invoked atomic.Int32
		fn := func(_ context.Context, x int) (int, error) {
			invoked.Add(1)
			if x == 0 {
				cancel() // the Map stops while the rest waits its turn
			}
			return x, nil
		}
		var last error
		for _, err := range futures.Map(ctx, p, fn, slices.Values(make([]int, 100)), futures.Chunksize(chunk)) {
			last = err
		}
		assert.ErrorIs(t, last, futures.ErrCancelled, "Chunksize(%d)", chunk)
		assert.EqualValues(t, 1, invoked.Load(), "Chunksize(%d): calls invoked", chunk)
		s := p.Stats()
		assert.Equal(t, s.Submitted, s.Succeeded+s.Failed+s.Cancelled, "Chunksize(%d): %+v", chunk, s)
		assert.Zero(t, s.Failed, "Chunksize(%d): a call not invoked is counted Cancelled: %+v", chunk, s)
	}
}

func TestNilPoolFailsTheCall(t *testing.T) {
	var tp *futures.ThreadPool
	var pp *futures.ProcessPool
	for _, ex := range []futures.Executor{tp, pp} {
		err := futures.Submit(ex, double, 1).Err()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Executor is nil")
		assert.Contains(t, futures.Go(ex, func(context.Context) (int, error) { return 0, nil }).Err().Error(), "Executor is nil")
		for _, in := range [][]int{{1, 2}, nil} {
			var errs []error
			for _, err := range futures.Map(context.Background(), ex, double, slices.Values(in), futures.Chunksize(2)) {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Error(), "Executor is nil")
		}
		assert.ErrorContains(t, ex.Shutdown(context.Background()), "Executor is nil")
		assert.ErrorContains(t, ex.Close(), "Executor is nil")
		assert.Zero(t, ex.(interface{ Stats() futures.Stats }).Stats())
	}
}

func TestMapOnEmptyInputYieldsTheRefusal(t *testing.T) {
	p, err := futures.NewThreadPool()
	require.NoError(t, err)
	require.NoError(t, p.Close())
	var errs []error
	for _, err := range futures.Map(context.Background(), p, double, slices.Values([]int(nil))) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], futures.ErrShutdown)

	// An open pool yields nothing for an empty input.
	p2 := newPool(t)
	for _, err := range futures.Map(context.Background(), p2, double, slices.Values([]int(nil))) {
		t.Fatalf("yielded %v", err)
	}
}
