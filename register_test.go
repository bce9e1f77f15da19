package futures_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

type regRecv struct{}

func (regRecv) Method(_ context.Context, x int) (int, error) { return x, nil }

func regGeneric[T any](_ context.Context, x T) (T, error) { return x, nil }

func regNoContext(x int) (int, error)                     { return x, nil }
func regNoError(_ context.Context, x int) int             { return x }
func regTwoArgs(_ context.Context, x, y int) (int, error) { return x + y, nil }
func regArgNoResult(_ context.Context, x int) error       { return nil }
func regVariadic(_ context.Context, xs ...int) (int, error) {
	return len(xs), nil
}
func regOnce(_ context.Context, x int) (int, error)   { return x, nil }
func regTwice(_ context.Context, x int) (int, error)  { return x, nil }
func regThrice(_ context.Context, x int) (int, error) { return x, nil }

// Registrations happen in init, so that worker processes make them too.
func init() {
	futures.Register(regOnce)
	futures.RegisterName("futures_test.custom-name", regTwice)
}

var regLiteral = func(_ context.Context, x int) (int, error) { return x, nil }

func TestRegisterPanicsWithAdvice(t *testing.T) {
	captured := 3
	for _, tc := range []struct {
		name string
		do   func()
		want string
	}{
		{"nil", func() { futures.Register(nil) }, "not a function"},
		{"not a function", func() { futures.Register(42) }, "not a function"},
		{"nil function", func() { futures.Register((func(context.Context) error)(nil)) }, "not a function"},
		{"closure", func() {
			futures.Register(func(_ context.Context, x int) (int, error) { return x + captured, nil })
		}, "a closure"},
		{"package-level literal", func() { futures.Register(regLiteral) }, "a closure"},
		{"method value", func() { futures.Register(regRecv{}.Method) }, "a method value"},
		{"generic", func() { futures.Register(regGeneric[int]) }, "generic function"},
		{"no context", func() { futures.Register(regNoContext) }, "it must be func(context.Context, A) (R, error)"},
		{"no error", func() { futures.Register(regNoError) }, "it must be"},
		{"two arguments", func() { futures.Register(regTwoArgs) }, "it must be"},
		{"argument without result", func() { futures.Register(regArgNoResult) }, "it must be"},
		{"variadic", func() { futures.Register(regVariadic) }, "it must be"},
		{"duplicate", func() { futures.Register(regOnce) }, "registered already"},
		{"duplicate name", func() { futures.RegisterName("futures_test.custom-name", regThrice) }, "registered already"},
		{"same function, second name", func() { futures.RegisterName("another", regTwice) }, "registered already"},
		{"empty name", func() { futures.RegisterName("", regOnce) }, "name is empty"},
		{"RegisterFunc nil", func() { futures.RegisterFunc[int, int](nil) }, "not a function"},
		{"RegisterFunc closure", func() {
			futures.RegisterFunc(func(_ context.Context, x int) (int, error) { return x + captured, nil })
		}, "a closure"},
		{"RegisterFunc package-level literal", func() { futures.RegisterFunc(regLiteral) }, "a closure"},
		{"RegisterFunc method value", func() { futures.RegisterFunc(regRecv{}.Method) }, "a method value"},
		{"RegisterFunc generic", func() { futures.RegisterFunc(regGeneric[int]) }, "generic function"},
		{"RegisterFunc duplicate", func() { futures.RegisterFunc(regOnce) }, "registered already"},
		{"nil codec", func() { futures.RegisterCodec(nil) }, "nil"},
		{"duplicate codec", func() { futures.RegisterCodec(futures.JSON) }, "registered already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "no panic")
				msg := fmt.Sprint(r)
				assert.Contains(t, msg, "futures:")
				assert.Contains(t, msg, tc.want)
			}()
			tc.do()
		})
	}
}

func TestRegisteredNameWorksAcrossProcesses(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	v, err := futures.Submit(p, regTwice, 21).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 21, v)
}

func TestNotRegisteredNamesTheFunction(t *testing.T) {
	p := newProcPool(t)
	err := futures.Submit(p, regNoContextWrapped, 1).Err()
	assert.ErrorIs(t, err, futures.ErrNotRegistered)
	assert.Contains(t, err.Error(), "futures_test.regNoContextWrapped")
	assert.Contains(t, err.Error(), "futures.Register(futures_test.regNoContextWrapped)")
}

func regNoContextWrapped(_ context.Context, x int) (int, error) { return regNoContext(x) }
