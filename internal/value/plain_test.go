package value

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type plainInner struct {
	OK   bool
	N    int8
	U    uint16
	F    float32
	Tags []string
}

type plainRecord struct {
	ID     int
	Name   string
	Values []float64
	B      []byte
	hidden int
	Arr    [3]int32
	In     plainInner
	Ins    []plainInner
	Grid   [][]uint
	Pairs  [2]plainInner
	U8     [4]uint8
	P      uintptr
	I64    int64
	U64    uint64
}

type plainID int64

type plainBlob []byte

// plainTypes are the plain types the differential tests go through.
var plainTypes = []reflect.Type{
	reflect.TypeFor[plainRecord](),
	reflect.TypeFor[plainInner](),
	reflect.TypeFor[[]float64](),
	reflect.TypeFor[[]float32](),
	reflect.TypeFor[[4]float64](),
	reflect.TypeFor[[][]int](),
	reflect.TypeFor[[3]string](),
	reflect.TypeFor[[]plainInner](),
	reflect.TypeFor[plainID](),
	reflect.TypeFor[plainBlob](),
	reflect.TypeFor[int32](),
	reflect.TypeFor[float32](),
	reflect.TypeFor[uint](),
	reflect.TypeFor[struct{ S []string }](),
}

type textID int

func (textID) MarshalText() ([]byte, error) { return []byte("id"), nil }

type plainTree struct{ Kids []plainTree }

func TestPlainTypes(t *testing.T) {
	for _, typ := range plainTypes {
		assert.NotNil(t, plainOf(Gob, typ), "%s", typ)
		assert.Nil(t, plainOf(JSON, typ), "JSON: %s", typ)
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[time.Time](),               // a GobEncoder
		reflect.TypeFor[struct{ At time.Time }](),  // holds one
		reflect.TypeFor[struct{ ID textID }](),     // a TextMarshaler
		reflect.TypeFor[[]textID](),                // elements too
		reflect.TypeFor[struct{ P *int }](),        // pointers
		reflect.TypeFor[struct{ M map[int]int }](), // maps
		reflect.TypeFor[struct{ A any }](),         // interfaces
		reflect.TypeFor[struct{ C chan int }](),    // chans
		reflect.TypeFor[struct{ C complex128 }](),  // complex numbers
		reflect.TypeFor[struct{ A [0]int }](),      // empty arrays
		reflect.TypeFor[struct{ x int }](),         // no exported field: gob refuses it
		reflect.TypeFor[struct{ E struct{} }](),    // nor an empty struct
		reflect.TypeFor[plainTree](),               // recursive
		reflect.TypeFor[*plainRecord](),
		reflect.TypeFor[map[string]int](),
	} {
		assert.Nil(t, plainOf(Gob, typ), "%s", typ)
	}
}

// entropy hands out the bytes of a fuzz input, then zeros.
type entropy []byte

func (e *entropy) byte() byte {
	if len(*e) == 0 {
		return 0
	}
	b := (*e)[0]
	*e = (*e)[1:]
	return b
}

func (e *entropy) uint64() uint64 {
	var b [8]byte
	for i := range e.byte() % 9 { // small numbers are common
		b[i] = e.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

var specialFloats = []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5}

// fill sets v, settable, to a value drawn from e: zeros, empty and nil
// slices, NaNs and extreme numbers are common.
func fill(v reflect.Value, e *entropy) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(e.byte()&1 == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(e.uint64()) >> (e.byte() % 64))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(e.uint64() >> (e.byte() % 64))
	case reflect.Float32, reflect.Float64:
		if k := e.byte(); int(k) < len(specialFloats) {
			v.SetFloat(specialFloats[k])
		} else {
			v.SetFloat(math.Float64frombits(e.uint64()))
		}
	case reflect.String:
		b := make([]byte, e.byte()%8)
		for i := range b {
			b[i] = e.byte()
		}
		v.SetString(string(b))
	case reflect.Slice:
		k := int(e.byte() % 6)
		if k == 5 {
			v.SetZero()
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), k, k+int(e.byte()%3)))
		for i := range k {
			fill(v.Index(i), e)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), e)
			} else {
				hidden := v.Field(i)
				reflect.NewAt(hidden.Type(), unsafe.Pointer(hidden.UnsafeAddr())).Elem().SetInt(int64(e.byte()))
			}
		}
	}
}

// show prints v with everything DeepEqual compares, and NaNs equal.
func show(v reflect.Value) string { return fmt.Sprintf("%#v", v.Interface()) }

// FuzzPlainValues checks that plain values decode to what gob gives, into
// a zero destination and into one holding another value (whose arrays gob
// reuses), through Decode, DecodeFast and an Encoding alike; that
// AppendValue encodes a value that is not addressable as AppendAs does; and
// that the decoder, given any bytes, fails or decodes without panicking or
// allocating beyond what its input bounds, and that an Encoding decodes
// what Decode decodes.
func FuzzPlainValues(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{}, []byte{tagPlain})
	f.Add(bytes.Repeat([]byte{0xff, 7, 1}, 40), bytes.Repeat([]byte{3, 0x80}, 30), []byte{tagPlain, 0, 0, 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, val, dst, raw []byte) {
		for _, typ := range plainTypes {
			in := reflect.New(typ)
			e := entropy(val)
			fill(in.Elem(), &e)
			before := show(in.Elem())

			for _, into := range []string{"zero", "filled"} {
				viaGob, viaFast, viaDecode, viaEnc := reflect.New(typ), reflect.New(typ), reflect.New(typ), reflect.New(typ)
				if into == "filled" {
					for _, d := range []reflect.Value{viaGob, viaFast, viaDecode, viaEnc} {
						e := entropy(dst)
						fill(d.Elem(), &e)
					}
				}
				var buf bytes.Buffer
				require.NoError(t, gob.NewEncoder(&buf).EncodeValue(in.Elem()))
				require.NoError(t, gob.NewDecoder(&buf).DecodeValue(viaGob))

				data, err := AppendAs(nil, Gob, in.Elem().Interface(), typ)
				require.NoError(t, err)
				require.Equal(t, tagPlain, data[0], "%s", typ)
				require.NoError(t, Decode(Gob, data, viaDecode.Interface()))
				decodeFastValue(t, data, viaFast)
				require.True(t, EncodingOf(typ).DecodeFast(Gob, data, viaEnc.UnsafePointer()), "%s", typ)

				want := show(viaGob.Elem())
				require.Equal(t, want, show(viaDecode.Elem()), "%s into %s: %s", typ, into, before)
				require.Equal(t, want, show(viaFast.Elem()), "%s into %s: %s", typ, into, before)
				require.Equal(t, want, show(viaEnc.Elem()), "%s into %s: %s", typ, into, before)

				value, err := AppendValue(nil, Gob, reflect.ValueOf(in.Elem().Interface()))
				require.NoError(t, err)
				require.Equal(t, data, value, "%s: AppendValue of a value that is not addressable", typ)
				value, err = EncodingOf(typ).AppendValue(nil, Gob, reflect.ValueOf(in.Elem().Interface()))
				require.NoError(t, err)
				require.Equal(t, data, value, "%s: Encoding.AppendValue", typ)
			}
			require.Equal(t, before, show(in.Elem()), "encoding changed the value")

			framed := binary.LittleEndian.AppendUint32([]byte{tagPlain}, plainOf(Gob, typ).sum)
			for _, data := range [][]byte{raw, append(framed, raw...)} {
				viaDecode, viaEnc := reflect.New(typ), reflect.New(typ)
				err := Decode(Gob, data, viaDecode.Interface())
				if EncodingOf(typ).DecodeFast(Gob, data, viaEnc.UnsafePointer()) {
					require.NoError(t, err, "% x: an Encoding decoded what Decode refuses", data)
					require.Equal(t, show(viaDecode.Elem()), show(viaEnc.Elem()), "% x", data)
				} else if len(data) > 0 && data[0] == tagPlain {
					require.Error(t, err, "% x: an Encoding refused what Decode decodes", data)
				}
			}
		}
	})
}

// decodeFastValue decodes data into p with DecodeFast, for the types of
// plainTypes that the differential test picks the generic one for.
func decodeFastValue(t *testing.T, data []byte, p reflect.Value) {
	var ok bool
	switch q := p.Interface().(type) {
	case *plainRecord:
		ok = DecodeFast(Gob, data, q)
	case *[]float64:
		ok = DecodeFast(Gob, data, q)
	case *plainBlob:
		ok = DecodeFast(Gob, data, q)
	default:
		ok = Decode(Gob, data, q) == nil
	}
	require.True(t, ok, "DecodeFast declined a %s", p.Type().Elem())
}

func TestPlainValuesWithAStreamAndAppendOf(t *testing.T) {
	in := plainRecord{ID: 3, Name: "x", Values: []float64{1, 2}}
	s := NewStream(NewTypes())
	data, err := AppendOf(nil, s, &in)
	require.NoError(t, err)
	require.Equal(t, tagPlain, data[0])
	assert.Zero(t, s.types.Len(), "no gob type definition is needed")
	var out plainRecord
	require.True(t, DecodeFast(NewStream(nil), data, &out))
	assert.Equal(t, in, out)

	json, err := AppendOf(nil, JSON, &in)
	require.NoError(t, err)
	assert.Equal(t, tagCodec, json[0], "JSON values never take the plain path")
}

func TestPlainDecodeRefusesAnotherType(t *testing.T) {
	data, err := AppendOf(nil, Gob, &plainInner{N: 1})
	require.NoError(t, err)
	var other struct{ A, B int8 }
	require.ErrorContains(t, Decode(Gob, data, &other), "another type")
	assert.False(t, DecodeFast(Gob, data, &other))
	var notPlain map[string]int
	require.ErrorContains(t, Decode(Gob, data, &notPlain), "another type")
	require.Error(t, Decode(Gob, data, nil))
}

// TestPlainDecodeAllocatesWithinItsInput: lengths that claim more elements
// than the bytes left could hold are refused before anything is allocated.
func TestPlainDecodeAllocatesWithinItsInput(t *testing.T) {
	prefix := func(typ reflect.Type) []byte {
		return binary.LittleEndian.AppendUint32([]byte{tagPlain}, plainOf(Gob, typ).sum)
	}
	for _, tc := range []struct {
		typ  reflect.Type
		body []byte
	}{
		{reflect.TypeFor[[]float64](), binary.AppendUvarint(nil, 1<<40)},
		{reflect.TypeFor[[]float64](), append(binary.AppendUvarint(nil, 2), make([]byte, 15)...)},
		{reflect.TypeFor[[][]int](), append(binary.AppendUvarint(nil, 1<<20), make([]byte, 1<<10)...)},
		{reflect.TypeFor[[]plainInner](), append(binary.AppendUvarint(nil, 1<<12), make([]byte, 5<<12-1)...)},
		{reflect.TypeFor[plainBlob](), binary.AppendUvarint(nil, math.MaxUint64)},
		{reflect.TypeFor[[3]string](), append(binary.AppendUvarint(nil, 1<<30), 'x')},
	} {
		p := reflect.New(tc.typ)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := Decode(Gob, append(prefix(tc.typ), tc.body...), p.Interface())
		runtime.ReadMemStats(&after)
		assert.ErrorIs(t, err, errBadValue, "%s", tc.typ)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "%s", tc.typ)
	}
}

// BenchmarkStructValue encodes and decodes the struct of the process
// benchmarks, plain and, for comparison, as a gob message of a Stream.
func BenchmarkStructValue(b *testing.B) {
	type record struct {
		ID     int
		Name   string
		Values []float64
	}
	in := record{ID: 7, Name: "record", Values: []float64{1, 2, 3, 4, 5, 6, 7, 8}}
	b.Run("codec=plain", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendOf(buf[:0], Gob, &in)
			var out record
			if !DecodeFast(Gob, buf, &out) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("codec=gob-stream", func(b *testing.B) {
		b.ReportAllocs()
		types := NewTypes()
		enc, dec := NewStream(types), NewStream(nil)
		var buf []byte
		sent := 0
		for b.Loop() {
			buf, _ = appendMarshalled(buf[:0], enc, in)
			defs, end := types.Since(sent)
			sent = end
			dec.AddTypes(defs)
			var out record
			if err := Decode(dec, buf, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
