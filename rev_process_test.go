//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// procBytes returns n bytes.
func procBytes(_ context.Context, n int) ([]byte, error) { return make([]byte, n), nil }

func init() { futures.Register(procBytes) }

// TestProcessPoolRefusesResultsOverTheFrameLimit returns results too big
// for a frame: the call fails with an error naming the size and the limit,
// results that fit a frame each but not together reach the pool in several,
// and the worker serves on.
func TestProcessPoolRefusesResultsOverTheFrameLimit(t *testing.T) {
	const limit = 64 << 10
	lowerMaxFrame(t, limit)
	t.Setenv(workerMaxFrame, strconv.Itoa(limit))
	p := newProcPool(t, futures.MaxWorkers(1))
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	_, err := futures.Submit(p, procBytes, 100<<10).Result(ctx)
	require.Error(t, err)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the call hangs")
	assert.NotErrorIs(t, err, futures.ErrWorkerExited)
	assert.Contains(t, err.Error(), "procBytes")
	assert.Regexp(t, `is 1024\d\d bytes encoded`, err.Error(), "the size")
	assert.Contains(t, err.Error(), "more than the 65504 bytes")
	b, err := futures.Submit(p, procBytes, 10).Result(ctx)
	require.NoError(t, err)
	assert.Len(t, b, 10)
	// Results that fit a frame each but not together go in several.
	i := 0
	for b, err := range futures.Map(ctx, p, procBytes, func(yield func(int) bool) {
		for range 40 {
			if !yield(5 << 10) {
				return
			}
		}
	}, futures.Chunksize(40)) {
		if assert.NoError(t, err, "item %d", i) {
			assert.Len(t, b, 5<<10)
		}
		i++
	}
	assert.Equal(t, 40, i)
	assert.Equal(t, int64(1), p.Stats().WorkerStarts, "a worker died")
}

// TestProcessPoolTimeoutExcludesDecodingTheArgument sends arguments that
// take longer to decode in the worker than TaskTimeout: the call itself
// returns at once, so none may time out.
func TestProcessPoolTimeoutExcludesDecodingTheArgument(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.TaskTimeout(20*time.Millisecond))
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	for _, size := range []int{1 << 20, 16 << 20, 64 << 20} {
		n, err := futures.Submit(p, procLen, make([]byte, size)).Result(ctx)
		assert.NoError(t, err, "size %d", size)
		assert.Equal(t, size, n)
	}
}
