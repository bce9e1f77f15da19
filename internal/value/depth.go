package value

import (
	"encoding"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
)

// Gob encodes a value by recursing into it, with no limit: a value that
// refers to itself (a pointer cycle, a slice or map holding itself through
// an interface) makes it recurse until the goroutine's stack overflows,
// which is a fatal error that ends the process and that recover cannot
// catch. So before Gob encodes a value whose type could refer to itself or
// holds interfaces, checkDepth walks it and refuses a cycle, or nesting
// deeper than MaxDepth, with an error. A type that cannot refer to itself
// and holds no interface, such as a struct of numbers, strings and slices
// of them, is never walked; nor is a value that gob encodes with its own
// GobEncode or MarshalBinary method, which gob does not look into.

// MaxDepth is the deepest nesting of pointers, interfaces, slices and maps
// that a value of a recursive or interface-holding type may have to be
// encoded with Gob.
const MaxDepth = 10000

// checkDepth returns an error if Gob would recurse without end, or deeper
// than MaxDepth, encoding v. It reports whether v holds a non-nil interface
// value, whose type definition gob writes inside the value's messages
// rather than before them (see Stream).
func checkDepth(v any) (ifaces bool, err error) {
	r := reflect.ValueOf(v)
	if !r.IsValid() || !topMayRecurse(r.Type()) {
		return false, nil
	}
	w := walker{path: map[walkKey]bool{}}
	err = w.walk(r, 0)
	return w.ifaces, err
}

var (
	recursive sync.Map                    // reflect.Type → bool: mayRecurse
	lastType  atomic.Pointer[typeVerdict] // the type asked about last, as a Map of one type asks
)

// typeVerdict is what mayRecurse says of t.
type typeVerdict struct {
	t       reflect.Type
	recurse bool
}

// mayRecurse reports whether values of t can nest without a bound given by
// t itself: t refers to itself, or holds an interface.
func mayRecurse(t reflect.Type) bool {
	b, ok := recursive.Load(t)
	if !ok {
		b = reaches(t, map[reflect.Type]bool{})
		recursive.Store(t, b)
	}
	return b.(bool)
}

// topMayRecurse is mayRecurse for the type of a whole value, remembering
// the last one.
func topMayRecurse(t reflect.Type) bool {
	if v := lastType.Load(); v != nil && v.t == t {
		return v.recurse
	}
	b := mayRecurse(t)
	lastType.Store(&typeVerdict{t, b})
	return b
}

// reaches reports whether t holds an interface or one of the types on the
// path from the top to it; path holds those types.
func reaches(t reflect.Type, path map[reflect.Type]bool) bool {
	if encodesItself(t) {
		return false
	}
	if path[t] {
		return true
	}
	path[t] = true
	defer delete(path, t)
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return reaches(t.Elem(), path)
	case reflect.Map:
		return reaches(t.Key(), path) || reaches(t.Elem(), path)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && reaches(f.Type, path) {
				return true
			}
		}
	}
	return false
}

var (
	gobEncoderType      = reflect.TypeFor[gob.GobEncoder]()
	binaryMarshalerType = reflect.TypeFor[encoding.BinaryMarshaler]()
)

// encodesItself reports whether gob encodes a value of t with a GobEncode
// or MarshalBinary method, as gob finds one: on t, on what t points to, or
// on a pointer to t.
func encodesItself(t reflect.Type) bool {
	for u := t; ; u = u.Elem() {
		if u.Implements(gobEncoderType) || u.Implements(binaryMarshalerType) {
			return true
		}
		if u.Kind() != reflect.Pointer {
			break
		}
	}
	p := reflect.PointerTo(t)
	return t.Kind() != reflect.Pointer && (p.Implements(gobEncoderType) || p.Implements(binaryMarshalerType))
}

// walkKey identifies a pointer, slice or map on the path being walked. Its
// type tells apart a pointer to a struct and one to the struct's first
// field, which share an address.
type walkKey struct {
	t   reflect.Type
	ptr uintptr
	n   int
}

// walker walks a value as Gob encodes it, keeping the references on the
// path from the top.
type walker struct {
	path   map[walkKey]bool
	ifaces bool // a non-nil interface value was met
}

func (w *walker) walk(v reflect.Value, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("a %s nests more than %d levels deep, too deep for gob, which recurses", v.Type(), MaxDepth)
	}
	if !mayRecurse(v.Type()) {
		return nil
	}
	var key walkKey
	switch v.Kind() {
	case reflect.Pointer, reflect.Map:
		if v.IsNil() {
			return nil
		}
		key = walkKey{v.Type(), v.Pointer(), 0}
	case reflect.Slice:
		if v.Len() == 0 {
			return nil
		}
		key = walkKey{v.Type(), v.Pointer(), v.Len()}
	}
	if key.ptr != 0 {
		if w.path[key] {
			return fmt.Errorf("a %s refers to itself, which gob cannot encode: it would recurse without end", v.Type())
		}
		w.path[key] = true
		defer delete(w.path, key)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return w.walk(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		w.ifaces = true
		return w.walk(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := w.walk(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := w.walk(it.Key(), depth+1); err != nil {
				return err
			}
			if err := w.walk(it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				if err := w.walk(v.Field(i), depth); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
