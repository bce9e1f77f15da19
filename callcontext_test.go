package futures_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

func TestSubmitContextBadInput(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	fn := func(context.Context, int) (int, error) { return 1, nil }
	assert.ErrorContains(t, futures.SubmitContext(nil, p, fn, 1).Err(), "futures: SubmitContext: the context is nil")
	assert.ErrorContains(t, futures.GoContext(nil, p, func(context.Context) (int, error) { return 1, nil }).Err(), "futures: GoContext: the context is nil")
	assert.ErrorContains(t, futures.SubmitContext[int, int](bg, p, nil, 1).Err(), "futures: SubmitContext: the function is nil")
	assert.ErrorContains(t, futures.GoContext[int](bg, p, nil).Err(), "futures: GoContext: the function is nil")
	ended, cancel := context.WithCancel(bg)
	cancel()
	// Bad input is reported as such, even with a context that has ended.
	assert.ErrorContains(t, futures.SubmitContext(ended, nil, fn, 1).Err(), "the Executor is nil")
}

// A call whose ctx ends while it is queued on a ThreadPool with QueueSize is
// cancelled at once, with ctx's error and cause, is counted before Result
// returns, and frees its room for the next call.
func TestThreadPoolSubmitContextQueued(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1), futures.QueueSize(1))
	release := make(chan struct{})
	started := make(chan struct{})
	busy := futures.Go(p, func(context.Context) (int, error) { close(started); <-release; return 0, nil })
	<-started
	var ran atomic.Bool
	cause := errors.New("the request went away")
	ctx, cancel := context.WithCancelCause(bg)
	f := futures.SubmitContext(ctx, p, func(context.Context, int) (int, error) { ran.Store(true); return 1, nil }, 1)
	require.Equal(t, futures.Pending, f.State())
	require.Equal(t, int64(1), p.Stats().Queued)
	cancel(cause)
	_, err := f.Result(bg)
	assert.ErrorIs(t, err, futures.ErrCancelled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, futures.Cancelled, f.State())
	st := p.Stats()
	assert.Equal(t, int64(0), st.Queued, "the cancelled call still takes room")
	assert.Equal(t, int64(1), st.Cancelled)

	// The room is free: this does not wait for the busy worker.
	next, stop := context.WithTimeout(bg, time.Minute)
	defer stop()
	g := futures.SubmitContext(next, p, func(context.Context, int) (int, error) { return 2, nil }, 2)
	assert.Equal(t, futures.Pending, g.State(), "Submit waited for room a cancelled call should have freed: %v", g.Err())
	close(release)
	v, err := g.Result(bg)
	assert.Equal(t, 2, v)
	assert.NoError(t, err)
	require.NoError(t, busy.Err())
	require.NoError(t, p.Close())
	assert.False(t, ran.Load(), "the cancelled call ran")
	st = p.Stats()
	assert.Equal(t, int64(2), st.Succeeded)
	assert.Equal(t, int64(1), st.Cancelled)
}

// A deadline that passes while the call is queued cancels it with an error
// matching context.DeadlineExceeded.
func TestThreadPoolSubmitContextDeadlineWhileQueued(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	release := make(chan struct{})
	started := make(chan struct{})
	futures.Go(p, func(context.Context) (int, error) { close(started); <-release; return 0, nil })
	<-started
	ctx, cancel := context.WithTimeout(bg, time.Millisecond)
	defer cancel()
	f := futures.GoContext(ctx, p, func(context.Context) (int, error) { return 1, nil })
	_, err := f.Result(bg)
	assert.ErrorIs(t, err, futures.ErrCancelled)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, futures.Cancelled, f.State())
	close(release)
}

// A running call sees ctx's values and deadline, and its context is
// cancelled when ctx ends; what it returns then is its outcome.
func TestThreadPoolSubmitContextRunning(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	type key struct{}
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.WithValue(bg, key{}, "v"), deadline)
	started := make(chan struct{})
	f := futures.SubmitContext(ctx, p, func(ctx context.Context, _ int) (string, error) {
		close(started)
		<-ctx.Done()
		d, _ := ctx.Deadline()
		if !d.Equal(deadline) {
			return "", errors.New("the call's context has another deadline")
		}
		return ctx.Value(key{}).(string) + " returned after " + context.Cause(ctx).Error(), nil
	}, 0)
	<-started
	cancel()
	v, err := f.Result(bg)
	require.NoError(t, err)
	assert.Equal(t, "v returned after context canceled", v)
	assert.Equal(t, futures.Finished, f.State())
}

// A call whose ctx had ended is cancelled and never invoked, and counted.
func TestThreadPoolSubmitContextEnded(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	ctx, cancel := context.WithCancel(bg)
	cancel()
	var ran atomic.Bool
	f := futures.SubmitContext(ctx, p, func(context.Context, int) (int, error) { ran.Store(true); return 1, nil }, 1)
	assert.Equal(t, futures.Cancelled, f.State())
	assert.ErrorIs(t, f.Err(), futures.ErrCancelled)
	assert.ErrorIs(t, f.Err(), context.Canceled)
	require.NoError(t, p.Close())
	assert.False(t, ran.Load())
	st := p.Stats()
	assert.Equal(t, int64(1), st.Submitted)
	assert.Equal(t, int64(1), st.Cancelled)
}
