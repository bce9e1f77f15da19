package serve

import (
	"context"
	"fmt"
	"io"
	"runtime"
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

// goexitError calls runtime.Goexit in its Error method; goexitString in
// its String method.
type goexitError struct{}

func (goexitError) Error() string { runtime.Goexit(); return "" }

type goexitString struct{}

func (goexitString) String() string { runtime.Goexit(); return "" }

func runnerGoexitError(context.Context, int) (int, error) { return 0, goexitError{} }

func runnerPanicGoexit(context.Context, int) (int, error) { panic(goexitString{}) }

func runnerPanicError(context.Context, int) (int, error) { panic(fmt.Errorf("w: %w", io.EOF)) }

func runnerWrapped(context.Context, int) (int, error) { return 0, fmt.Errorf("w: %w", io.EOF) }

func init() {
	for _, fn := range []any{runnerGoexitError, runnerPanicGoexit, runnerPanicError, runnerWrapped} {
		registry.Register("", fn)
	}
}

// TestRunnerErrorsAndPanicValues: the outcome of a call that fails carries
// the tree of its error, and that of a panic the value, and the methods of
// either that call runtime.Goexit never lose the outcome.
func TestRunnerErrorsAndPanicValues(t *testing.T) {
	goexit := make(chan wire.Result, 1)
	r := NewRunner(value.Gob, 0, nil, func(res *wire.Result) { goexit <- *res })
	run := func(fn any) wire.Result {
		name := regName(t, fn)
		arg, err := value.Append(nil, value.Gob, 1)
		require.NoError(t, err)
		out := make(chan wire.Result, 1)
		go func() {
			var res wire.Result
			if r.Run(context.Background(), &res, 1, registry.ByName(name), name, arg) {
				out <- res
			}
		}()
		select {
		case res := <-out:
			return res
		case res := <-goexit:
			return res
		}
	}
	res := run(runnerWrapped)
	assert.Equal(t, wire.KindError, res.Kind)
	assert.Equal(t, "w: EOF", res.Message)
	n, err := wire.ParseErrTree(res.Value)
	require.NoError(t, err, "the error of a call that wraps io.EOF carries its tree")
	require.Len(t, n.Children, 1)
	assert.Equal(t, wire.NodeSentinel, n.Children[0].Node.Kind)

	res = run(runnerPanicError)
	assert.Equal(t, wire.KindPanic, res.Kind)
	assert.Equal(t, "w: EOF", res.Message)
	kind, _, _, _, err := wire.ParsePanicValue(res.Value)
	require.NoError(t, err)
	assert.Equal(t, wire.PanicError, kind)

	res = run(runnerGoexitError)
	assert.Equal(t, wire.Result{ID: 1, Kind: wire.KindFail, Message: ErrGoexit.Error()}, res, "Goexit in the error's Error method is the call's")

	res = run(runnerPanicGoexit)
	assert.Equal(t, wire.KindPanic, res.Kind)
	assert.Contains(t, res.Message, "runtime.Goexit")
}
