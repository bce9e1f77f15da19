//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// bounceBytes returns b with its first byte incremented: a result as big as
// the argument.
func bounceBytes(_ context.Context, b []byte) ([]byte, error) {
	if len(b) > 0 {
		b[0]++
	}
	return b, nil
}

// workerHeap returns the live heap of the process after a full collection.
func workerHeap(_ context.Context, _ struct{}) (uint64, error) { return heapInUse(), nil }

func init() { futures.Register(bounceBytes, workerHeap) }

// A large argument and result cross whole, and neither the pool nor the
// worker keeps buffers of their size once the call is over.
func TestProcessLargePayloadMemoryReturns(t *testing.T) {
	const size = 48 << 20
	p, err := futures.NewProcessPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	defer p.Close()
	small := bytes.Repeat([]byte{1}, 100)
	_, err = futures.Submit(p, bounceBytes, small).Result(bg)
	require.NoError(t, err)
	parent := heapInUse()
	worker, err := futures.Submit(p, workerHeap, struct{}{}).Result(bg)
	require.NoError(t, err)

	for range 2 {
		payload := bytes.Repeat([]byte{7}, size)
		payload[size-1] = 9
		got, err := futures.Submit(p, bounceBytes, payload).Result(bg)
		require.NoError(t, err)
		require.Len(t, got, size)
		assert.Equal(t, []byte{8, 7, 9}, []byte{got[0], got[size/2], got[size-1]})
	}
	// A small call after the large ones: the buffers kept are those of a
	// small call.
	_, err = futures.Submit(p, bounceBytes, small).Result(bg)
	require.NoError(t, err)

	workerAfter, err := futures.Submit(p, workerHeap, struct{}{}).Result(bg)
	require.NoError(t, err)
	parentAfter := heapInUse()
	const slack = 4 << 20
	assert.Less(t, int64(parentAfter)-int64(parent), int64(slack), "the pool keeps memory after a large call")
	assert.Less(t, int64(workerAfter)-int64(worker), int64(slack), "the worker keeps memory after a large call")
}
