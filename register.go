package futures

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/value"
)

// Register makes top-level functions callable in a ProcessPool's worker
// processes, under their qualified names (such as "example.com/pkg.Square").
// Call it from an init function or a package-level var declaration, so that
// the parent and every worker, which run the same program, register the same
// functions. Python finds functions by qualified name when it pickles them;
// Register is the Go equivalent, like gob.Register for types.
//
// Accepted shapes are func(context.Context, A) (R, error) and
// func(context.Context) (R, error) for calls, and func(context.Context) error
// for an Initializer. Register panics, with a message that says what to do,
// for a nil or non-function value, a closure, a method value, a generic
// function, a wrong shape, or a name registered twice.
func Register(fns ...any) {
	for _, fn := range fns {
		register("", fn)
	}
}

// RegisterName is Register with an explicit name, for a function whose
// qualified name differs between the parent and a WorkerCommand program. It
// panics as Register does, and for an empty name.
func RegisterName(name string, fn any) {
	if name == "" {
		panic("futures: RegisterName: the name is empty; pass a name unique in the program")
	}
	register(name, fn)
}

// regFunc is a registered function.
type regFunc struct {
	name    string
	fn      reflect.Value
	argType reflect.Type // nil for func(ctx) ... shapes
	resType reflect.Type // nil for func(ctx) error
	call    invoker
}

// registry is replaced as a whole on every registration, so lookups take no
// lock.
type registry struct {
	byName map[string]*regFunc
	byPC   map[uintptr]*regFunc
}

var (
	regMu  sync.Mutex
	regCur atomic.Pointer[registry]
)

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

func register(name string, fn any) {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func || v.IsNil() {
		panic(fmt.Sprintf("futures: Register(%T): not a function; pass a top-level func(context.Context, A) (R, error)", fn))
	}
	qual := funcName(v)
	if why := notTopLevel(qual); why != "" {
		panic(fmt.Sprintf("futures: Register(%s): %s cannot be sent to a worker process; declare a top-level function and register that", qual, why))
	}
	rf := &regFunc{name: name, fn: v}
	if rf.name == "" {
		rf.name = qual
	}
	t := v.Type()
	ok := !t.IsVariadic() && t.NumIn() >= 1 && t.NumIn() <= 2 && t.In(0) == contextType &&
		t.NumOut() >= 1 && t.NumOut() <= 2 && t.Out(t.NumOut()-1) == errorType
	if !ok || (t.NumIn() == 2 && t.NumOut() == 1) {
		panic(fmt.Sprintf("futures: Register(%s): the function is a %v; it must be func(context.Context, A) (R, error), func(context.Context) (R, error) or func(context.Context) error", qual, t))
	}
	if t.NumIn() == 2 {
		rf.argType = t.In(1)
	}
	if t.NumOut() == 2 {
		rf.resType = t.Out(0)
	}
	rf.call = newInvoker(fn, v, rf.argType, rf.resType)

	regMu.Lock()
	defer regMu.Unlock()
	old := regCur.Load()
	next := &registry{byName: map[string]*regFunc{}, byPC: map[uintptr]*regFunc{}}
	if old != nil {
		if prev, dup := old.byName[rf.name]; dup {
			panic(fmt.Sprintf("futures: Register: the name %q is registered already (for %s); register each function once, or pick another name with RegisterName", rf.name, funcName(prev.fn)))
		}
		if prev, dup := old.byPC[v.Pointer()]; dup {
			panic(fmt.Sprintf("futures: Register(%s): the function is registered already as %q; register each function once", qual, prev.name))
		}
		for k, e := range old.byName {
			next.byName[k] = e
		}
		for k, e := range old.byPC {
			next.byPC[k] = e
		}
	}
	next.byName[rf.name] = rf
	next.byPC[v.Pointer()] = rf
	regCur.Store(next)
}

// funcName returns the qualified name of the function v.
func funcName(v reflect.Value) string {
	if f := runtime.FuncForPC(v.Pointer()); f != nil {
		return f.Name()
	}
	return fmt.Sprintf("function at %#x", v.Pointer())
}

// notTopLevel says why the function named qual is not a plain top-level
// function, or returns "".
func notTopLevel(qual string) string {
	last := qual[strings.LastIndexByte(qual, '/')+1:]
	switch {
	case strings.HasSuffix(last, "-fm"):
		return "a method value"
	case strings.Contains(last, "["):
		return "an instance of a generic function"
	}
	for part := range strings.SplitSeq(last, ".") {
		if len(part) > 4 && strings.HasPrefix(part, "func") && strings.Trim(part[4:], "0123456789") == "" {
			return "a closure (function literal)"
		}
	}
	return ""
}

// lookupFunc returns the registration of fn, or an error matching
// ErrNotRegistered that names it.
func lookupFunc(fn any) (*regFunc, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, &notRegisteredError{name: fmt.Sprintf("%T", fn)}
	}
	if r := regCur.Load(); r != nil {
		if rf := r.byPC[v.Pointer()]; rf != nil && rf.fn.Type() == v.Type() {
			return rf, nil
		}
	}
	name := funcName(v)
	return nil, &notRegisteredError{name: name, notTopLevel: notTopLevel(name)}
}

// lookupName returns the function registered as name, or nil.
func lookupName(name string) *regFunc {
	if r := regCur.Load(); r != nil {
		return r.byName[name]
	}
	return nil
}

// notRegisteredError is the error of a call whose function is not
// registered; it matches ErrNotRegistered.
type notRegisteredError struct {
	name        string
	inChild     bool   // the worker process, not the parent, lacks it
	notTopLevel string // why the function cannot be registered, if it cannot
}

func (e *notRegisteredError) Error() string {
	if e.notTopLevel != "" {
		return fmt.Sprintf("futures: function %s is not registered: it is %s, which cannot be sent to a worker process; declare a top-level function that does the work and call futures.Register on that in an init function", e.name, e.notTopLevel)
	}
	where := ""
	if e.inChild {
		where = " in the worker process (does the WorkerCommand program register it?)"
	}
	return fmt.Sprintf("futures: function %s is not registered%s; call futures.Register(%s) in an init function of its package", e.name, where, shortName(e.name))
}

func (e *notRegisteredError) Is(target error) bool { return target == ErrNotRegistered }

// shortName strips the import path from a qualified function name.
func shortName(qual string) string {
	return qual[strings.LastIndexByte(qual, '/')+1:]
}

// invoker calls a registered function in a worker: it decodes arg (nil for
// a function without one), calls, and appends the encoded result, if any,
// to dst. It returns the function's error, or codecErr saying what could
// not be decoded or encoded.
type invoker func(ctx context.Context, c Codec, arg, dst []byte) (res []byte, err, codecErr error)

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
		return func(ctx context.Context, _ Codec, _, dst []byte) ([]byte, error, error) { return dst, f(ctx), nil }
	}
	return func(ctx context.Context, c Codec, arg, dst []byte) ([]byte, error, error) {
		in := []reflect.Value{reflect.ValueOf(&ctx).Elem()}
		if argType != nil {
			p := reflect.New(argType)
			if err := value.Decode(c, arg, p.Interface()); err != nil {
				return dst, nil, fmt.Errorf("decode the argument: %w", err)
			}
			in = append(in, p.Elem())
		}
		out := v.Call(in)
		if err, _ := out[len(out)-1].Interface().(error); err != nil {
			return dst, err, nil
		}
		if resType == nil {
			return dst, nil, nil
		}
		return encodeResult(c, out[0].Interface(), dst)
	}
}

// typedInvoker calls f without reflection. A function without an argument
// is wrapped to take a struct{}, which gets no argument bytes.
func typedInvoker[A, R any](f func(context.Context, A) (R, error)) invoker {
	return func(ctx context.Context, c Codec, arg, dst []byte) ([]byte, error, error) {
		var a A
		if arg != nil && !value.DecodeFast(c, arg, &a) {
			p := new(A) // decodeValue keeps what it decodes into
			if err := value.Decode(c, arg, p); err != nil {
				return dst, nil, fmt.Errorf("decode the argument: %w", err)
			}
			a = *p
		}
		r, err := f(ctx, a)
		if err != nil {
			return dst, err, nil
		}
		res, err := value.AppendOf(dst, c, &r)
		if err != nil {
			return dst, nil, fmt.Errorf("encode the result: %w", err)
		}
		return res, nil, nil
	}
}

func encodeResult(c Codec, v any, dst []byte) ([]byte, error, error) {
	res, err := value.Append(dst, c, v)
	if err != nil {
		return dst, nil, fmt.Errorf("encode the result: %w", err)
	}
	return res, nil, nil
}
