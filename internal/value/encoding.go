package value

import (
	"reflect"
	"unsafe"
)

// Encoding is how the values of one type are encoded, worked out once for a
// caller that encodes or decodes many values of a type it knows only
// through reflection, as a worker does for the argument and the result of
// a registered function called through reflection.
type Encoding struct {
	t     reflect.Type
	plain *plain // with Gob; nil if t is not plain
}

// EncodingOf returns the encoding of the values of t.
func EncodingOf(t reflect.Type) *Encoding {
	return &Encoding{t: t, plain: plainOf(Gob, t)}
}

// DecodeFast is DecodeFast for ptr, a pointer to a value of e's type: it
// decodes data into *ptr and reports whether it could, which it can for a
// value of a plain type (see plain.go) encoded with Gob. If it cannot, *ptr
// may hold part of a value.
func (e *Encoding) DecodeFast(c Codec, data []byte, ptr unsafe.Pointer) bool {
	if e.plain == nil || len(data) == 0 || data[0] != tagPlain {
		return false
	}
	if isGob, _ := fast(c); !isGob {
		return false
	}
	return decodePlain(e.plain, data[1:], ptr) == nil
}

// AppendValue is AppendValue for v, a value of e's type.
func (e *Encoding) AppendValue(dst []byte, c Codec, v reflect.Value) ([]byte, error) {
	if isGob, _ := fast(c); isGob && e.plain != nil {
		return e.plain.appendTop(dst, valuePointer(v)), nil
	}
	return AppendValue(dst, c, v)
}

// valuePointer returns the address of v's value, which must be of a plain
// type: its own if v is addressable, otherwise the storage v refers to,
// which v.Interface() holds as it is. An interface holds a value of a type
// that is not pointer-shaped through a pointer to it, and an interface
// made from a Value that is not addressable points to the Value's own
// storage; no plain type is pointer-shaped (plain types hold no pointers
// but those inside strings and slices).
func valuePointer(v reflect.Value) unsafe.Pointer {
	if v.CanAddr() {
		return v.Addr().UnsafePointer()
	}
	return efaceData(v.Interface())
}

// efaceData returns the data word of x, the address of its value when the
// value's type is not pointer-shaped.
func efaceData(x any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[1]
}
