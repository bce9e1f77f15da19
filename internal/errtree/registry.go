// Package errtree carries errors across a process boundary. A program
// registers errors (futures.RegisterError): sentinels, matched by identity,
// and the types of error values, whose fields the pool's codec carries. The
// process where a call failed turns its error into a tree of wire.ErrNodes
// (Tree): a registered sentinel or a value of a registered type becomes a
// node that names it, any other error a node with its type and text, the
// errors it wraps and the registered sentinels its Is method matches. The
// process that made the call rebuilds an error from the tree (Rebuild),
// finding the same sentinels and types by name, so that errors.Is and
// errors.As give there the answers they give where the call ran.
//
// Package futures exports RegisterError over Register and registers the
// standard sentinels and its own at init.
package errtree

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// registry is replaced as a whole on every registration, so lookups take no
// lock.
type registry struct {
	keyOf    map[error]string        // sentinel → its key
	byBase   map[string][]int        // the base of a key → the sentinels in list that have it
	list     []sentinel              // in registration order, for Is methods
	typeKey  map[reflect.Type]string // registered type → its key
	types    map[string]reflect.Type // key → registered type
	typeList []reflect.Type          // in registration order, for As methods
}

// sentinel is a registered sentinel and its key. A key is made of a
// sentinel's base, its type and text, and its site, which names the place
// in the program's code that registered it, so that sentinels sharing a
// base are told apart whatever the order in which each process registered
// them: a mark saying whether other sentinels share the base, the site, a
// colon and the base.
type sentinel struct {
	base, site, key string
	err             error
}

// Marks of a key: whether the process that sent it has other sentinels of
// its base.
const (
	markOnly   = '0'
	markShared = '1'
)

var (
	regMu  sync.Mutex
	regCur atomic.Pointer[registry]
)

func init() {
	Register(context.Canceled, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF,
		fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, os.ErrDeadlineExceeded, new(runtime.PanicNilError))
}

// Register registers each of errs as a sentinel, if it is comparable and
// its Error method does not panic, and its type, unless that is a struct
// (or a pointer to one) of some size whose fields are all unexported:
// values of such a type cannot cross, only the sentinel can. With a type
// T whose Error method has a value receiver, it registers both T and *T. An error registered already is
// skipped. It panics for a nil error, registering none of errs.
func Register(errs ...error) {
	for _, err := range errs {
		if err == nil {
			panic("futures: RegisterError(nil): pass a non-nil error, such as a sentinel var ErrX = errors.New(...) or a value of an error type, &MyError{}")
		}
	}
	site := callSite()
	regMu.Lock()
	defer regMu.Unlock()
	regCur.Store(clone(regCur.Load()).add(site, errs))
}

// callSite names the code that called Register, or RegisterError of
// package futures: its function and line.
func callSite() string {
	pcs := make([]uintptr, 4)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if f.Function != "github.com/gofutures/futures.RegisterError" || !more {
			return fmt.Sprintf("%s:%d", f.Function, f.Line)
		}
	}
}

// add registers errs, registered by the code at site, in r, which no
// lookup uses yet, and returns r.
func (r *registry) add(site string, errs []error) *registry {
	for i, err := range errs {
		t := reflect.TypeOf(err)
		_, dup, ok := r.sentinelKey(err)
		text, works := errorText(err)
		if ok && !dup && works {
			s := sentinel{base: keyOfType(t) + ":" + text, err: err}
			h := fnv.New64a()
			fmt.Fprintf(h, "%s/%d", site, i)
			s.site = strconv.FormatUint(h.Sum64(), 36)
			for n, at := 2, s.site; r.hasSite(s.base, s.site); n++ { // a loop registering at one site
				s.site = fmt.Sprintf("%s#%d", at, n)
			}
			r.byBase[s.base] = append(r.byBase[s.base], len(r.list))
			r.list = append(r.list, s)
		}
		for _, t := range forms(t) {
			if _, dup := r.typeKey[t]; !dup && crosses(t) {
				r.typeKey[t] = keyOfType(t)
				r.types[keyOfType(t)] = t
				r.typeList = append(r.typeList, t)
			}
		}
	}
	for i := range r.list { // a new sentinel may share the base of older ones
		s := &r.list[i]
		mark := markOnly
		if len(r.byBase[s.base]) > 1 {
			mark = markShared
		}
		s.key = string(rune(mark)) + s.site + ":" + s.base
		r.keyOf[s.err] = s.key
	}
	return r
}

// hasSite reports whether a sentinel of the given base and site is
// registered in r.
func (r *registry) hasSite(base, site string) bool {
	for _, i := range r.byBase[base] {
		if r.list[i].site == site {
			return true
		}
	}
	return false
}

// sentinel returns the registered sentinel that key, made by this process
// or another, names, or nil. A sentinel that is the only one of its base
// in both processes is found by its base alone, so that it keeps its
// identity between builds of the program that register it at another
// line; else the site must match as well.
func (r *registry) sentinel(key string) error {
	if key == "" {
		return nil
	}
	site, base, ok := strings.Cut(key[1:], ":")
	if !ok {
		return nil
	}
	same := r.byBase[base]
	if len(same) == 1 && key[0] == markOnly {
		return r.list[same[0]].err
	}
	for _, i := range same {
		if r.list[i].site == site {
			return r.list[i].err
		}
	}
	return nil
}

// forms returns t and, when its methods are those of a value, the other of
// T and *T: an error type with value receivers can be returned as either,
// and errors.As tells them apart.
func forms(t reflect.Type) []reflect.Type {
	if t.Kind() != reflect.Pointer {
		return []reflect.Type{t, reflect.PointerTo(t)}
	}
	if e := t.Elem(); e.Name() != "" && e.Implements(errorType) {
		return []reflect.Type{t, e}
	}
	return []reflect.Type{t}
}

// clone returns a copy of r, or an empty registry for nil.
func clone(r *registry) *registry {
	next := &registry{keyOf: map[error]string{}, byBase: map[string][]int{}, typeKey: map[reflect.Type]string{}, types: map[string]reflect.Type{}}
	if r == nil {
		return next
	}
	for k, v := range r.keyOf {
		next.keyOf[k] = v
	}
	for k, v := range r.byBase {
		next.byBase[k] = slices.Clone(v)
	}
	next.list = append(next.list, r.list...)
	next.typeList = append(next.typeList, r.typeList...)
	for k, v := range r.typeKey {
		next.typeKey[k] = v
	}
	for k, v := range r.types {
		next.types[k] = v
	}
	return next
}

// current returns the registry; init registered the standard errors, so it
// is never nil.
func current() *registry { return regCur.Load() }

// keyOfType returns the name a registered type crosses as: its package path
// and name, after a * for each pointer.
func keyOfType(t reflect.Type) string {
	stars := ""
	for t.Kind() == reflect.Pointer && t.Name() == "" {
		stars += "*"
		t = t.Elem()
	}
	if t.Name() == "" {
		return stars + t.String()
	}
	return stars + t.PkgPath() + "." + t.Name()
}

// crosses reports whether values of t can cross with a codec: t is not a
// struct, or pointer to one, with fields that are all unexported, unless it
// has no size, its one value being its zero value (as runtime.PanicNilError).
func crosses(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.Size() == 0 {
		return true
	}
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return true
		}
	}
	return false
}

// sentinelKey returns the key of err if it is a registered sentinel (found
// set), and whether it can be one at all: ok is false for an error that
// cannot be compared, whose lookup would panic.
func (r *registry) sentinelKey(err error) (key string, found, ok bool) {
	if !reflect.TypeOf(err).Comparable() {
		return "", false, false
	}
	defer func() {
		if recover() != nil { // an uncomparable value in an interface field
			key, found, ok = "", false, false
		}
	}()
	key, found = r.keyOf[err]
	return key, found, true
}

// errorText returns err.Error(), and false if that panics.
func errorText(err error) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	return err.Error(), true
}
