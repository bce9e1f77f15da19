package errtree

import (
	"fmt"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// panicBox carries a panic value as an interface, so that the codec
// encodes its concrete type with it (for Gob, a type registered with
// gob.Register or a basic type).
type panicBox struct{ V any }

// AppendPanic appends to buf the Value of a KindPanic result for v, a
// panic value, and returns it with v's text for the record's Message: an
// error's tree, or else v encoded by c with its type, or nothing if c
// cannot encode it. The methods of v run in a goroutine of their own, so
// that a panic or a runtime.Goexit in them leaves the caller's goroutine
// alone: the text then says so and nothing is appended.
func AppendPanic(buf []byte, v any, c value.Codec) ([]byte, string) {
	type out struct {
		buf  []byte
		text string
	}
	done := make(chan out, 1)
	go func() {
		defer close(done)
		text := PanicText(v)
		if err, ok := v.(error); ok {
			if n, _ := tree(current(), err, c, false); n != nil {
				done <- out{wire.AppendPanicValue(buf, wire.PanicError, n, "", nil), text}
				return
			}
			done <- out{buf, text}
			return
		}
		b, err := value.Append(nil, c, &panicBox{V: v})
		if err != nil {
			done <- out{buf, text}
			return
		}
		done <- out{wire.AppendPanicValue(buf, wire.PanicValue, nil, fmt.Sprintf("%T", v), b), text}
	}()
	o, ok := <-done
	if !ok {
		return buf, fmt.Sprintf("%T value (printing it called runtime.Goexit)", v)
	}
	return o.buf, o.text
}

// PanicValue returns the panic value that b, the Value of a KindPanic
// result, carries, decoding it with c and making opaque errors with opaque;
// false if b is empty or malformed, or if c cannot decode the value into
// the type it had.
func PanicValue(b []byte, c value.Codec, opaque Opaque) (any, bool) {
	if len(b) == 0 {
		return nil, false
	}
	kind, n, typ, val, err := wire.ParsePanicValue(b)
	if err != nil {
		return nil, false
	}
	if kind == wire.PanicError {
		v, _ := Rebuild(n, c, opaque)
		return v, true
	}
	var box panicBox
	if value.Decode(c, val, &box) != nil || fmt.Sprintf("%T", box.V) != typ {
		return nil, false
	}
	return box.V, true
}
