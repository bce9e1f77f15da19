package futures

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

func init() { Register(workerEcho) }

func workerEcho(_ context.Context, b []byte) ([]byte, error) { return b, nil }

// kept returns the bytes the worker's buffers hold for the next calls, once
// no call runs.
func (w *workerProc) kept() int {
	w.mu.Lock()
	for w.running {
		w.changed.Wait()
	}
	n := cap(w.scratch)
	w.mu.Unlock()
	w.wmu.Lock()
	n += cap(w.frame) + cap(w.spare)
	w.wmu.Unlock()
	w.resMu.Lock()
	n += cap(w.recs)
	w.resMu.Unlock()
	return n
}

// kept returns the bytes the pool keeps to send the next calls to its
// workers.
func (p *ProcessPool) kept() int {
	p.mu.Lock()
	procs := append([]*proc(nil), p.procs...)
	p.mu.Unlock()
	n := 0
	for _, w := range procs {
		w.wmu.Lock()
		n += cap(w.buf)
		w.wmu.Unlock()
	}
	return n
}

// bigCall is an argument larger than the buffers either side keeps.
var bigCall = make([]byte, 4*wire.MaxKept)

func TestWorkerDropsBuffersOfALargeResult(t *testing.T) {
	h := startWorker(t, Gob, 0)
	arg, err := value.Append(nil, Gob, bigCall)
	require.NoError(t, err)
	h.send(t, frame(1, wire.Call{Flags: wire.FlagArg, Func: regName(t, workerEcho), Arg: arg}))
	require.Equal(t, wire.KindOK, h.collect(t, 1)[1].Kind)
	assert.LessOrEqual(t, h.w.kept(), 3*wire.MaxKept, "the worker keeps the buffers of a large result")
	h.send(t, frame(2, intCall(t, workerInc, 0, 1)))
	assert.Equal(t, 2, decodeInt(t, h.collect(t, 1)[2]))
}

func TestProcessPoolDropsBuffersOfALargeArgument(t *testing.T) {
	p, err := NewProcessPool(MaxWorkers(1))
	require.NoError(t, err)
	defer p.Close()
	v, err := Submit(p, workerEcho, bigCall).Result(context.Background())
	require.NoError(t, err)
	require.Len(t, v, len(bigCall))
	assert.LessOrEqual(t, p.kept(), wire.MaxKept, "the pool keeps the buffers of a large argument")
	n, err := Submit(p, workerInc, 1).Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}
