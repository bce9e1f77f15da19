package registry

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// invoker calls a registered function in a worker: it decodes arg (nil for
// a function without one), calls started if it is not nil, calls the
// function, and appends the encoded result, if any, to dst: all of it, or,
// for a large []byte, its head, with tail the function's own bytes that
// follow it (see value.SplitBytes). It returns the function's error, or
// codecErr saying what could not be decoded or encoded.
type invoker func(ctx context.Context, c value.Codec, arg, dst []byte, started func()) (res, tail []byte, err, codecErr error)

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
		return func(ctx context.Context, _ value.Codec, _, dst []byte, started func()) ([]byte, []byte, error, error) {
			if started != nil {
				started()
			}
			return dst, nil, f(ctx), nil
		}
	}
	return reflectInvoker(v, argType, resType)
}

// reflectFrame is what a call through reflection passes its function: the
// call's context and argument, in storage that calls reuse.
type reflectFrame struct {
	ctx context.Context
	in  [2]reflect.Value // the context and, if any, the argument, both addressable
	arg unsafe.Pointer   // the argument's storage: in[1]'s address
}

// reflectInvoker calls fn through reflection. An argument of a plain type
// (see value.DecodeFast) is decoded into the storage of a frame from a
// pool, which is zeroed once the function has its copy; any other into
// storage of its own, which the codec or the value's own decoding method
// may keep.
func reflectInvoker(fn reflect.Value, argType, resType reflect.Type) invoker {
	var argEnc, resEnc *value.Encoding
	if argType != nil {
		argEnc = value.EncodingOf(argType)
	}
	if resType != nil {
		resEnc = value.EncodingOf(resType)
	}
	frames := sync.Pool{New: func() any {
		f := &reflectFrame{}
		f.in[0] = reflect.ValueOf(&f.ctx).Elem()
		if argType != nil {
			p := reflect.New(argType)
			f.in[1], f.arg = p.Elem(), p.UnsafePointer()
		}
		return f
	}}
	n := 1
	if argType != nil {
		n = 2
	}
	return func(ctx context.Context, c value.Codec, arg, dst []byte, started func()) ([]byte, []byte, error, error) {
		f := frames.Get().(*reflectFrame)
		f.ctx = ctx
		in := f.in
		if argType != nil && !argEnc.DecodeFast(c, arg, f.arg) {
			p := reflect.New(argType)
			if err := value.Decode(c, arg, p.Interface()); err != nil {
				f.release(&frames)
				return dst, nil, nil, fmt.Errorf("decode the argument, a %s: %w", argType, err)
			}
			in[1] = p.Elem()
		}
		if started != nil {
			started()
		}
		out := fn.Call(in[:n])
		f.release(&frames)
		if err, _ := out[len(out)-1].Interface().(error); err != nil {
			return dst, nil, err, nil
		}
		if resType == nil {
			return dst, nil, nil, nil
		}
		res, err := resEnc.AppendValue(dst, c, out[0])
		if err != nil {
			return dst, nil, nil, fmt.Errorf("encode the result, a %s: %w", resType, err)
		}
		return res, nil, nil, nil
	}
}

// release zeroes f, so that it keeps no value of the call alive and the
// next argument decodes into zero storage, and puts it back in frames.
func (f *reflectFrame) release(frames *sync.Pool) {
	f.ctx = nil
	if f.arg != nil {
		f.in[1].SetZero()
	}
	frames.Put(f)
}

// typedInvoker calls f without reflection. A function without an argument
// is wrapped to take a struct{}, which gets no argument bytes.
func typedInvoker[A, R any](f func(context.Context, A) (R, error)) invoker {
	return func(ctx context.Context, c value.Codec, arg, dst []byte, started func()) ([]byte, []byte, error, error) {
		var a A
		if arg != nil && !value.DecodeFast(c, arg, &a) {
			p := new(A) // decodeValue keeps what it decodes into
			if err := value.Decode(c, arg, p); err != nil {
				return dst, nil, nil, fmt.Errorf("decode the argument, a %s: %w", reflect.TypeFor[A](), err)
			}
			a = *p
		}
		if started != nil {
			started()
		}
		r, err := f(ctx, a)
		if err != nil {
			return dst, nil, err, nil
		}
		if b, ok := any(&r).(*[]byte); ok {
			if head, ok := value.SplitBytes(dst, c, *b, wire.SpliceAbove); ok {
				return head, *b, nil, nil // written from where it is, not copied
			}
		}
		res, err := value.AppendOf(dst, c, &r)
		if err != nil {
			return dst, nil, nil, fmt.Errorf("encode the result, a %s: %w", reflect.TypeFor[R](), err)
		}
		return res, nil, nil, nil
	}
}
