package value

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"unsafe"
)

// Values start with a tag byte: tagCodec, followed by the codec's bytes, or
// a tag for one of the common types below, followed by a compact encoding
// that skips the codec. The fast path is taken only with Gob and JSON, where
// it gives the same values back; tagPlain only with Gob.
const (
	tagCodec byte = iota
	tagInt
	tagInt64
	tagUint64
	tagString
	tagBytes
	tagBool
	tagFloat64 // Gob only: JSON cannot encode NaN and infinities
	tagEmpty   // struct{}, which Gob refuses
	tagNil     // a nil pointer or interface, which Gob refuses at the top
	tagGobSelf // with a Stream, Gob bytes of a new encoder: see Stream
	tagPlain   // Gob only: a value of a plain type, see plain.go
)

// Append appends the tagged encoding of v to dst.
func Append(dst []byte, c Codec, v any) ([]byte, error) {
	if b, ok := appendFast(dst, c, v); ok {
		return b, nil
	}
	return appendMarshalled(dst, c, v)
}

// AppendOf is Append for *a, without boxing *a on the fast path. If A is
// an interface type, *a is encoded as an interface value, as in a struct
// field, so that it decodes into an A: its concrete type must be known to
// the codec (gob.Register for Gob).
func AppendOf[A any](dst []byte, c Codec, a *A) ([]byte, error) {
	// A struct, array or slice is boxed for appendFast, which takes only
	// struct{} and []byte of those, when it is not plain.
	t := reflect.TypeFor[A]()
	k := t.Kind()
	composite := k == reflect.Struct || k == reflect.Array || k == reflect.Slice
	if !composite {
		if b, ok := appendFast(dst, c, any(*a)); ok {
			return b, nil
		}
	}
	if p := plainOf(c, t); p != nil {
		return p.appendTop(dst, unsafe.Pointer(a)), nil
	}
	if composite {
		if b, ok := appendFast(dst, c, any(*a)); ok {
			return b, nil
		}
	}
	if k == reflect.Interface {
		return appendMarshalled(dst, c, any(a))
	}
	return appendMarshalled(dst, c, any(*a))
}

// AppendAs is Append for v, a value of type t: an interface type t makes v
// an interface value, as AppendOf does. A v that is not a t is encoded as
// Append does, for the other end to refuse.
func AppendAs(dst []byte, c Codec, v any, t reflect.Type) ([]byte, error) {
	if b, ok := appendFast(dst, c, v); ok {
		return b, nil
	}
	if reflect.TypeOf(v) == t {
		if p := plainOf(c, t); p != nil {
			return p.appendTop(dst, efaceData(v)), nil
		}
	}
	if t == nil || t.Kind() != reflect.Interface || !reflect.TypeOf(v).Implements(t) {
		return appendMarshalled(dst, c, v)
	}
	p := reflect.New(t)
	p.Elem().Set(reflect.ValueOf(v))
	return appendMarshalled(dst, c, p.Interface())
}

// AppendValue is AppendAs for v.Interface() and v.Type(), which it boxes
// only if the type is not plain (see plain.go), and then without copying
// v if v is not addressable (see valuePointer).
func AppendValue(dst []byte, c Codec, v reflect.Value) ([]byte, error) {
	p := plainOf(c, v.Type())
	if p == nil {
		return AppendAs(dst, c, v.Interface(), v.Type())
	}
	return p.appendTop(dst, valuePointer(v)), nil
}

// fast reports whether c is Gob or JSON, whose values of common types take
// the fast path, and which of the two it is.
func fast(c Codec) (isGob, isJSON bool) {
	switch c.(type) {
	case GobCodec, *Stream:
		return true, false
	case JSONCodec:
		return false, true
	}
	return false, false
}

// SplitBytes reports whether b, a []byte value, has at least least bytes
// and is encoded with c as a head followed by b itself (Gob and JSON do so
// for a slice that is not nil, as Append does), and if so appends that
// head to dst: a large value can then be written from where it is instead
// of copied.
func SplitBytes(dst []byte, c Codec, b []byte, least int) ([]byte, bool) {
	if isGob, isJSON := fast(c); b == nil || len(b) < least || !isGob && !isJSON {
		return dst, false
	}
	return append(dst, tagBytes), true
}

// appendFast appends v with a tag of its own if it has a common type the
// codec encodes the same way, or is nil, and reports whether it did.
func appendFast(dst []byte, c Codec, v any) ([]byte, bool) {
	isGob, isJSON := fast(c)
	if !isGob && !isJSON {
		return dst, false
	}
	switch x := v.(type) {
	case nil:
		return append(dst, tagNil), true
	case int:
		return binary.AppendVarint(append(dst, tagInt), int64(x)), true
	case int64:
		return binary.AppendVarint(append(dst, tagInt64), x), true
	case uint64:
		return binary.AppendUvarint(append(dst, tagUint64), x), true
	case string:
		return append(append(dst, tagString), x...), true
	case []byte:
		if x != nil {
			return append(append(dst, tagBytes), x...), true
		}
	case bool:
		if x {
			return append(dst, tagBool, 1), true
		}
		return append(dst, tagBool, 0), true
	case float64:
		if isGob {
			return binary.LittleEndian.AppendUint64(append(dst, tagFloat64), math.Float64bits(x)), true
		}
	case struct{}:
		return append(dst, tagEmpty), true
	}
	if r := reflect.ValueOf(v); r.Kind() == reflect.Pointer && r.IsNil() {
		return append(dst, tagNil), true
	}
	return dst, false
}

// appendMarshalled appends v encoded by the codec, after tagCodec. It
// refuses a value that Gob would recurse into without end.
func appendMarshalled(dst []byte, c Codec, v any) ([]byte, error) {
	if isGob, _ := fast(c); isGob {
		ifaces, err := checkDepth(v)
		if err != nil {
			return dst, err
		}
		if s, ok := c.(*Stream); ok && s.types != nil && !ifaces {
			out, clean, err := s.types.appendValue(append(dst, tagCodec), v)
			if err != nil {
				return dst, err
			}
			if clean {
				return out, nil
			}
		}
		if _, ok := c.(*Stream); ok {
			b, err := marshal(Gob, v)
			if err != nil {
				return dst, err
			}
			return append(append(dst, tagGobSelf), b...), nil
		}
	}
	b, err := marshal(c, v)
	if err != nil {
		return dst, err
	}
	return append(append(dst, tagCodec), b...), nil
}

// marshal is c.Marshal(v), with a panic of the codec turned into an error.
func marshal(c Codec, v any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoding a %T panicked: %v", v, r)
		}
	}()
	return c.Marshal(v)
}

// Decode decodes data, from Append, into ptr. A value of a common type
// decodes into a pointer to that type or to an interface it satisfies. A
// panic of the codec, or of a method it calls such as GobDecode, is
// returned as an error, and so is a call of runtime.Goexit there: such
// decoding runs in a goroutine of its own (see unmarshalApart).
func Decode(c Codec, data []byte, ptr any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicked(ptr, r)
		}
	}()
	if len(data) == 0 {
		return errors.New("futures: an encoded value is empty")
	}
	tag, data := data[0], data[1:]
	var v any
	switch tag {
	case tagCodec, tagGobSelf:
		if runsUserCode(c, reflect.TypeOf(ptr)) {
			return unmarshalApart(c, tag, data, ptr)
		}
		return unmarshal(c, tag, data, ptr)
	case tagPlain:
		dst := reflect.ValueOf(ptr)
		if dst.Kind() != reflect.Pointer || dst.IsNil() {
			return fmt.Errorf("futures: cannot decode a value into %T; pass a non-nil pointer", ptr)
		}
		return decodePlain(plainOf(c, dst.Type().Elem()), data, dst.UnsafePointer())
	case tagInt, tagInt64:
		n, k := binary.Varint(data)
		if k <= 0 || k != len(data) {
			return errBadValue
		}
		if p, ok := ptr.(*int); ok && tag == tagInt {
			*p = int(n)
			return nil
		}
		if p, ok := ptr.(*int64); ok && tag == tagInt64 {
			*p = n
			return nil
		}
		v = n
		if tag == tagInt {
			v = int(n)
		}
	case tagUint64:
		n, k := binary.Uvarint(data)
		if k <= 0 || k != len(data) {
			return errBadValue
		}
		v = n
	case tagString:
		if p, ok := ptr.(*string); ok {
			*p = string(data)
			return nil
		}
		v = string(data)
	case tagBytes:
		if p, ok := ptr.(*[]byte); ok {
			*p = bytesOf(data)
			return nil
		}
		v = bytesOf(data)
	case tagBool:
		if len(data) != 1 {
			return errBadValue
		}
		v = data[0] != 0
	case tagFloat64:
		if len(data) != 8 {
			return errBadValue
		}
		v = math.Float64frombits(binary.LittleEndian.Uint64(data))
	case tagEmpty:
		v = struct{}{}
	case tagNil:
		dst := reflect.ValueOf(ptr)
		if dst.Kind() != reflect.Pointer || dst.IsNil() || len(data) != 0 {
			return errBadValue
		}
		switch dst.Elem().Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
			dst.Elem().SetZero()
			return nil
		}
		return fmt.Errorf("futures: the other process sent nil where this one expects a %s; do both programs register the same function?", dst.Elem().Type())
	default:
		return errBadValue
	}
	dst := reflect.ValueOf(ptr)
	if dst.Kind() != reflect.Pointer || dst.IsNil() {
		return fmt.Errorf("futures: cannot decode a value into %T; pass a non-nil pointer", ptr)
	}
	src := reflect.ValueOf(v)
	if !src.Type().AssignableTo(dst.Elem().Type()) {
		return fmt.Errorf("futures: the other process sent a %s where this one expects a %s; do both programs register the same function?", src.Type(), dst.Elem().Type())
	}
	dst.Elem().Set(src)
	return nil
}

// unmarshal decodes data, the bytes of c after tag (tagCodec or
// tagGobSelf), into ptr.
func unmarshal(c Codec, tag byte, data []byte, ptr any) error {
	s, isStream := c.(*Stream)
	switch {
	case tag == tagGobSelf && !isStream:
		return errBadValue
	case tag == tagGobSelf:
		return Gob.Unmarshal(data, ptr)
	case isStream:
		return s.decodeMessage(data, ptr)
	}
	return c.Unmarshal(data, ptr)
}

// DecodeFast decodes data into *p without boxing *p, and reports whether
// it could: data must be an int, a string or a []byte on the fast path of
// Append, or a value of a plain type (see plain.go) encoded with Gob.
func DecodeFast[A any](c Codec, data []byte, p *A) bool {
	if isGob, isJSON := fast(c); len(data) == 0 || !isGob && !isJSON {
		return false
	}
	switch q := any(p).(type) {
	case *int:
		if data[0] == tagInt {
			n, k := binary.Varint(data[1:])
			if k > 0 && k == len(data)-1 {
				*q = int(n)
				return true
			}
		}
	case *string:
		if data[0] == tagString {
			*q = string(data[1:])
			return true
		}
	case *[]byte:
		if data[0] == tagBytes {
			*q = bytesOf(data[1:])
			return true
		}
	default:
		if data[0] == tagPlain {
			return decodePlain(plainOf(c, reflect.TypeFor[A]()), data[1:], unsafe.Pointer(p)) == nil
		}
	}
	return false
}

// OwnedAbove is the size from which a []byte value that Decode and
// DecodeFast decode is not copied: it is the bytes it was encoded in, which
// the caller must not reuse. The buffers of frames larger than wire.MaxKept
// (which this is) are not reused, and a value of more than OwnedAbove bytes
// is only in one of those.
const OwnedAbove = 1 << 20

// bytesOf returns the []byte value encoded as b, b itself if it is longer
// than OwnedAbove.
func bytesOf(b []byte) []byte {
	if len(b) > OwnedAbove {
		return b[:len(b):len(b)]
	}
	return bytes.Clone(b)
}

var errBadValue = errors.New("futures: an encoded value is malformed")
