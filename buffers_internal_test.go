package futures

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/wire"
)

func init() { Register(workerEcho, workerInc) }

func workerEcho(_ context.Context, b []byte) ([]byte, error) { return b, nil }

func workerInc(_ context.Context, x int) (int, error) { return x + 1, nil }

// bigCall is an argument larger than the buffers either side keeps.
var bigCall = make([]byte, 4*wire.MaxKept)

func TestProcessPoolDropsBuffersOfALargeArgument(t *testing.T) {
	p, err := NewProcessPool(MaxWorkers(1))
	require.NoError(t, err)
	defer p.Close()
	v, err := Submit(p, workerEcho, bigCall).Result(context.Background())
	require.NoError(t, err)
	require.Len(t, v, len(bigCall))
	assert.LessOrEqual(t, p.pool.Kept(), wire.MaxKept, "the pool keeps the buffers of a large argument")
	n, err := Submit(p, workerInc, 1).Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}
