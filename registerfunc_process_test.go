//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// A regOp says what regDo does: return the record changed, fail, panic,
// call runtime.Goexit, or wait for its context to end.
type regOp struct {
	Do     string
	ID     int
	Name   string
	Values []float64
}

// regDo does what op says.
func regDo(ctx context.Context, op regOp) (regOp, error) {
	switch op.Do {
	case "error":
		return regOp{}, fmt.Errorf("item %d: %w", op.ID, fs.ErrNotExist)
	case "panic":
		panic(op.Name)
	case "goexit":
		runtime.Goexit()
	case "wait":
		<-ctx.Done()
		return regOp{}, ctx.Err()
	}
	op.ID++
	op.Name += "!"
	for i := range op.Values {
		op.Values[i] *= 2
	}
	return op, nil
}

// regDoReflect and regDoTyped are regDo, registered with Register and
// with RegisterFunc.
func regDoReflect(ctx context.Context, op regOp) (regOp, error) { return regDo(ctx, op) }
func regDoTyped(ctx context.Context, op regOp) (regOp, error)   { return regDo(ctx, op) }

func init() {
	futures.Register(regDoReflect)
	futures.RegisterFunc(regDoTyped)
}

// TestRegisterFuncCallsAsRegister: a function registered with RegisterFunc
// gives the same outcomes in a worker process as one registered with
// Register: values, errors with their identity, panics with their value,
// runtime.Goexit, and a context cancelled while the call runs.
func TestRegisterFuncCallsAsRegister(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	for _, fn := range []struct {
		name string
		fn   func(context.Context, regOp) (regOp, error)
	}{{"Register", regDoReflect}, {"RegisterFunc", regDoTyped}} {
		t.Run(fn.name, func(t *testing.T) {
			v, err := futures.Submit(p, fn.fn, regOp{ID: 1, Name: "r", Values: []float64{1, 2}}).Result(bg)
			require.NoError(t, err)
			assert.Equal(t, regOp{ID: 2, Name: "r!", Values: []float64{2, 4}}, v)

			_, err = futures.Submit(p, fn.fn, regOp{Do: "error", ID: 7}).Result(bg)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			assert.ErrorContains(t, err, "item 7: file does not exist")

			_, err = futures.Submit(p, fn.fn, regOp{Do: "panic", Name: "boom"}).Result(bg)
			var pe *futures.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "boom", pe.Value)

			_, err = futures.Submit(p, fn.fn, regOp{Do: "goexit"}).Result(bg)
			assert.ErrorContains(t, err, "runtime.Goexit")

			ctx, cancel := context.WithCancel(bg)
			f := futures.SubmitContext(ctx, p, fn.fn, regOp{Do: "wait"})
			for f.State() != futures.Running {
				runtime.Gosched()
			}
			cancel()
			_, err = f.Result(bg)
			assert.True(t, errors.Is(err, context.Canceled), "%v", err)
		})
	}
}
