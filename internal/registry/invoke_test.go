package registry

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/value"
)

type ctxKey struct{}

var (
	keptMu sync.Mutex
	kept   []regRecord
)

// regKeep keeps its argument, values included, and returns it with the
// name of the context's value appended, or the context's error.
func regKeep(ctx context.Context, r regRecord) (regRecord, error) {
	if err := ctx.Err(); err != nil {
		return regRecord{}, err
	}
	keptMu.Lock()
	kept = append(kept, r)
	keptMu.Unlock()
	r.Name += ctx.Value(ctxKey{}).(string)
	return r, nil
}

var errOdd = errors.New("odd")

// regTags takes a map, which is not plain, and fails for an odd count.
func regTags(_ context.Context, m map[string]int) (regRecord, error) {
	if len(m)%2 == 1 {
		return regRecord{}, errOdd
	}
	return regRecord{ID: len(m), Values: []float64{float64(len(m))}}, nil
}

// regKeepTyped is regKeep, registered with RegisterFunc.
func regKeepTyped(ctx context.Context, r regRecord) (regRecord, error) { return regKeep(ctx, r) }

func init() { Register("", regKeep); Register("", regTags); RegisterFunc("", regKeepTyped) }

// encode encodes v with Gob as an argument of its type is encoded.
func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := value.AppendAs(nil, value.Gob, v, reflect.TypeOf(v))
	require.NoError(t, err)
	return b
}

// TestReflectiveCallKeepsNothingOfAnotherCall: the storage a plain argument
// is decoded into serves the next call, but what a function kept of its
// argument is never reused, and each call gets its own context.
func TestReflectiveCallKeepsNothingOfAnotherCall(t *testing.T) {
	f, err := Lookup(regKeep)
	require.NoError(t, err)
	kept = nil
	for i := range 100 {
		ctx := context.WithValue(context.Background(), ctxKey{}, "+ctx")
		in := regRecord{ID: i, Values: []float64{float64(i), 1}}
		if i%3 == 0 {
			in.Name = "n"
			in.Values = nil // decoding leaves the field as it is: zero
		}
		res, _, callErr, codecErr := f.Call(ctx, value.Gob, encode(t, in), nil, nil)
		require.NoError(t, callErr)
		require.NoError(t, codecErr)
		var out regRecord
		require.NoError(t, value.Decode(value.Gob, res, &out))
		in.Name += "+ctx"
		assert.Equal(t, in, out)
	}
	for i, r := range kept {
		if i%3 == 0 {
			assert.Equal(t, regRecord{ID: i, Name: "n"}, r, "call %d", i)
		} else {
			assert.Equal(t, regRecord{ID: i, Values: []float64{float64(i), 1}}, r, "call %d", i)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, callErr, codecErr := f.Call(ctx, value.Gob, encode(t, regRecord{ID: 1}), nil, nil)
	assert.ErrorIs(t, callErr, context.Canceled)
	assert.NoError(t, codecErr)
}

// TestReflectiveCallConcurrently: calls on many goroutines at once each
// get their own argument and context (run with -race).
func TestReflectiveCallConcurrently(t *testing.T) {
	f, err := Lookup(regKeep)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				name := string(rune('a' + g))
				ctx := context.WithValue(context.Background(), ctxKey{}, name)
				in := regRecord{ID: i, Values: []float64{float64(g), float64(i)}}
				res, _, callErr, codecErr := f.Call(ctx, value.Gob, encode(t, in), nil, nil)
				if callErr != nil || codecErr != nil {
					t.Errorf("%v, %v", callErr, codecErr)
					return
				}
				var out regRecord
				if err := value.Decode(value.Gob, res, &out); err != nil || out.ID != i || out.Name != name || out.Values[0] != float64(g) || out.Values[1] != float64(i) {
					t.Errorf("goroutine %d, call %d: %+v, %v", g, i, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestReflectiveCallFailures: what cannot be decoded or encoded, and the
// function's own error, come back as before, with the types named.
func TestReflectiveCallFailures(t *testing.T) {
	f, err := Lookup(regKeep)
	require.NoError(t, err)
	good := encode(t, regRecord{ID: 1, Name: "x"})
	for _, tc := range []struct {
		name string
		arg  []byte
		want string
	}{
		{"empty", []byte{}, "decode the argument, a registry.regRecord: futures: an encoded value is empty"},
		{"cut short", good[:len(good)-1], "decode the argument, a registry.regRecord: futures: an encoded value is malformed"},
		{"another type", encode(t, struct{ A, B int8 }{1, 2}), "decode the argument, a registry.regRecord: futures: the other process sent a value of another type; do both programs register the same function?"},
		{"an int", encode(t, 3), "decode the argument, a registry.regRecord: futures: the other process sent a int where this one expects a registry.regRecord; do both programs register the same function?"},
	} {
		started := false
		_, _, callErr, codecErr := f.Call(context.Background(), value.Gob, tc.arg, nil, func() { started = true })
		assert.NoError(t, callErr, tc.name)
		assert.EqualError(t, codecErr, tc.want, tc.name)
		assert.False(t, started, tc.name)
	}

	g, err := Lookup(regTags)
	require.NoError(t, err)
	for _, c := range []value.Codec{value.Gob, value.JSON} {
		arg, err := value.Append(nil, c, map[string]int{"a": 1, "b": 2})
		require.NoError(t, err)
		res, _, callErr, codecErr := g.Call(context.Background(), c, arg, nil, nil)
		require.NoError(t, callErr)
		require.NoError(t, codecErr)
		var out regRecord
		require.NoError(t, value.Decode(c, res, &out))
		assert.Equal(t, regRecord{ID: 2, Values: []float64{2}}, out, c.Name())

		arg, err = value.Append(nil, c, map[string]int{"a": 1})
		require.NoError(t, err)
		_, _, callErr, codecErr = g.Call(context.Background(), c, arg, nil, nil)
		assert.ErrorIs(t, callErr, errOdd)
		assert.NoError(t, codecErr)
	}
}

// FuzzReflectiveCall calls a function of a struct through reflection and,
// for comparison, without: given any argument bytes, both give the same
// result bytes, or fail with the same text.
func FuzzReflectiveCall(f *testing.F) {
	f.Add(encode(f, regRecord{ID: 1, Name: "record", Values: make([]float64, 8)}))
	f.Add(encode(f, regRecord{}))
	gob, err := value.Append(nil, value.Gob, regRecord{ID: 2, Values: []float64{1}}) // no plain tag
	require.NoError(f, err)
	f.Add(gob)
	f.Add(encode(f, 7))
	f.Add([]byte{})
	rec := reflect.TypeFor[regRecord]()
	reflective := reflectInvoker(reflect.ValueOf(regRecordInc), rec, rec)
	typed := typedInvoker(regRecordInc)
	f.Fuzz(func(t *testing.T, arg []byte) {
		for _, c := range [][2]value.Codec{
			{value.Gob, value.Gob},
			{value.JSON, value.JSON},
			{value.NewStream(value.NewTypes()), value.NewStream(value.NewTypes())}, // a decoder each
		} {
			want, wantTail, wantErr, wantCodec := typed(context.Background(), c[0], arg, nil, nil)
			got, gotTail, gotErr, gotCodec := reflective(context.Background(), c[1], arg, nil, nil)
			want, got = append(want, wantTail...), append(got, gotTail...)
			require.Equal(t, wantErr, gotErr)
			if wantCodec != nil || gotCodec != nil {
				require.Error(t, wantCodec)
				require.EqualError(t, gotCodec, wantCodec.Error())
			}
			require.Equal(t, want, got, "%s: % x", c[0].Name(), arg)
		}
	})
}

// TestArgSize: the room reserved for an argument is the largest noted,
// up to 1 KiB.
func TestArgSize(t *testing.T) {
	f := &Func{}
	assert.Zero(t, f.ArgSize())
	for _, tc := range []struct{ note, want int }{{81, 81}, {2, 81}, {500, 500}, {1 << 20, 1 << 10}, {3, 1 << 10}} {
		f.NoteArgSize(tc.note)
		assert.Equal(t, tc.want, f.ArgSize(), "after %d", tc.note)
	}
}

// TestRegisterFuncCallsDirectly: a function registered with RegisterFunc
// is called without reflection, which allocates less than the same
// function registered with Register, and gives the same results.
func TestRegisterFuncCallsDirectly(t *testing.T) {
	reflective, err := Lookup(regKeep)
	require.NoError(t, err)
	typed, err := Lookup(regKeepTyped)
	require.NoError(t, err)
	assert.Equal(t, "github.com/gofutures/futures/internal/registry.regKeepTyped", typed.Name())
	assert.Equal(t, reflect.TypeFor[regRecord](), typed.ArgType())

	arg := encode(t, regRecord{ID: 1, Name: "r", Values: []float64{1, 2}})
	// With its context cancelled, the function keeps nothing and fails.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	allocs := func(f *Func) float64 {
		return testing.AllocsPerRun(100, func() {
			if _, _, callErr, codecErr := f.Call(cancelled, value.Gob, arg, nil, nil); callErr != context.Canceled || codecErr != nil {
				t.Fatal(callErr, codecErr)
			}
		})
	}
	assert.Less(t, allocs(typed), allocs(reflective))

	ctx := context.WithValue(context.Background(), ctxKey{}, "!")
	want, _, _, _ := reflective.Call(ctx, value.Gob, arg, nil, nil)
	got, _, _, _ := typed.Call(ctx, value.Gob, arg, nil, nil)
	assert.Equal(t, want, got)
	var r regRecord
	require.NoError(t, value.Decode(value.Gob, got, &r))
	assert.Equal(t, regRecord{ID: 1, Name: "r!", Values: []float64{1, 2}}, r)
	_, _, _, codecErr := typed.Call(ctx, value.Gob, []byte{0xff}, nil, nil)
	assert.ErrorContains(t, codecErr, "decode the argument, a registry.regRecord")
}
