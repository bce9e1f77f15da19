package futures_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
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
