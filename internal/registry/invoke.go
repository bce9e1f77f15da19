package registry

import (
	"context"
	"fmt"
	"reflect"

	"github.com/gofutures/futures/internal/value"
)

// invoker calls a registered function in a worker: it decodes arg (nil for
// a function without one), calls started if it is not nil, calls the
// function, and appends the encoded result, if any, to dst. It returns the
// function's error, or codecErr saying what could not be decoded or
// encoded.
type invoker func(ctx context.Context, c value.Codec, arg, dst []byte, started func()) (res []byte, err, codecErr error)

// newInvoker returns the invoker of fn: a direct call for common shapes,
// otherwise one through reflection.
func newInvoker(fn any, v reflect.Value, argType, resType reflect.Type) invoker {
	switch f := fn.(type) {
	case func(context.Context, int) (int, error):
		return typedInvoker(f)
	case func(context.Context, string) (string, error):
		return typedInvoker(f)
	case func(context.Context, int) (string, error):
		return typedInvoker(f)
	case func(context.Context, string) (int, error):
		return typedInvoker(f)
	case func(context.Context, []byte) ([]byte, error):
		return typedInvoker(f)
	case func(context.Context, float64) (float64, error):
		return typedInvoker(f)
	case func(context.Context) (int, error):
		return typedInvoker(func(ctx context.Context, _ struct{}) (int, error) { return f(ctx) })
	case func(context.Context) error:
		return func(ctx context.Context, _ value.Codec, _, dst []byte, started func()) ([]byte, error, error) {
			if started != nil {
				started()
			}
			return dst, f(ctx), nil
		}
	}
	return func(ctx context.Context, c value.Codec, arg, dst []byte, started func()) ([]byte, error, error) {
		in := [2]reflect.Value{reflect.ValueOf(&ctx).Elem()}
		n := 1
		if argType != nil {
			p := reflect.New(argType)
			if err := value.Decode(c, arg, p.Interface()); err != nil {
				return dst, nil, fmt.Errorf("decode the argument, a %s: %w", argType, err)
			}
			in[1], n = p.Elem(), 2
		}
		if started != nil {
			started()
		}
		out := v.Call(in[:n])
		if err, _ := out[len(out)-1].Interface().(error); err != nil {
			return dst, err, nil
		}
		if resType == nil {
			return dst, nil, nil
		}
		res, err := value.AppendValue(dst, c, out[0])
		if err != nil {
			return dst, nil, fmt.Errorf("encode the result, a %s: %w", resType, err)
		}
		return res, nil, nil
	}
}

// typedInvoker calls f without reflection. A function without an argument
// is wrapped to take a struct{}, which gets no argument bytes.
func typedInvoker[A, R any](f func(context.Context, A) (R, error)) invoker {
	return func(ctx context.Context, c value.Codec, arg, dst []byte, started func()) ([]byte, error, error) {
		var a A
		if arg != nil && !value.DecodeFast(c, arg, &a) {
			p := new(A) // decodeValue keeps what it decodes into
			if err := value.Decode(c, arg, p); err != nil {
				return dst, nil, fmt.Errorf("decode the argument, a %s: %w", reflect.TypeFor[A](), err)
			}
			a = *p
		}
		if started != nil {
			started()
		}
		r, err := f(ctx, a)
		if err != nil {
			return dst, err, nil
		}
		res, err := value.AppendOf(dst, c, &r)
		if err != nil {
			return dst, nil, fmt.Errorf("encode the result, a %s: %w", reflect.TypeFor[R](), err)
		}
		return res, nil, nil
	}
}
