package serve

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

func init() { registry.Register("", runnerPanic) }

func runnerPanic(context.Context, int) (int, error) { panic("boom") }

// TestRunnerServesCallsWithoutPipes serves registered calls as an executor
// with a transport of its own does: it finds the function by the name the
// call carries, runs it with a context of its own, and gets a wire.Result.
func TestRunnerServesCallsWithoutPipes(t *testing.T) {
	r := NewRunner(value.Gob, 0, nil, nil)
	ctx := context.Background()
	run := func(id uint64, fn any, x int) wire.Result {
		name := regName(t, fn)
		arg, err := value.Append(nil, value.Gob, x)
		require.NoError(t, err)
		var res wire.Result
		require.True(t, r.Run(ctx, &res, id, registry.ByName(name), name, arg))
		require.Equal(t, id, res.ID)
		return res
	}
	assert.Equal(t, 42, decodeInt(t, run(1, workerInc, 41)))

	res := run(2, runnerPanic, 0)
	assert.Equal(t, wire.KindPanic, res.Kind)
	assert.Equal(t, "boom", res.Message)
	assert.Contains(t, res.Stack, "runnerPanic")

	r.Run(ctx, &res, 3, nil, "example.com/pkg.Missing", nil)
	assert.Equal(t, wire.Result{ID: 3, Kind: wire.KindFail, Type: FailNotRegistered, Message: "example.com/pkg.Missing"}, res)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.True(t, r.Run(cancelled, &res, 4, registry.ByName(regName(t, workerInc)), regName(t, workerInc), nil))
	assert.Equal(t, wire.KindCancelled, res.Kind, "a call whose context ended was invoked")

	goexit := make(chan wire.Result, 1)
	r = NewRunner(value.Gob, 0, nil, func(res *wire.Result) { goexit <- *res })
	go r.Run(ctx, new(wire.Result), 5, registry.ByName(regName(t, workerGoexit)), regName(t, workerGoexit), nil)
	res = <-goexit
	assert.Equal(t, wire.Result{ID: 5, Kind: wire.KindFail, Message: ErrGoexit.Error()}, res)
}

func TestRunnerTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	timedOut := make(chan wire.Result, 1)
	r := NewRunner(value.Gob, timeout, func(res *wire.Result) { timedOut <- *res }, nil)
	g := newGate(t)
	name := regName(t, workerWait)
	arg, err := value.Append(nil, value.Gob, 1)
	require.NoError(t, err)
	done := make(chan bool, 1)
	go func() {
		done <- r.Run(context.Background(), new(wire.Result), 7, registry.ByName(name), name, arg)
	}()
	assert.Equal(t, wire.Result{ID: 7, Kind: wire.KindTimeout, Message: timeout.String()}, <-timedOut)
	g.open()
	assert.False(t, <-done, "the outcome of a call that timed out is to be reported")
}
