package value

import (
	"encoding/gob"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exiting is a value whose decoding methods panic when its Mode is 1 and
// call runtime.Goexit when it is 2.
type exiting struct{ Mode byte }

func (e exiting) GobEncode() ([]byte, error) { return []byte{e.Mode}, nil }

func (e *exiting) GobDecode(b []byte) error {
	if len(b) != 1 {
		return errors.New("exiting: bad length")
	}
	return e.set(b[0])
}

func (e exiting) MarshalJSON() ([]byte, error) { return json.Marshal(e.Mode) }

func (e *exiting) UnmarshalJSON(b []byte) error {
	var m byte
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	return e.set(m)
}

func (e *exiting) set(m byte) error {
	switch m {
	case 1:
		panic("decoding panics")
	case 2:
		runtime.Goexit()
	}
	e.Mode = m
	return nil
}

// exitingCodec is JSON named otherwise, whose Unmarshal calls
// runtime.Goexit for the bytes "2".
type exitingCodec struct{}

func (exitingCodec) Name() string                  { return "exiting" }
func (exitingCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }
func (exitingCodec) Unmarshal(data []byte, v any) error {
	if string(data) == "2" {
		runtime.Goexit()
	}
	return json.Unmarshal(data, v)
}

// TestDecodeGoexit: a call of runtime.Goexit while decoding, by a value's
// GobDecode or UnmarshalJSON or by a codec of the program's own, is
// Decode's error, as is a panic there, and the goroutine that called Decode
// and the codec (a Stream's decoder too) decode on.
func TestDecodeGoexit(t *testing.T) {
	cn := newConn(NewTypes())
	for _, tc := range []struct {
		name  string
		enc   Codec
		dec   Codec
		value any
		into  func() any
	}{
		{"gob", Gob, Gob, exiting{2}, func() any { return new(exiting) }},
		{"stream", cn.enc, cn.dec, exiting{2}, func() any { return new(exiting) }},
		{"gob in a struct", Gob, Gob, struct{ E []exiting }{[]exiting{{2}}}, func() any { return new(struct{ E []exiting }) }},
		{"gob in an interface", cn.enc, cn.dec, box{Inner: exiting{2}}, func() any { return new(box) }},
		{"json", JSON, JSON, exiting{2}, func() any { return new(exiting) }},
		{"codec", exitingCodec{}, exitingCodec{}, 2, func() any { return new(int) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Append(nil, tc.enc, tc.value)
			require.NoError(t, err)
			cn.send()
			into := tc.into()
			require.ErrorContains(t, Decode(tc.dec, b, into), "decoding a "+reflect.TypeOf(into).String()+" called runtime.Goexit")

			if e, ok := tc.value.(exiting); ok {
				e.Mode = 1
				b, err = Append(nil, tc.enc, e)
				require.NoError(t, err)
				cn.send()
				require.ErrorContains(t, Decode(tc.dec, b, new(exiting)), "decoding a *value.exiting panicked: decoding panics")
				e.Mode = 3
				b, err = Append(nil, tc.enc, e)
				require.NoError(t, err)
				cn.send()
				var got exiting
				require.NoError(t, Decode(tc.dec, b, &got))
				assert.Equal(t, e, got)
			}
		})
	}
}

func init() { gob.Register(exiting{}) }

type selfRef struct {
	Next *selfRef
	N    int
}

type selfRefDecoding struct {
	Next *selfRefDecoding
	M    map[string]exiting
}

// TestRunsUserCode: decoding with Gob or JSON runs the program's code for
// a type with a decoding method, an interface, or a type that reaches one
// of those, and with another codec always.
func TestRunsUserCode(t *testing.T) {
	for _, tc := range []struct {
		t    reflect.Type
		want bool
	}{
		{reflect.TypeFor[*int](), false},
		{reflect.TypeFor[*point](), false},
		{reflect.TypeFor[*map[string][]float64](), false},
		{reflect.TypeFor[*selfRef](), false},
		{reflect.TypeFor[*exiting](), true},
		{reflect.TypeFor[*[]exiting](), true},
		{reflect.TypeFor[*map[exiting]int](), true},
		{reflect.TypeFor[*selfRefDecoding](), true},
		{reflect.TypeFor[*any](), true},
		{reflect.TypeFor[*box](), true},
		{reflect.TypeFor[*shape](), true},
		{reflect.TypeFor[*json.RawMessage](), true},
	} {
		assert.Equal(t, tc.want, runsUserCode(Gob, tc.t), "%s with Gob", tc.t)
		assert.Equal(t, tc.want, runsUserCode(JSON, tc.t), "%s with JSON", tc.t)
		assert.True(t, runsUserCode(exitingCodec{}, tc.t), "%s with another codec", tc.t)
	}
}

// BenchmarkDecodeApart decodes with a Stream a value whose decoding runs
// no code of the program's own, inline, and one whose GobDecode runs, in a
// goroutine of its own.
func BenchmarkDecodeApart(b *testing.B) {
	for _, bc := range []struct {
		name string
		v    any
		into func() any
	}{
		{"decode=inline", map[string]int{"a": 1}, func() any { return new(map[string]int) }},
		{"decode=apart", exiting{3}, func() any { return new(exiting) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cn := newConn(NewTypes())
			buf, err := Append(nil, cn.enc, bc.v)
			require.NoError(b, err)
			cn.send()
			for b.Loop() {
				if err := Decode(cn.dec, buf, bc.into()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
