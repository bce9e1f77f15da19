// Package registry finds the functions that calls name when they cross a
// process boundary: a program registers top-level functions under their
// qualified names (or names of its own), and both ends of a call, running
// the same program, find the same function by name. It checks the shapes
// functions may have, says why a closure or a method value cannot be
// registered, and calls a registered function on an encoded argument
// (Func.Call), directly for common shapes and through reflection otherwise.
//
// Package futures exports Register, RegisterName and ErrNotRegistered over
// this package; an executor that ships calls elsewhere looks functions up
// with Lookup on its side and ByName on the serving side.
package registry

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/value"
)

// Func is a registered function.
type Func struct {
	name    string
	fn      reflect.Value
	argType reflect.Type // nil for func(ctx) ... shapes
	resType reflect.Type // nil for func(ctx) error
	call    invoker
	argSize atomic.Int32 // the largest encoded argument noted, at most maxArgSize
}

// Name returns the name f is registered as.
func (f *Func) Name() string { return f.name }

// ArgType returns the type of f's argument, or nil if it takes none.
func (f *Func) ArgType() reflect.Type { return f.argType }

// maxArgSize is the most ArgSize returns.
const maxArgSize = 1 << 10

// ArgSize returns the room to reserve for an encoded argument of f: the
// size of the largest one noted with NoteArgSize, at most 1 KiB; 0 before
// the first.
func (f *Func) ArgSize() int { return int(f.argSize.Load()) }

// NoteArgSize notes n, the size of an encoded argument of f.
func (f *Func) NoteArgSize(n int) {
	if n = min(n, maxArgSize); n > int(f.argSize.Load()) {
		f.argSize.Store(int32(n))
	}
}

// Call calls f: it decodes arg (nil for a function without one) with c,
// calls started, if not nil, once the argument is decoded and just before
// the function runs, calls the function, and appends the encoded result,
// if any, to dst: all of it, or, for a []byte result of at least
// wire.SpliceAbove bytes of a function of a common shape, the head of its
// encoding, with tail the function's own bytes that follow (so that they
// are written from where they are). It returns the
// function's error as callErr, or codecErr saying what could not be decoded
// or encoded (started is not called when the argument cannot be decoded).
// A panic of the function is not recovered.
func (f *Func) Call(ctx context.Context, c value.Codec, arg, dst []byte, started func()) (res, tail []byte, callErr, codecErr error) {
	return f.call(ctx, c, arg, dst, started)
}

// registry is replaced as a whole on every registration, so lookups take no
// lock.
type registry struct {
	byName map[string]*Func
	byPC   map[uintptr]*Func
}

var (
	regMu  sync.Mutex
	regCur atomic.Pointer[registry]
)

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// Register registers fn as name, or under its qualified name if name is
// empty. It panics, with a message that says what to do, for a nil or
// non-function value, a closure, a method value, a generic function, a
// wrong shape, or a name or function registered already.
func Register(name string, fn any) { register(name, fn, nil) }

// RegisterFunc is Register for a function of the shape
// func(context.Context, A) (R, error), which Call then calls directly, as
// it calls the common shapes, instead of through reflection.
func RegisterFunc[A, R any](name string, fn func(context.Context, A) (R, error)) {
	var call invoker
	if fn != nil {
		call = typedInvoker(fn)
	}
	register(name, fn, call)
}

// register registers fn as Register says, called by call if it is not nil.
func register(name string, fn any, call invoker) {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func || v.IsNil() {
		panic(fmt.Sprintf("futures: Register(%T): not a function; pass a top-level func(context.Context, A) (R, error)", fn))
	}
	qual := funcName(v)
	if why := notTopLevel(qual); why != "" {
		panic(fmt.Sprintf("futures: Register(%s): %s cannot be sent to a worker process; declare a top-level function and register that", qual, why))
	}
	rf := &Func{name: name, fn: v}
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
	if rf.call = call; call == nil {
		rf.call = newInvoker(fn, v, rf.argType, rf.resType)
	}

	regMu.Lock()
	defer regMu.Unlock()
	old := regCur.Load()
	next := &registry{byName: map[string]*Func{}, byPC: map[uintptr]*Func{}}
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

// Lookup returns the registration of fn, or an error matching
// ErrNotRegistered that names it.
func Lookup(fn any) (*Func, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, &NotRegisteredError{Name: fmt.Sprintf("%T", fn)}
	}
	if r := regCur.Load(); r != nil {
		if rf := r.byPC[v.Pointer()]; rf != nil && rf.fn.Type() == v.Type() {
			return rf, nil
		}
	}
	name := funcName(v)
	return nil, &NotRegisteredError{Name: name, NotTopLevel: notTopLevel(name)}
}

// ByName returns the function registered as name, or nil.
func ByName(name string) *Func {
	if r := regCur.Load(); r != nil {
		return r.byName[name]
	}
	return nil
}
