//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/wire"
)

// TestProcessPoolWorkerExitSaysWhatThePoolDid: a *WorkerExitError says that
// the pool started a replacement only when it did.
func TestProcessPoolWorkerExitSaysWhatThePoolDid(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(p, procExit, 3).Result(bg)
	require.ErrorIs(t, err, futures.ErrWorkerExited)
	assert.NotContains(t, err.Error(), "started a replacement", "nothing was waiting for a worker")
	assert.Contains(t, err.Error(), "starts a replacement when a call needs one")

	// The calls of the chunk behind the crash go to a replacement.
	var errs []error
	for _, err := range futures.Map(bg, p, procExitIf, slices.Values([]int{3, 0, 0}), futures.Chunksize(3)) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 3)
	require.ErrorIs(t, errs[0], futures.ErrWorkerExited)
	assert.Contains(t, errs[0].Error(), "the pool started a replacement")
	assert.NoError(t, errs[1])
	assert.NoError(t, errs[2])
}

// TestProcessPoolTestBinaryWithoutWorkerMain starts workers from a test
// binary whose TestMain does not call WorkerMain: the pool breaks with
// advice that names TestMain, without the usage the binary printed.
func TestProcessPoolTestBinaryWithoutWorkerMain(t *testing.T) {
	t.Setenv(noWorkerMain, "1")
	p := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(p, procSquare, 2).Result(bg)
	require.ErrorIs(t, err, futures.ErrBrokenExecutor)
	require.ErrorIs(t, err, futures.ErrWorkerExited)
	msg := err.Error()
	assert.Contains(t, msg, "TestMain")
	assert.Contains(t, msg, "before it was ready")
	assert.NotContains(t, msg, "while running the call")
	assert.NotContains(t, msg, "replacement")
	assert.NotContains(t, msg, "-test.", "the child's usage is in the error")
	assert.Less(t, len(msg), 800, msg)
}

func procLen(_ context.Context, b []byte) (int, error) { return len(b), nil }

func init() { futures.Register(procLen) }

// lowerMaxFrame sets wire.MaxFrame to n in this process until the end of
// the test, after the pools it creates next are closed.
func lowerMaxFrame(t *testing.T, n int) {
	old := wire.MaxFrame
	wire.MaxFrame = n
	t.Cleanup(func() { wire.MaxFrame = old })
}

// TestProcessPoolRefusesCallsOverTheFrameLimit sends arguments too big for
// a frame: the call fails with an error naming the size and the limit, a
// chunk too big for a frame is split, and only an item too big on its own
// fails; the worker, which has the same limit, never sees a frame over it.
func TestProcessPoolRefusesCallsOverTheFrameLimit(t *testing.T) {
	const limit = 64 << 10
	lowerMaxFrame(t, limit)
	t.Setenv(workerMaxFrame, strconv.Itoa(limit))
	p := newProcPool(t, futures.MaxWorkers(1))
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()

	_, err := futures.Submit(p, procLen, make([]byte, limit)).Result(ctx)
	require.Error(t, err)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the call hangs")
	assert.Contains(t, err.Error(), "procLen")
	assert.Contains(t, err.Error(), strconv.Itoa(limit), "the limit")
	assert.Regexp(t, `is 6553\d bytes encoded, more than`, err.Error(), "the size")

	sizes := make([]int, 17) // 17 × 5 KiB: more than a frame
	for i := range sizes {
		sizes[i] = 5 << 10
	}
	sizes[9] = limit // too big on its own
	for _, chunk := range []int{1, 4, 17} {
		i := 0
		for n, err := range futures.Map(ctx, p, procLen, func(yield func([]byte) bool) {
			for _, s := range sizes {
				if !yield(make([]byte, s)) {
					return
				}
			}
		}, futures.Chunksize(chunk)) {
			if i == 9 {
				assert.ErrorContains(t, err, strconv.Itoa(limit), "Chunksize(%d)", chunk)
			} else if assert.NoError(t, err, "Chunksize(%d) item %d", chunk, i) {
				assert.Equal(t, sizes[i], n)
			}
			i++
		}
		assert.Equal(t, len(sizes), i)
	}
	assert.Equal(t, int64(1), p.Stats().WorkerStarts, "a worker died")
	assert.Zero(t, p.Stats().WorkerExits)
}

// TestProcessPoolCallThatKillsEveryWorker sends a call that each worker
// dies of before starting it, as a frame over the worker's limit does: it
// is sent again a bounded number of times, then fails with a
// *WorkerExitError that says so, and the pool serves on.
func TestProcessPoolCallThatKillsEveryWorker(t *testing.T) {
	t.Setenv(workerMaxFrame, strconv.Itoa(64<<10))
	p := newProcPool(t, futures.MaxWorkers(1))
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	_, err := futures.Submit(p, procLen, make([]byte, 100<<10)).Result(ctx)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the call is sent again forever")
	require.ErrorIs(t, err, futures.ErrWorkerExited)
	assert.Contains(t, err.Error(), "before it started the call")
	assert.Contains(t, err.Error(), "not sent again")
	assert.Equal(t, int64(4), p.Stats().WorkerStarts)
	n, err := futures.Submit(p, procLen, make([]byte, 10)).Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 10, n)
}
