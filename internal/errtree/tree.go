package errtree

import (
	"fmt"
	"reflect"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Bounds of the work and size of a tree, beyond wire.MaxErrDepth and
// wire.MaxErrNodes: the bytes of its texts and values, and the errors
// walked below the nodes whose children are left out, for the registered
// sentinels they match.
const (
	maxTreeBytes = 1 << 20
	maxWalk      = 100000
)

var errorType = reflect.TypeFor[error]()

// Append appends to buf the tree of err, the error a call returned, for
// the Value of a KindError result; it appends nothing if nothing in the
// tree is registered, for then it would say no more than the record's Type
// and Message. The root's type and message are left out: they are the
// record's. It never panics, whatever err's methods do.
func Append(buf []byte, err error, c value.Codec) []byte {
	return appendTree(current(), buf, err, c)
}

// appendTree is Append with the errors registered in r.
func appendTree(r *registry, buf []byte, err error, c value.Codec) []byte {
	n, found := tree(r, err, c, true)
	if !found {
		return buf
	}
	return wire.AppendErrTree(buf, n)
}

// tree returns the tree of err with the errors registered in r, and
// whether it holds any registered error; nil if building it panicked. With
// bareRoot, the root's type and message are left empty.
func tree(r *registry, err error, c value.Codec, bareRoot bool) (n *wire.ErrNode, found bool) {
	defer func() {
		if recover() != nil {
			n, found = nil, false
		}
	}()
	e := encoder{r: r, c: c, bareRoot: bareRoot}
	n = e.node(err, 1)
	return n, e.found
}

// An encoder builds the tree of one error.
type encoder struct {
	r        *registry
	c        value.Codec
	nodes    int
	bytes    int
	walked   int  // errors walked by below
	found    bool // a node or an Is key names a registered error
	bareRoot bool // the root's type and message are the record's
}

// room reports whether a child may be added below depth.
func (e *encoder) room(depth int) bool {
	return depth < wire.MaxErrDepth && e.nodes < wire.MaxErrNodes && e.bytes < maxTreeBytes
}

// node returns the node of err, at the given depth.
func (e *encoder) node(err error, depth int) *wire.ErrNode {
	e.nodes++
	n := &wire.ErrNode{}
	if depth > 1 || !e.bareRoot {
		n.Type, n.Message = fmt.Sprintf("%T", err), Text(err)
		e.bytes += len(n.Type) + len(n.Message)
	}
	if key, found, _ := e.r.sentinelKey(err); found {
		n.Kind, n.Key = wire.NodeSentinel, key
		e.found = true
		return n
	}
	key, registered := e.r.typeKey[reflect.TypeOf(err)]
	hides := registered && hidesCauses(err)
	if registered && !hides && e.value(n, err, key, depth) {
		e.found = true
		return n
	}
	n.Kind = wire.NodeOpaque
	n.Is = e.matches(err, nil)
	n.Children = e.as(err, depth)
	if hides && e.room(depth) { // the value beside the causes it hides
		e.nodes++
		v := &wire.ErrNode{Type: fmt.Sprintf("%T", err), Message: Text(err)}
		e.bytes += len(v.Type) + len(v.Message)
		if e.value(v, err, key, depth+1) {
			n.Children = append(n.Children, wire.ErrChild{Field: wire.FieldAs, Node: v})
			e.found = true
		}
	}
	for _, w := range unwrap(err) {
		if w == nil {
			continue
		}
		if !e.room(depth) {
			n.Is = e.below(w, n.Is)
			continue
		}
		n.Children = append(n.Children, wire.ErrChild{Node: e.node(w, depth+1)})
	}
	return n
}

// value makes n the node of err, a value of the registered type key, and
// reports whether it could: false if the codec cannot encode it, or if the
// tree has no room for the errors of its fields. The value crosses with its
// exported fields of type error nil; those errors are its children.
func (e *encoder) value(n *wire.ErrNode, err error, key string, depth int) bool {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			n.Kind, n.Key = wire.NodeNil, key
			return true
		}
		v = v.Elem()
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	var children []wire.ErrChild
	if cp.Kind() == reflect.Struct {
		for i := range cp.NumField() {
			f, fv := cp.Type().Field(i), cp.Field(i)
			if !f.IsExported() || f.Type != errorType || fv.IsNil() {
				continue
			}
			if !e.room(depth) { // it would cross with the field nil
				return false
			}
			children = append(children, wire.ErrChild{Field: uint64(i + 1), Node: e.node(fv.Interface().(error), depth+1)})
			fv.SetZero()
		}
	}
	n.Kind, n.Key, n.Children = wire.NodeZero, key, children
	if !cp.IsZero() {
		b, err := value.Append(nil, e.c, cp.Addr().Interface())
		if err != nil {
			n.Children = nil
			return false
		}
		n.Kind, n.Value = wire.NodeValue, b
		e.bytes += len(b)
	}
	return true
}

// hidesCauses reports whether err, a value of a registered type, wraps
// errors that are not in its exported fields of type error, which cross
// with it: those in unexported fields, which it cannot carry.
func hidesCauses(err error) bool {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	for _, w := range unwrap(err) {
		if w != nil && !inFields(v, w) {
			return true
		}
	}
	return false
}

// inFields reports whether w is the value of one of the exported fields of
// type error of v.
func inFields(v reflect.Value, w error) (in bool) {
	defer func() {
		if recover() != nil { // errors that cannot be compared
			in = false
		}
	}()
	if v.Kind() != reflect.Struct {
		return false
	}
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.IsExported() && f.Type == errorType && !v.Field(i).IsNil() && v.Field(i).Interface() == any(w) {
			return true
		}
	}
	return false
}

// matches appends to keys those of the registered sentinels err's Is
// method matches.
func (e *encoder) matches(err error, keys []string) []string {
	is, ok := err.(interface{ Is(error) bool })
	if !ok {
		return keys
	}
	for _, s := range e.r.list {
		if matchesOne(is, s.err) && !contains(keys, s.key) {
			keys = append(keys, s.key)
			e.bytes += len(s.key)
			e.found = true
		}
	}
	return keys
}

// as returns the children of the node of err, at the given depth, that
// stand for the values of registered types its As method gives, as
// errors.As would ask it for them.
func (e *encoder) as(err error, depth int) []wire.ErrChild {
	a, ok := err.(interface{ As(any) bool })
	if !ok {
		return nil
	}
	var children []wire.ErrChild
	for _, t := range e.r.typeList {
		if !e.room(depth) {
			break
		}
		p := reflect.New(t)
		if !asOne(a, p.Interface()) {
			continue
		}
		if v, ok := p.Elem().Interface().(error); ok {
			children = append(children, wire.ErrChild{Field: wire.FieldAs, Node: e.node(v, depth+1)})
		}
	}
	return children
}

// asOne is a.As(target), false if that panics.
func asOne(a interface{ As(any) bool }, target any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return a.As(target)
}

// below appends to keys those of the registered sentinels that err, left
// out of the tree, and the errors it wraps match, as errors.Is would find
// them, walking at most maxWalk errors for the whole tree.
func (e *encoder) below(err error, keys []string) []string {
	stack := []error{err}
	for ; len(stack) > 0 && e.walked < maxWalk; e.walked++ {
		err = stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if key, found, _ := e.r.sentinelKey(err); found && !contains(keys, key) {
			keys = append(keys, key)
			e.bytes += len(key)
			e.found = true
		}
		keys = e.matches(err, keys)
		ws := unwrap(err)
		for i := len(ws) - 1; i >= 0; i-- {
			if ws[i] != nil {
				stack = append(stack, ws[i])
			}
		}
	}
	return keys
}

func contains(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// matchesOne is is.Is(target), false if that panics.
func matchesOne(is interface{ Is(error) bool }, target error) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return is.Is(target)
}

// unwrap returns the errors err wraps, none if its Unwrap method panics.
func unwrap(err error) (ws []error) {
	defer func() {
		if recover() != nil {
			ws = nil
		}
	}()
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return []error{u.Unwrap()}
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	}
	return nil
}

// Text returns err.Error(), or a description if that panics (an Error
// method with a bug, a typed nil pointer whose Error reads its receiver).
func Text(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%T value (its Error method panicked: %s)", err, PanicText(r))
		}
	}()
	return err.Error()
}

// PanicText renders a panic value as text, even if its String or Error
// method panics.
func PanicText(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%T value (printing it panicked)", v)
		}
	}()
	return fmt.Sprint(v)
}
