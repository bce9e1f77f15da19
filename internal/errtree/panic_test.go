package errtree

import (
	"encoding/gob"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// point is a panic value registered with gob; secret is not.
type point struct{ X, Y int }

type secret struct{ N int }

func init() { gob.Register(point{}) }

// badString panics when printed; exits calls runtime.Goexit when printed.
type badString struct{}

func (badString) String() string { panic("String panicked") }

type exits struct{}

func (exits) Error() string { runtime.Goexit(); return "" }

// crossPanic returns the panic value v as the parent gets it, and its text.
func crossPanic(t *testing.T, v any, c value.Codec) (any, string) {
	t.Helper()
	b, text := AppendPanic(nil, v, c)
	got, ok := PanicValue(b, c, opaque)
	if !ok {
		return text, text
	}
	return got, text
}

func TestPanicValuesCross(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		c    value.Codec
		want any // the value the parent gets; its text when nil
	}{
		{"an int", 42, value.Gob, 42},
		{"a string", "text", value.Gob, "text"},
		{"a string in JSON", "text", value.JSON, "text"},
		{"an int in JSON becomes text", 42, value.JSON, nil},
		{"a gob-registered struct", point{1, 2}, value.Gob, point{1, 2}},
		{"an unregistered struct becomes text", secret{3}, value.Gob, nil},
		{"a chan becomes text", make(chan int), value.Gob, nil},
		{"a registered sentinel", errX, value.Gob, errX},
		{"a registered value", &codeError{Code: 4}, value.JSON, &codeError{Code: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, text := crossPanic(t, tc.v, tc.c)
			assert.Equal(t, fmt.Sprint(tc.v), text)
			want := tc.want
			if want == nil {
				want = fmt.Sprint(tc.v)
			}
			assert.Equal(t, want, got)
		})
	}

	// A wrapped error unwraps to the registered errors it wraps.
	got, _ := crossPanic(t, fmt.Errorf("w: %w", errors.Join(errors.New("some I/O"), errX)), value.Gob)
	err, ok := got.(error)
	require.True(t, ok, "%T", got)
	assert.ErrorIs(t, err, errX)
	var r *remote
	require.ErrorAs(t, err, &r)
	assert.Equal(t, "*fmt.wrapError", r.typ)

	// An unregistered error is an opaque error, not its text.
	got, _ = crossPanic(t, errors.New("plain"), value.Gob)
	require.IsType(t, &remote{}, got)
	assert.Equal(t, "plain", got.(*remote).msg)
}

func TestPanicValuesWithMethodsThatFail(t *testing.T) {
	got, text := crossPanic(t, badString{}, value.Gob)
	assert.Contains(t, text, "String panicked")
	assert.Equal(t, text, got, "gob cannot encode it, so the text crosses")

	_, text = crossPanic(t, exits{}, value.Gob)
	assert.Contains(t, text, "runtime.Goexit")

	_, text = crossPanic(t, panicky{}, value.Gob)
	assert.Contains(t, text, "panicked")
}

func TestPanicValueRejectsMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {9}, {wire.PanicError}, {wire.PanicValue}, {wire.PanicValue, 3, 'i', 'n', 't', 0}} {
		_, ok := PanicValue(b, value.Gob, opaque)
		assert.False(t, ok, "%v", b)
	}
	// The type it says must be the type it decodes to.
	b, _ := AppendPanic(nil, 7, value.Gob)
	kind, _, _, val, err := wire.ParsePanicValue(b)
	require.NoError(t, err)
	_, ok := PanicValue(wire.AppendPanicValue(nil, kind, nil, "string", val), value.Gob, opaque)
	assert.False(t, ok)
}
