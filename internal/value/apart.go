package value

import (
	"encoding"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// unmarshalApart is unmarshal, in a goroutine of its own that it waits
// for, so that a call of runtime.Goexit by the program's code there ends
// that goroutine and not the caller's: it is returned as an error, and so
// is a panic.
func unmarshalApart(c Codec, tag byte, data []byte, ptr any) error {
	done := make(chan error, 1)
	go func() {
		exited := true
		defer func() {
			if r := recover(); r != nil {
				done <- panicked(ptr, r)
			} else if exited {
				done <- fmt.Errorf("decoding a %T called runtime.Goexit", ptr)
			}
		}()
		err := unmarshal(c, tag, data, ptr)
		exited = false
		done <- err
	}()
	return <-done
}

// panicked is the error of a panic, r, while decoding into ptr.
func panicked(ptr any, r any) error {
	return fmt.Errorf("decoding a %T panicked: %v", ptr, r)
}

// decoderInterfaces are the methods by which Gob and JSON hand bytes to
// the program's own code while decoding.
var decoderInterfaces = []reflect.Type{
	reflect.TypeFor[gob.GobDecoder](), reflect.TypeFor[encoding.BinaryUnmarshaler](),
	reflect.TypeFor[encoding.TextUnmarshaler](), reflect.TypeFor[json.Unmarshaler](),
}

var userDecoding sync.Map // reflect.Type → bool, for runsUserCode with Gob or JSON

// runsUserCode reports whether decoding into a value of type t with c may
// call code of the program's own: always with a codec other than Gob and
// JSON, and with those when t, or a type reachable from t through fields,
// elements and pointers, has a decoding method (see decoderInterfaces) or
// is an interface, which may hold a type that has one.
func runsUserCode(c Codec, t reflect.Type) bool {
	if isGob, isJSON := fast(c); !isGob && !isJSON {
		return true
	}
	if t == nil {
		return false
	}
	if r, ok := userDecoding.Load(t); ok {
		return r.(bool)
	}
	r := decodesUser(t, map[reflect.Type]bool{})
	userDecoding.Store(t, r)
	return r
}

// decodesUser is runsUserCode for Gob and JSON; seen holds the types looked at
// already, which need no second look.
func decodesUser(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	for _, i := range decoderInterfaces {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return true
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return decodesUser(t.Elem(), seen)
	case reflect.Map:
		return decodesUser(t.Key(), seen) || decodesUser(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if decodesUser(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
