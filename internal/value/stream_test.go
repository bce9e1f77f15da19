package value

import (
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type point struct {
	X, Y int
	Tag  string
}

type shape interface{ area() int }

type rect struct{ W, H int }

func (r rect) area() int { return r.W * r.H }

type box struct {
	Label string
	Inner any
}

type unregistered struct{ N int }

func init() {
	gob.Register(rect{})
	gob.Register(box{})
	gob.Register(point{})
}

// conn is one direction of a connection: what one side encodes with its
// log, and the other side's decoding Stream, which gets the log's new part
// before each batch of values, as a pool and its workers do.
type conn struct {
	types *Types
	enc   *Stream
	dec   *Stream
	sent  int
}

func newConn(types *Types) *conn {
	return &conn{types: types, enc: NewStream(types), dec: NewStream(nil)}
}

// send hands the receiver the definitions logged since the last send.
func (c *conn) send() {
	var defs []byte
	if defs, c.sent = c.types.Since(c.sent); len(defs) > 0 {
		c.dec.AddTypes(defs)
	}
}

func TestStreamDescribesATypeOnce(t *testing.T) {
	c := newConn(NewTypes())
	first, err := Append(nil, c.enc, point{1, 2, "a"})
	require.NoError(t, err)
	logged := c.types.Len()
	second, err := Append(nil, c.enc, point{3, 4, "b"})
	require.NoError(t, err)
	assert.Positive(t, logged)
	assert.Equal(t, logged, c.types.Len(), "the second value logs no definition")
	assert.Less(t, len(second), len(first)/2+8, "the first value's message is no longer than the second's")

	c.send()
	var got point
	require.NoError(t, Decode(c.dec, second, &got))
	assert.Equal(t, point{3, 4, "b"}, got)
	require.NoError(t, Decode(c.dec, first, &got))
	assert.Equal(t, point{1, 2, "a"}, got)
}

// TestStreamDecodesInAnyOrder encodes values of several types from many
// goroutines, then decodes them in reverse order on two connections, one
// of which got the log in two parts.
func TestStreamDecodesInAnyOrder(t *testing.T) {
	types := NewTypes()
	a, b := newConn(types), newConn(types)
	const n = 200
	enc := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			switch i % 4 {
			case 0:
				enc[i], err = Append(nil, a.enc, point{i, -i, fmt.Sprint(i)})
			case 1:
				var s shape = rect{i, 2}
				enc[i], err = AppendOf(nil, a.enc, &s)
			case 2:
				enc[i], err = Append(nil, a.enc, map[string][]float64{"k": {float64(i)}})
			case 3:
				enc[i], err = Append(nil, a.enc, box{Label: "b", Inner: point{X: i}})
			}
			assert.NoError(t, err)
			if i == n/2 {
				b.send() // b gets part of the log while values are encoded
			}
		})
	}
	wg.Wait()
	a.send()
	b.send()
	for _, c := range []*conn{a, b} {
		for i := n - 1; i >= 0; i-- {
			switch i % 4 {
			case 0:
				var p point
				require.NoError(t, Decode(c.dec, enc[i], &p))
				assert.Equal(t, point{i, -i, fmt.Sprint(i)}, p)
			case 1:
				var s shape
				require.NoError(t, Decode(c.dec, enc[i], &s))
				assert.Equal(t, rect{i, 2}, s)
			case 2:
				var m map[string][]float64
				require.NoError(t, Decode(c.dec, enc[i], &m))
				assert.Equal(t, []float64{float64(i)}, m["k"])
			case 3:
				var x box
				require.NoError(t, Decode(c.dec, enc[i], &x))
				assert.Equal(t, box{Label: "b", Inner: point{X: i}}, x)
			}
		}
	}
}

// TestStreamFailureHalfway: an encoding that fails after gob wrote some
// definitions, by an error or a panic, leaves the log complete, so that
// values encoded afterwards decode on a connection that got the log before
// and on one that gets it only now.
func TestStreamFailureHalfway(t *testing.T) {
	types := NewTypes()
	early := newConn(types)
	_, err := Append(nil, early.enc, box{Label: "x", Inner: unregistered{1}})
	require.ErrorContains(t, err, "not registered")
	before := types.Len()
	_, err = Append(nil, early.enc, holder{N: 1, P: panicky{On: true}})
	require.ErrorContains(t, err, "panicked")
	assert.Greater(t, types.Len(), before, "gob wrote definitions before the panic")
	early.send()

	late := newConn(types)
	for i := range 3 {
		data, err := Append(nil, early.enc, holder{N: i})
		require.NoError(t, err)
		other, err := Append(data, early.enc, holder{N: i, P: panicky{On: true}})
		require.ErrorContains(t, err, "panicked")
		assert.Equal(t, data, other, "a failed value appends nothing")
		early.send()
		late.send()
		for _, c := range []*conn{early, late} {
			var got holder
			require.NoError(t, Decode(c.dec, data, &got))
			assert.Equal(t, holder{N: i}, got)
		}
	}
}

type panicky struct{ On bool }

func (p panicky) GobEncode() ([]byte, error) {
	if p.On {
		panic("no")
	}
	return nil, nil
}
func (*panicky) GobDecode([]byte) error { return nil }

type holder struct {
	N int
	P panicky
}

// TestStreamInterfaces: a value holding an interface value is
// self-described, so that connections that decode it or not, in any order,
// stay in step.
func TestStreamInterfaces(t *testing.T) {
	types := NewTypes()
	a, b := newConn(types), newConn(types)
	nested := box{Label: "outer", Inner: box{Label: "inner", Inner: rect{2, 3}}}
	first, err := Append(nil, a.enc, nested)
	require.NoError(t, err)
	assert.Equal(t, tagGobSelf, first[0])
	var s shape = rect{4, 5}
	second, err := AppendOf(nil, a.enc, &s)
	require.NoError(t, err)
	assert.Equal(t, tagGobSelf, second[0])
	plain, err := Append(nil, a.enc, box{Label: "plain"})
	require.NoError(t, err)
	assert.Equal(t, tagCodec, plain[0], "a nil interface is nothing to describe")
	a.send()
	b.send()
	var got box
	require.NoError(t, Decode(a.dec, first, &got))
	assert.Equal(t, nested, got)
	var gotA, gotB box
	require.NoError(t, Decode(a.dec, plain, &gotA))
	assert.Equal(t, box{Label: "plain"}, gotA)
	require.NoError(t, Decode(b.dec, plain, &gotB), "b never decoded the others")
	assert.Equal(t, box{Label: "plain"}, gotB)
	var sh shape
	require.NoError(t, Decode(b.dec, second, &sh))
	assert.Equal(t, rect{4, 5}, sh)
	assert.Error(t, Decode(Gob, first, &got), "Gob itself does not decode what only a Stream sends")
}

func TestStreamNil(t *testing.T) {
	c := newConn(NewTypes())
	for _, cd := range []Codec{Gob, JSON, c.enc} {
		data, err := Append(nil, cd, (*point)(nil))
		require.NoError(t, err)
		p := &point{}
		require.NoError(t, Decode(cd, data, &p))
		assert.Nil(t, p, cd.Name())
		var s shape
		data, err = AppendOf(nil, cd, &s)
		require.NoError(t, err)
		s = rect{}
		require.NoError(t, Decode(cd, data, &s))
		assert.Nil(t, s)
		var n int
		assert.Error(t, Decode(cd, data, &n), "nil into an int")
	}
}

// TestAppendAsAnotherType: a value that is not of the interface type it is
// said to be is encoded as itself, and refused by the other end.
func TestAppendAsAnotherType(t *testing.T) {
	c := newConn(NewTypes())
	for _, pair := range [][2]Codec{{Gob, Gob}, {c.enc, c.dec}} {
		data, err := AppendAs(nil, pair[0], point{X: 1}, reflect.TypeFor[shape]())
		require.NoError(t, err)
		c.send()
		var s shape
		assert.Error(t, Decode(pair[1], data, &s))
		var p point
		require.NoError(t, Decode(pair[1], data, &p))
		assert.Equal(t, point{X: 1}, p)
	}
}

type node struct {
	Next *node
	N    int
}

type anyList struct{ Items []any }

// firstField's Self may point at its own First, which shares its address.
type firstField struct {
	First anyList
	Self  any
}

// ring encodes itself with GobEncode, which handles its cycle: gob never
// recurses into its fields.
type ring struct {
	Name string
	Next *ring
}

func (r *ring) GobEncode() ([]byte, error) { return []byte(r.Name), nil }

func (r *ring) GobDecode(b []byte) error {
	r.Name, r.Next = string(b), r
	return nil
}

func init() { gob.Register(&anyList{}) }

func TestCheckDepth(t *testing.T) {
	cyclic := &node{N: 1}
	cyclic.Next = &node{N: 2, Next: cyclic}
	selfSlice := []any{1, nil}
	selfSlice[1] = selfSlice
	selfMap := map[string]any{}
	selfMap["me"] = selfMap
	deep := &node{}
	for range MaxDepth + 1 {
		deep = &node{Next: deep}
	}
	shared := &node{N: 7}
	dag := []*node{shared, shared, {Next: shared}}
	for _, tc := range []struct {
		name string
		v    any
		err  string
	}{
		{"pointer cycle", cyclic, "refers to itself"},
		{"slice holding itself", selfSlice, "refers to itself"},
		{"map holding itself", selfMap, "refers to itself"},
		{"struct holding itself through any", func() any { l := &anyList{}; l.Items = []any{l}; return l }(), "refers to itself"},
		{"too deep", deep, "levels deep"},
		{"shared, not cyclic", dag, ""},
		{"a list within the limit", &node{Next: &node{N: 3}}, ""},
		{"an interface holding a pointer to the value's first field", func() any {
			v := &firstField{First: anyList{Items: []any{1}}}
			v.Self = &v.First
			return v
		}(), ""},
		{"a cycle that GobEncode encodes", func() any { r := &ring{Name: "r"}; r.Next = r; return r }(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []Codec{Gob, NewStream(NewTypes())} {
				_, err := Append(nil, c, tc.v)
				if tc.err == "" {
					assert.NoError(t, err)
				} else {
					assert.ErrorContains(t, err, tc.err)
				}
			}
		})
	}
	assert.False(t, mayRecurse(reflectTypeOf(struct {
		ID     int
		Name   string
		Values []float64
	}{})), "a struct of numbers and slices is not walked")
}

// FuzzStreamDecode hands a Stream any definitions and any value: it
// returns an error or a value, never panics or hangs, and decodes a good
// value afterwards on a new connection.
func FuzzStreamDecode(f *testing.F) {
	types := NewTypes()
	good, err := Append(nil, NewStream(types), point{1, 2, "x"})
	if err != nil {
		f.Fatal(err)
	}
	defs, _ := types.Since(0)
	f.Add(defs, good)
	f.Add(defs[:len(defs)/2], good[:len(good)/2])
	f.Add([]byte{}, []byte{tagGobSelf, 3, 4})
	f.Fuzz(func(t *testing.T, defs, data []byte) {
		s := NewStream(nil)
		s.AddTypes(defs)
		var p point
		_ = Decode(s, data, &p)
		var a any
		_ = Decode(s, data, &a)
	})
}

func reflectTypeOf(v any) reflect.Type { return reflect.TypeOf(v) }
