//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// countingCodec is a codec of the program's own: Gob's encoding under
// another name, counting the values it encodes in this process.
type countingCodec struct{ marshalled *atomic.Int64 }

func (countingCodec) Name() string { return "counting-gob" }

func (c countingCodec) Marshal(v any) ([]byte, error) {
	c.marshalled.Add(1)
	return futures.Gob.Marshal(v)
}

func (countingCodec) Unmarshal(data []byte, v any) error { return futures.Gob.Unmarshal(data, v) }

var countingOwn = countingCodec{new(atomic.Int64)}

func init() { futures.RegisterCodec(countingOwn) }

// TestProcessPoolWithACodecOfItsOwn: a registered codec encodes every
// argument that is not an int, a string or another common type, with no gob
// stream of the pool's in between: structs and interface values cross,
// through Submit and a chunked Map, and a nil pointer fails as the codec
// says.
func TestProcessPoolWithACodecOfItsOwn(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.Encoding(countingOwn))
	before := countingOwn.marshalled.Load()
	r, err := futures.Submit(p, crossEchoRecord, crossRecord{ID: 1, Name: "a", Shape: crossCircle{2}}).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, crossRecord{ID: 1, Name: "a", Shape: crossCircle{2}}, r)
	s, err := futures.Submit(p, crossEchoShape, crossShape(crossCircle{3})).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, crossShape(crossCircle{3}), s)
	// A nil pointer is the codec's to encode, and gob refuses it.
	_, err = futures.Submit(p, crossEchoPtr, nil).Result(bg)
	require.ErrorContains(t, err, "cannot encode the argument of futures_test.crossEchoPtr with counting-gob")
	require.ErrorContains(t, err, "gob: cannot encode nil pointer")
	i := 0
	for v, err := range futures.Map(bg, p, crossEchoRecord, func(yield func(crossRecord) bool) {
		for k := range 30 {
			if !yield(crossRecord{ID: k, Name: strings.Repeat("x", k)}) {
				return
			}
		}
	}, futures.Chunksize(7)) {
		require.NoError(t, err)
		require.Equal(t, crossRecord{ID: i, Name: strings.Repeat("x", i)}, v)
		i++
	}
	require.Equal(t, 30, i)
	assert.Equal(t, int64(3+30), countingOwn.marshalled.Load()-before, "the arguments the codec encoded here")
}
