package value

import (
	"encoding"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Plain values skip gob. A plain type is a bool, an integer, a float or a
// string kind, a slice or a non-empty array of a plain type, or a struct
// whose exported fields, at least one, all have plain types and that does
// not refer to itself; no type in it implements an interface gob would use
// instead of its fields (gob.GobEncoder, encoding.BinaryMarshaler,
// encoding.TextMarshaler or their decoding sides). With Gob, a value of a
// plain type is encoded with tagPlain, a fingerprint of its type and the
// compact encoding below, and it decodes to what gob gives:
//
//   - a struct field is sent only when gob sends it: not a false, a zero
//     number (-0.0 included), an empty string or an empty slice, which
//     leave the destination's field as it was; arrays and structs are
//     always sent, and their fields follow the same rule;
//   - the elements of slices and arrays, and a whole value that is not a
//     struct, are always sent;
//   - a slice decodes into the destination's array when its capacity is
//     enough, else into a new one, as gob does.
//
// Encodings: a bool is a byte 0 or 1; signed integers are varints, unsigned
// ones uvarints; floats are their IEEE bits, little-endian, 4 or 8 bytes; a
// string or a slice is its length as a uvarint and its bytes or elements; an
// array is its elements; a struct is, for each exported field in order, a
// byte 0 (not sent) or 1 followed by the field's value. Each encoding takes
// at least one byte, and a decoder refuses a length whose elements could not
// fit in the bytes left, so what it allocates is bounded by the size of its
// input times that of the type's elements.

// plain is the encoding plan of a plain type.
type plain struct {
	kind   reflect.Kind
	typ    reflect.Type
	size   uintptr      // typ.Size()
	elem   *plain       // of a slice or an array
	len    int          // of an array
	fields []plainField // of a struct: its exported fields
	min    int          // the fewest bytes a value's encoding takes
	sum    uint32       // a fingerprint of the type's encoding
}

// plainField is an exported field of a struct.
type plainField struct {
	off uintptr
	p   *plain
}

var (
	plains    sync.Map                     // reflect.Type → *plainVerdict
	lastPlain atomic.Pointer[plainVerdict] // the type asked about last
)

type plainVerdict struct {
	t reflect.Type
	p *plain
}

// plainOf returns the plan of t if c is Gob and t is plain, or nil.
func plainOf(c Codec, t reflect.Type) *plain {
	if isGob, _ := fast(c); !isGob || t == nil {
		return nil
	}
	if v := lastPlain.Load(); v != nil && v.t == t {
		return v.p
	}
	v, ok := plains.Load(t)
	if !ok {
		var q *plain
		if h := fnv.New32a(); !tagged[t] {
			if q = buildPlain(t, map[reflect.Type]bool{}, h); q != nil {
				q.sum = h.Sum32()
			}
		}
		v, _ = plains.LoadOrStore(t, &plainVerdict{t, q})
	}
	lastPlain.Store(v.(*plainVerdict))
	return v.(*plainVerdict).p
}

// tagged are the types with a tag of their own (see appendFast), which are
// not plain as a whole value.
var tagged = map[reflect.Type]bool{
	reflect.TypeFor[int](): true, reflect.TypeFor[int64](): true, reflect.TypeFor[uint64](): true,
	reflect.TypeFor[string](): true, reflect.TypeFor[[]byte](): true, reflect.TypeFor[bool](): true,
	reflect.TypeFor[float64](): true,
}

var codecInterfaces = []reflect.Type{
	reflect.TypeFor[gob.GobEncoder](), reflect.TypeFor[gob.GobDecoder](),
	reflect.TypeFor[encoding.BinaryMarshaler](), reflect.TypeFor[encoding.BinaryUnmarshaler](),
	reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler](),
}

// buildPlain returns the plan of t, or nil if t is not plain; path holds
// the structs on the way from the top. It writes what the encoding depends
// on to sum.
func buildPlain(t reflect.Type, path map[reflect.Type]bool, sum interface{ Write([]byte) (int, error) }) *plain {
	for _, i := range codecInterfaces {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return nil
		}
	}
	p := &plain{kind: t.Kind(), typ: t, size: t.Size(), min: 1}
	fmt.Fprintf(sum, "%d", p.kind)
	switch p.kind {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	case reflect.Float32:
		p.min = 4
	case reflect.Float64:
		p.min = 8
	case reflect.Slice, reflect.Array:
		if p.elem = buildPlain(t.Elem(), path, sum); p.elem == nil {
			return nil
		}
		if p.kind == reflect.Array {
			if p.len = t.Len(); p.len == 0 {
				return nil
			}
			p.min = p.len * p.elem.min // at most t.Size(): no encoding is longer than its value
			fmt.Fprintf(sum, "[%d]", p.len)
		}
	case reflect.Struct:
		if path[t] {
			return nil
		}
		path[t] = true
		defer delete(path, t)
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fmt.Fprintf(sum, "{%s ", f.Name)
			q := buildPlain(f.Type, path, sum)
			if q == nil {
				return nil
			}
			p.fields = append(p.fields, plainField{f.Offset, q})
		}
		if len(p.fields) == 0 {
			return nil // gob refuses it
		}
		p.min = len(p.fields)
	default:
		return nil
	}
	return p
}

// appendTop appends the tagged encoding of *v to dst.
func (p *plain) appendTop(dst []byte, v unsafe.Pointer) []byte {
	dst = binary.LittleEndian.AppendUint32(append(dst, tagPlain), p.sum)
	return p.append(dst, v)
}

func (p *plain) append(b []byte, v unsafe.Pointer) []byte {
	switch p.kind {
	case reflect.Bool:
		if *(*bool)(v) {
			return append(b, 1)
		}
		return append(b, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, loadInt(p.kind, v))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, loadUint(p.kind, v))
	case reflect.Float32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(*(*float32)(v)))
	case reflect.Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(v)))
	case reflect.String:
		s := *(*string)(v)
		return append(binary.AppendUvarint(b, uint64(len(s))), s...)
	case reflect.Slice:
		s := *sliceAt(v)
		b = binary.AppendUvarint(b, uint64(len(s)))
		if len(s) == 0 {
			return b
		}
		return p.elem.appendN(b, unsafe.Pointer(unsafe.SliceData(s)), len(s))
	case reflect.Array:
		return p.elem.appendN(b, v, p.len)
	}
	for _, f := range p.fields { // a struct
		fv := unsafe.Add(v, f.off)
		if f.p.unsent(fv) {
			b = append(b, 0)
		} else {
			b = f.p.append(append(b, 1), fv)
		}
	}
	return b
}

// appendN appends the n values of p's type from v on.
func (p *plain) appendN(b []byte, v unsafe.Pointer, n int) []byte {
	if p.copied() {
		return append(b, unsafe.Slice((*byte)(v), n*int(p.size))...)
	}
	for i := range n {
		b = p.append(b, unsafe.Add(v, uintptr(i)*p.size))
	}
	return b
}

// unsent reports whether gob leaves out *v as a struct field: it is false,
// zero, or empty.
func (p *plain) unsent(v unsafe.Pointer) bool {
	switch p.kind {
	case reflect.Bool:
		return !*(*bool)(v)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return loadInt(p.kind, v) == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return loadUint(p.kind, v) == 0
	case reflect.Float32:
		return *(*float32)(v) == 0
	case reflect.Float64:
		return *(*float64)(v) == 0
	case reflect.String:
		return len(*(*string)(v)) == 0
	case reflect.Slice:
		return len(*sliceAt(v)) == 0
	}
	return false
}

// decodePlain decodes data, the encoding after tagPlain, into *v, a t.
func decodePlain(p *plain, data []byte, v unsafe.Pointer) error {
	if p == nil || len(data) < 4 || binary.LittleEndian.Uint32(data) != p.sum {
		return errPlainType
	}
	if rest, ok := p.decode(data[4:], v); !ok || len(rest) != 0 {
		return errBadValue
	}
	return nil
}

var errPlainType = errors.New("futures: the other process sent a value of another type; do both programs register the same function?")

// decode decodes a value of p's type from the start of b into *v and
// returns the bytes after it, or false if b does not start with one.
func (p *plain) decode(b []byte, v unsafe.Pointer) ([]byte, bool) {
	switch p.kind {
	case reflect.Bool:
		if len(b) == 0 || b[0] > 1 {
			return b, false
		}
		*(*bool)(v) = b[0] == 1
		return b[1:], true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, k := binary.Varint(b)
		return b[max(k, 0):], k > 0 && storeInt(p.kind, v, n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, k := binary.Uvarint(b)
		return b[max(k, 0):], k > 0 && storeUint(p.kind, v, n)
	case reflect.Float32:
		if len(b) < 4 {
			return b, false
		}
		*(*float32)(v) = math.Float32frombits(binary.LittleEndian.Uint32(b))
		return b[4:], true
	case reflect.Float64:
		if len(b) < 8 {
			return b, false
		}
		*(*float64)(v) = math.Float64frombits(binary.LittleEndian.Uint64(b))
		return b[8:], true
	case reflect.String:
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return b, false
		}
		*(*string)(v) = string(b[k : k+int(n)])
		return b[k+int(n):], true
	case reflect.Slice:
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64((len(b)-k)/p.elem.min) {
			return b, false
		}
		s := sliceAt(v)
		if cap(*s) < int(n) { // a new array, zeroed, as gob makes
			r := reflect.NewAt(p.typ, v).Elem()
			r.SetZero()
			r.Grow(int(n))
		}
		*s = (*s)[:n]
		if n == 0 {
			return b[k:], true
		}
		return p.elem.decodeN(b[k:], unsafe.Pointer(unsafe.SliceData(*s)), int(n))
	case reflect.Array:
		return p.elem.decodeN(b, v, p.len)
	}
	for _, f := range p.fields { // a struct
		if len(b) == 0 || b[0] > 1 {
			return b, false
		}
		sent := b[0] == 1
		b = b[1:]
		if sent {
			var ok bool
			if b, ok = f.p.decode(b, unsafe.Add(v, f.off)); !ok {
				return b, false
			}
		}
	}
	return b, true
}

// decodeN decodes n values of p's type from b into v on.
func (p *plain) decodeN(b []byte, v unsafe.Pointer, n int) ([]byte, bool) {
	if p.copied() {
		size := n * int(p.size)
		if len(b) < size {
			return b, false
		}
		copy(unsafe.Slice((*byte)(v), size), b)
		return b[size:], true
	}
	for i := range n {
		var ok bool
		if b, ok = p.decode(b, unsafe.Add(v, uintptr(i)*p.size)); !ok {
			return b, false
		}
	}
	return b, true
}

// sliceAt returns the slice at v, of any slice type, as a []byte of the
// same address, length and capacity in elements: slices of every type share
// that layout.
func sliceAt(v unsafe.Pointer) *[]byte { return (*[]byte)(v) }

// littleEndian says whether the machine stores numbers as their encoding
// does.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// copied reports whether the encoding of a run of values of p's type is
// their bytes in memory: bytes, and floats on a little-endian machine.
func (p *plain) copied() bool {
	switch p.kind {
	case reflect.Uint8:
		return true
	case reflect.Float32, reflect.Float64:
		return littleEndian
	}
	return false
}

func loadInt(k reflect.Kind, v unsafe.Pointer) int64 {
	switch k {
	case reflect.Int8:
		return int64(*(*int8)(v))
	case reflect.Int16:
		return int64(*(*int16)(v))
	case reflect.Int32:
		return int64(*(*int32)(v))
	case reflect.Int64:
		return *(*int64)(v)
	}
	return int64(*(*int)(v))
}

func loadUint(k reflect.Kind, v unsafe.Pointer) uint64 {
	switch k {
	case reflect.Uint8:
		return uint64(*(*uint8)(v))
	case reflect.Uint16:
		return uint64(*(*uint16)(v))
	case reflect.Uint32:
		return uint64(*(*uint32)(v))
	case reflect.Uint64:
		return *(*uint64)(v)
	case reflect.Uintptr:
		return uint64(*(*uintptr)(v))
	}
	return uint64(*(*uint)(v))
}

// storeInt stores n into *v, and reports whether it fits.
func storeInt(k reflect.Kind, v unsafe.Pointer, n int64) bool {
	switch k {
	case reflect.Int8:
		*(*int8)(v) = int8(n)
	case reflect.Int16:
		*(*int16)(v) = int16(n)
	case reflect.Int32:
		*(*int32)(v) = int32(n)
	case reflect.Int64:
		*(*int64)(v) = n
	default:
		*(*int)(v) = int(n)
	}
	return loadInt(k, v) == n
}

// storeUint stores n into *v, and reports whether it fits.
func storeUint(k reflect.Kind, v unsafe.Pointer, n uint64) bool {
	switch k {
	case reflect.Uint8:
		*(*uint8)(v) = uint8(n)
	case reflect.Uint16:
		*(*uint16)(v) = uint16(n)
	case reflect.Uint32:
		*(*uint32)(v) = uint32(n)
	case reflect.Uint64:
		*(*uint64)(v) = n
	case reflect.Uintptr:
		*(*uintptr)(v) = uintptr(n)
	default:
		*(*uint)(v) = uint(n)
	}
	return loadUint(k, v) == n
}
