//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"bytes"
	"context"
	"runtime"
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

// workerAllocated returns the bytes the process has allocated so far.
func workerAllocated(_ context.Context, _ struct{}) (uint64, error) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc, nil
}

func init() { futures.Register(bounceBytes, workerHeap, workerAllocated) }

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

// A large []byte argument is written to the worker from the caller's own
// slice, and a large []byte result from the function's: the pool allocates
// about the result's size for a call, not the argument's too, and the
// worker about the argument's, not the result's too.
func TestProcessLargeBytesNotCopied(t *testing.T) {
	const size = 32 << 20
	p, err := futures.NewProcessPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	defer p.Close()
	_, err = futures.Submit(p, bounceBytes, []byte{1}).Result(bg)
	require.NoError(t, err)
	payload := bytes.Repeat([]byte{7}, size)
	payload[size/2] = 9
	var before, after runtime.MemStats
	workerBefore, err := futures.Submit(p, workerAllocated, struct{}{}).Result(bg)
	require.NoError(t, err)
	runtime.ReadMemStats(&before)
	got, err := futures.Submit(p, bounceBytes, payload).Result(bg)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	workerAfter, err := futures.Submit(p, workerAllocated, struct{}{}).Result(bg)
	require.NoError(t, err)
	if alloc := workerAfter - workerBefore; alloc > size*3/2 {
		t.Errorf("a call with a %d-byte argument and result allocated %d bytes in the worker: the result was copied", size, alloc)
	}
	require.Len(t, got, size)
	assert.Equal(t, []byte{8, 9, 7}, []byte{got[0], got[size/2], got[size-1]})
	assert.Equal(t, byte(7), payload[0], "the caller's slice is not changed")
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size*3/2 {
		t.Errorf("a call with a %d-byte argument and result allocated %d bytes in the pool: the argument was copied", size, alloc)
	}
}
