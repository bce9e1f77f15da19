//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/value"
)

type streamRecord struct {
	ID     int
	Name   string
	Values []float64
}

func streamEcho(_ context.Context, r streamRecord) (streamRecord, error) { return r, nil }

func init() { Register(streamEcho) }

// TestGobDescribesATypeOncePerWorker maps structs on one worker: past the
// first result, each costs the pool fewer bytes read than one value Gob
// encodes alone, with its type's description.
func TestGobDescribesATypeOncePerWorker(t *testing.T) {
	p, err := NewProcessPool(MaxWorkers(1))
	require.NoError(t, err)
	defer p.Close()
	rec := streamRecord{ID: 1, Name: "record", Values: make([]float64, 8)}
	records := func(n int) func(func(streamRecord) bool) {
		return func(yield func(streamRecord) bool) {
			for range n {
				if !yield(rec) {
					return
				}
			}
		}
	}
	got := func() uint64 {
		require.Equal(t, 1, p.Stats().Workers)
		return p.pool.BytesRead()
	}
	for _, err := range Map(context.Background(), p, streamEcho, records(1)) {
		require.NoError(t, err)
	}
	before := got()
	const n = 200
	for r, err := range Map(context.Background(), p, streamEcho, records(n)) {
		require.NoError(t, err)
		require.Equal(t, rec, r)
	}
	alone, err := value.Append(nil, Gob, rec)
	require.NoError(t, err)
	perItem := float64(got()-before) / n
	assert.Less(t, perItem, float64(len(alone)), "bytes read per result, against %d for one value with its description", len(alone))
	t.Logf("%.1f bytes read per result; Gob alone: %d bytes", perItem, len(alone))
}
