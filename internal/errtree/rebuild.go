package errtree

import (
	"reflect"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Opaque makes the error of a node that stands for no registered error: the
// error's type and text, the registered sentinels its Is method matched,
// the values of registered types its As method gave, and the errors it
// wraps, rebuilt. Package futures makes a *RemoteError.
type Opaque func(typ, msg string, is, as, wrapped []error) error

// Rebuild returns the error the tree rooted at n stands for, decoding
// values with c, and whether that is a registered error (a sentinel or a
// value of a registered type) rather than one made by opaque. A sentinel
// or type this process has not registered, or a value c cannot decode,
// becomes an opaque error with the node's type and text.
func Rebuild(n *wire.ErrNode, c value.Codec, opaque Opaque) (err error, registered bool) {
	return rebuild(current(), n, c, opaque)
}

func rebuild(r *registry, n *wire.ErrNode, c value.Codec, opaque Opaque) (error, bool) {
	switch n.Kind {
	case wire.NodeSentinel:
		if s := r.sentinel(n.Key); s != nil {
			return s, true
		}
	case wire.NodeValue, wire.NodeZero, wire.NodeNil:
		if t := r.types[n.Key]; t != nil {
			if err := rebuildValue(r, t, n, c, opaque); err != nil {
				return err, true
			}
		}
	default:
		var is []error
		for _, k := range n.Is {
			if s := r.sentinel(k); s != nil {
				is = append(is, s)
			}
		}
		var as, ws []error
		for _, ch := range n.Children {
			w, registered := rebuild(r, ch.Node, c, opaque)
			switch {
			case ch.Field != wire.FieldAs:
				ws = append(ws, w)
			case registered:
				as = append(as, w)
			}
		}
		return opaque(n.Type, n.Message, is, as, ws), false
	}
	var ws []error
	for _, ch := range n.Children {
		w, _ := rebuild(r, ch.Node, c, opaque)
		ws = append(ws, w)
	}
	return opaque(n.Type, n.Message, nil, nil, ws), false
}

// rebuildValue returns the value of type t that n stands for, nil if c
// cannot decode it or n does not fit t.
func rebuildValue(r *registry, t reflect.Type, n *wire.ErrNode, c value.Codec, opaque Opaque) error {
	if n.Kind == wire.NodeNil {
		if t.Kind() != reflect.Pointer {
			return nil
		}
		err, _ := reflect.Zero(t).Interface().(error)
		return err
	}
	elem := t
	if t.Kind() == reflect.Pointer {
		elem = t.Elem()
	}
	p := reflect.New(elem)
	if n.Kind == wire.NodeValue && value.Decode(c, n.Value, p.Interface()) != nil {
		return nil
	}
	for _, ch := range n.Children {
		i := ch.Field - 1
		if elem.Kind() != reflect.Struct || ch.Field == 0 || i >= uint64(elem.NumField()) {
			continue
		}
		if f := elem.Field(int(i)); f.IsExported() && f.Type == errorType {
			w, _ := rebuild(r, ch.Node, c, opaque)
			p.Elem().Field(int(i)).Set(reflect.ValueOf(&w).Elem())
		}
	}
	v := p
	if t.Kind() != reflect.Pointer {
		v = p.Elem()
	}
	err, _ := v.Interface().(error)
	return err
}
