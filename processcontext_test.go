//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// Ending the ctx of a call running in a worker process cancels that call's
// context there, and no other call's; the call's return is its outcome.
func TestProcessPoolSubmitContextCancelsOnlyItsCall(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2))
	fifo1, running1 := runningSignal(t)
	fifo2, running2 := runningSignal(t)
	ctx1, cancel1 := context.WithCancel(bg)
	ctx2, cancel2 := context.WithCancel(bg)
	defer cancel2()
	f1 := futures.SubmitContext(ctx1, p, procBlock, fifo1)
	pid1 := running1()
	f2 := futures.SubmitContext(ctx2, p, procBlock, fifo2)
	pid2 := running2()
	require.NotEqual(t, pid1, pid2)
	cancel1()
	_, err := f1.Result(bg)
	assert.ErrorContains(t, err, "context canceled")
	assert.Equal(t, futures.Finished, f1.State())
	assert.Equal(t, futures.Running, f2.State(), "cancelling one call's ctx ended another call")
	cancel2()
	_, err = f2.Result(bg)
	assert.ErrorContains(t, err, "context canceled")
}

// A call whose ctx ends while it is queued on a ProcessPool with QueueSize
// is cancelled at once, counted before Result returns, never sent to a
// worker, and frees its room for the next call.
func TestProcessPoolSubmitContextQueued(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.QueueSize(1))
	fifo, running := runningSignal(t)
	busyCtx, stopBusy := context.WithCancel(bg)
	defer stopBusy()
	busy := futures.SubmitContext(busyCtx, p, procBlock, fifo)
	running()
	ctx, cancel := context.WithCancel(bg)
	f := futures.SubmitContext(ctx, p, procSquare, 3)
	require.Equal(t, futures.Pending, f.State())
	cancel()
	_, err := f.Result(bg)
	assert.ErrorIs(t, err, futures.ErrCancelled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, futures.Cancelled, f.State())
	st := p.Stats()
	assert.Equal(t, int64(0), st.Queued, "the cancelled call still takes room")
	assert.Equal(t, int64(1), st.Cancelled)

	next, stop := context.WithTimeout(bg, time.Minute)
	defer stop()
	g := futures.SubmitContext(next, p, procSquare, 4)
	assert.Equal(t, futures.Pending, g.State(), "Submit waited for room a cancelled call should have freed: %v", g.Err())
	stopBusy()
	_, err = busy.Result(bg)
	assert.ErrorContains(t, err, "context canceled")
	v, err := g.Result(bg)
	assert.NoError(t, err)
	assert.Equal(t, 16, v)
	require.NoError(t, p.Close())
	st = p.Stats()
	assert.Equal(t, int64(1), st.Succeeded)
	assert.Equal(t, int64(1), st.Failed)
	assert.Equal(t, int64(1), st.Cancelled)
}
