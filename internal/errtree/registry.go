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
	"io"
	"io/fs"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
)

// registry is replaced as a whole on every registration, so lookups take no
// lock.
type registry struct {
	keyOf     map[error]string        // sentinel → its key
	sentinels map[string]error        // key → sentinel
	list      []sentinel              // in registration order, for Is methods
	typeKey   map[reflect.Type]string // registered type → its key
	types     map[string]reflect.Type // key → registered type
}

// sentinel is a registered sentinel and its key.
type sentinel struct {
	key string
	err error
}

var (
	regMu  sync.Mutex
	regCur atomic.Pointer[registry]
)

func init() {
	Register(context.Canceled, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF,
		fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, os.ErrDeadlineExceeded)
}

// Register registers each of errs as a sentinel, if it is comparable and
// its Error method does not panic, and its type, unless that is a struct
// (or a pointer to one) whose fields are all unexported: values of such a
// type cannot cross, only the sentinel can. An error registered already is
// skipped. It panics for a nil error, registering none of errs.
func Register(errs ...error) {
	for _, err := range errs {
		if err == nil {
			panic("futures: RegisterError(nil): pass a non-nil error, such as a sentinel var ErrX = errors.New(...) or a value of an error type, &MyError{}")
		}
	}
	regMu.Lock()
	defer regMu.Unlock()
	regCur.Store(clone(regCur.Load()).add(errs))
}

// add registers errs in r, which no lookup uses yet, and returns r.
func (r *registry) add(errs []error) *registry {
	for _, err := range errs {
		t := reflect.TypeOf(err)
		tk := keyOfType(t)
		_, dup, ok := r.sentinelKey(err)
		text, works := errorText(err)
		if ok && !dup && works {
			key := tk + ":" + text
			for i := 2; r.sentinels[key] != nil; i++ {
				key = fmt.Sprintf("%s:%s#%d", tk, text, i)
			}
			r.keyOf[err] = key
			r.sentinels[key] = err
			r.list = append(r.list, sentinel{key, err})
		}
		if _, dup := r.typeKey[t]; !dup && crosses(t) {
			r.typeKey[t] = tk
			r.types[tk] = t
		}
	}
	return r
}

// clone returns a copy of r, or an empty registry for nil.
func clone(r *registry) *registry {
	next := &registry{keyOf: map[error]string{}, sentinels: map[string]error{}, typeKey: map[reflect.Type]string{}, types: map[string]reflect.Type{}}
	if r == nil {
		return next
	}
	for k, v := range r.keyOf {
		next.keyOf[k] = v
	}
	for k, v := range r.sentinels {
		next.sentinels[k] = v
	}
	next.list = append(next.list, r.list...)
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
// struct, or pointer to one, with fields that are all unexported.
func crosses(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
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
