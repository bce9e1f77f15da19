package futures_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

func init() { futures.Register(procPidOf) }

// procPidOf returns the pid of the worker running it.
func procPidOf(context.Context, int) (int, error) { return os.Getpid(), nil }

func TestProcessPoolMaxTasksPerWorkerSplitsChunks(t *testing.T) {
	for _, chunk := range []int{3, 10} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(2), futures.MaxTasksPerWorker(2))
			uses := map[int]int{}
			for pid, err := range futures.Map(bg, p, procPidOf, slices.Values(make([]int, 25)), futures.Chunksize(chunk)) {
				require.NoError(t, err)
				uses[pid]++
			}
			for pid, n := range uses {
				assert.LessOrEqual(t, n, 2, "worker %d", pid)
			}
			assert.Equal(t, int64(13), p.Stats().WorkerStarts)
		})
	}
}
