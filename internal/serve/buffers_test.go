package serve

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

func init() { registry.Register("", workerEcho) }

func workerEcho(_ context.Context, b []byte) ([]byte, error) { return b, nil }

// bigCall is an argument larger than the buffers the server keeps.
var bigCall = make([]byte, 4*wire.MaxKept)

// kept returns the bytes the worker's buffers hold for the next calls, once
// no call runs.
func (s *server) kept() int {
	s.mu.Lock()
	for s.running {
		s.changed.Wait()
	}
	n := cap(s.runner.scratch)
	s.mu.Unlock()
	s.wmu.Lock()
	n += cap(s.frame.Buf) + cap(s.spare.Buf)
	s.wmu.Unlock()
	s.resMu.Lock()
	n += cap(s.recs.Buf)
	s.resMu.Unlock()
	return n
}

func TestWorkerDropsBuffersOfALargeResult(t *testing.T) {
	h := startWorker(t, value.Gob, 0)
	arg, err := value.Append(nil, value.Gob, bigCall)
	require.NoError(t, err)
	h.send(t, frame(1, wire.Call{Flags: wire.FlagArg, Func: regName(t, workerEcho), Arg: arg}))
	require.Equal(t, wire.KindOK, h.collect(t, 1)[1].Kind)
	assert.LessOrEqual(t, h.w.kept(), 3*wire.MaxKept, "the worker keeps the buffers of a large result")
	h.send(t, frame(2, intCall(t, workerInc, 0, 1)))
	assert.Equal(t, 2, decodeInt(t, h.collect(t, 1)[2]))
}
