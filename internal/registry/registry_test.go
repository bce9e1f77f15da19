package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gofutures/futures/internal/value"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func init() {
	Register("", regSquare)
	Register("registry-test.size", regSize)
}

func regSquare(_ context.Context, x int) (int, error) { return x * x, nil }

// regSize takes a shape without a typed invoker, so that it is called
// through reflection.
func regSize(_ context.Context, m map[string]int) (int, error) { return len(m), nil }

// TestLookupAndCall finds functions by value and by name, as both ends of
// a call do, and calls them on encoded arguments.
func TestLookupAndCall(t *testing.T) {
	f, err := Lookup(regSquare)
	require.NoError(t, err)
	assert.Equal(t, "github.com/gofutures/futures/internal/registry.regSquare", f.Name())
	assert.Same(t, f, ByName(f.Name()))
	assert.Equal(t, "registry.regSquare", ShortName(f.Name()))

	for _, tc := range []struct {
		name string
		arg  any
		want int
	}{{f.Name(), 7, 49}, {"registry-test.size", map[string]int{"a": 1, "b": 2}, 2}} {
		arg, err := value.Append(nil, value.Gob, tc.arg)
		require.NoError(t, err)
		res, _, callErr, codecErr := ByName(tc.name).Call(context.Background(), value.Gob, arg, nil, nil)
		require.NoError(t, callErr)
		require.NoError(t, codecErr)
		var got int
		require.NoError(t, value.Decode(value.Gob, res, &got))
		assert.Equal(t, tc.want, got, tc.name)
	}

	_, _, _, codecErr := f.Call(context.Background(), value.Gob, []byte{0xff}, nil, nil)
	assert.ErrorContains(t, codecErr, "decode the argument")
	assert.Nil(t, ByName("registry-test.missing"))
}

func TestNotRegisteredMatchesErrNotRegistered(t *testing.T) {
	_, err := Lookup(func(context.Context) error { return nil })
	assert.True(t, errors.Is(err, ErrNotRegistered))
	assert.ErrorContains(t, err, "a closure (function literal)")

	err = &NotRegisteredError{Name: "example.com/pkg.Work", InWorker: true}
	assert.ErrorIs(t, err, ErrNotRegistered)
	assert.Equal(t, "futures: function example.com/pkg.Work is not registered in the worker process (does the WorkerCommand program register it?); call futures.Register(pkg.Work) in an init function of its package", err.Error())
}

type regRecord struct {
	ID     int
	Name   string
	Values []float64
}

// regRecordInc takes a struct, which has no typed invoker.
func regRecordInc(_ context.Context, r regRecord) (regRecord, error) {
	r.ID++
	for i := range r.Values {
		r.Values[i]++
	}
	return r, nil
}

func init() { Register("", regRecordInc) }

func BenchmarkReflectiveCall(b *testing.B) {
	f, err := Lookup(regRecordInc)
	require.NoError(b, err)
	in := regRecord{ID: 1, Name: "record", Values: make([]float64, 8)}
	arg, err := value.AppendOf(nil, value.Gob, &in)
	require.NoError(b, err)
	ctx := context.Background()
	var res []byte
	b.ReportAllocs()
	for b.Loop() {
		res, _, _, _ = f.Call(ctx, value.Gob, arg, res[:0], nil)
	}
}
