package errtree

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	errX    = errors.New("errtree test: X")
	errY    = errors.New("errtree test: Y")
	errSame = errors.New("errtree test: X") // the same type and text as errX
)

// codeError is a registered pointer type; valError a registered value type.
type codeError struct{ Code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.Code) }

type valError struct{ Name string }

func (e valError) Error() string { return "val " + e.Name }

// causeError is registered, with a cause in an exported field.
type causeError struct {
	Op  string
	Err error
}

func (e *causeError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *causeError) Unwrap() error { return e.Err }

// chanError has a field JSON cannot encode and Gob leaves out.
type chanError struct {
	Code int
	C    chan int
}

func (e *chanError) Error() string { return fmt.Sprintf("chan %d", e.Code) }

// onlyChanError has nothing Gob can encode.
type onlyChanError struct{ C chan int }

func (e *onlyChanError) Error() string { return "only a chan" }

// emptyError has no fields; nilError reads its receiver.
type emptyError struct{}

func (*emptyError) Error() string { return "empty" }

type nilError struct{ msg string }

func (e *nilError) Error() string { return e.msg }

// sliceError is not comparable.
type sliceError struct{ Items []string }

func (e sliceError) Error() string { return fmt.Sprint(e.Items) }

// panicky panics in every method.
type panicky struct{}

func (panicky) Error() string        { panic("Error panicked") }
func (panicky) Unwrap() error        { panic("Unwrap panicked") }
func (panicky) Is(target error) bool { panic("Is panicked") }

// asCodeError is not registered; its As method gives a *codeError.
type asCodeError struct{ code int }

func (e asCodeError) Error() string { return "as code" }
func (e asCodeError) As(target any) bool {
	p, ok := target.(**codeError)
	if ok {
		*p = &codeError{Code: e.code}
	}
	return ok
}

// loop wraps itself and errX.
type loop struct{}

func (l *loop) Error() string   { return "loop" }
func (l *loop) Unwrap() []error { return []error{l, errX} }

// isX matches errX with its Is method, as syscall.Errno matches
// fs.ErrNotExist.
type isX struct{}

func (isX) Error() string        { return "is X" }
func (isX) Is(target error) bool { return target == errX }

func init() {
	Register(errX, errY, errSame, &codeError{}, valError{}, &causeError{}, &chanError{}, &onlyChanError{},
		&emptyError{}, sliceError{})
}

// remote is the Opaque of the tests.
type remote struct {
	typ, msg   string
	is, as, ws []error
}

func (r *remote) Error() string   { return r.msg }
func (r *remote) Unwrap() []error { return r.ws }
func (r *remote) As(target any) bool {
	t := reflect.ValueOf(target).Elem()
	for _, a := range r.as {
		if v := reflect.ValueOf(a); v.Type().AssignableTo(t.Type()) {
			t.Set(v)
			return true
		}
	}
	return false
}
func (r *remote) Is(t error) bool {
	for _, s := range r.is {
		if s == t {
			return true
		}
	}
	return false
}

func opaque(typ, msg string, is, as, ws []error) error { return &remote{typ, msg, is, as, ws} }

// cross returns err as the parent rebuilds it from the tree the worker
// sends, with registries rw in the worker and rp in the parent.
func cross(t *testing.T, rw, rp *registry, err error, c value.Codec) error {
	t.Helper()
	b := appendTree(rw, nil, err, c)
	if len(b) == 0 {
		return &remote{typ: fmt.Sprintf("%T", err), msg: Text(err)}
	}
	n, perr := wire.ParseErrTree(b)
	require.NoError(t, perr)
	n.Type, n.Message = fmt.Sprintf("%T", err), Text(err)
	got, registered := rebuild(rp, n, c, opaque)
	if !registered {
		return got
	}
	return &remote{typ: n.Type, msg: n.Message, ws: []error{got}}
}

func TestErrorsIsAndAsSeeTheSameThroughTheTree(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}
	var ce *codeError
	var ve valError
	var cause *causeError
	type check struct {
		name string
		ok   func(error) bool
	}
	is := func(target error) check {
		return check{"Is " + target.Error(), func(err error) bool { return errors.Is(err, target) }}
	}
	asCode := check{"As *codeError", func(err error) bool { return errors.As(err, &ce) && ce.Code == 7 }}
	asVal := check{"As valError", func(err error) bool { return errors.As(err, &ve) && ve.Name == "v" }}
	asCause := check{"As *causeError", func(err error) bool { return errors.As(err, &cause) && cause.Op == "read" && cause.Err != nil }}
	for _, tc := range []struct {
		name   string
		err    error
		checks []check
	}{
		{"a sentinel", errX, []check{is(errX), is(errY)}},
		{"a wrapped sentinel", fmt.Errorf("a: %w", fmt.Errorf("b: %w", errX)), []check{is(errX), is(errY)}},
		{"two %w", fmt.Errorf("%w and %w", errX, errY), []check{is(errX), is(errY), is(io.EOF)}},
		{"Join of wrapped", errors.Join(fmt.Errorf("a: %w", errY), io.EOF), []check{is(errX), is(errY), is(io.EOF)}},
		{"same type and text", fmt.Errorf("w: %w", errSame), []check{is(errX), is(errSame)}},
		{"an Is method", fmt.Errorf("w: %w", pathErr), []check{is(fs.ErrNotExist), is(fs.ErrExist)}},
		{"Is beneath a value", &causeError{Op: "read", Err: isX{}}, []check{is(errX), asCause}},
		{"a pointer type", fmt.Errorf("w: %w", &codeError{Code: 7}), []check{asCode, is(errX)}},
		{"a value type", errors.Join(io.EOF, valError{Name: "v"}), []check{asVal, is(io.EOF)}},
		{"a field of type error", fmt.Errorf("w: %w", &causeError{Op: "read", Err: fmt.Errorf("x: %w", errors.Join(errY, &codeError{Code: 7}))}),
			[]check{asCause, is(errY), asCode, is(errX)}},
		{"a type with a chan", fmt.Errorf("w: %w", &chanError{Code: 3}), []check{is(errX)}},
		{"unregistered", errors.New("nothing"), []check{is(errX)}},
		{"an As method", fmt.Errorf("w: %w", asCodeError{code: 7}), []check{asCode, asVal, is(errX)}},
		{"a value type as a pointer", fmt.Errorf("w: %w", &valError{Name: "v"}), []check{asVal, {"As *valError", func(err error) bool {
			var p *valError
			return errors.As(err, &p) && p.Name == "v"
		}}}},
	} {
		for _, c := range []value.Codec{value.Gob, value.JSON} {
			t.Run(tc.name+"/"+c.Name(), func(t *testing.T) {
				got := cross(t, current(), current(), tc.err, c)
				for _, ch := range tc.checks {
					assert.Equal(t, ch.ok(tc.err), ch.ok(got), ch.name)
				}
			})
		}
	}
}

func TestValuesCrossWithTheirFields(t *testing.T) {
	got := cross(t, current(), current(), fmt.Errorf("w: %w", &causeError{Op: "read", Err: &codeError{Code: 9}}), value.Gob)
	var cause *causeError
	require.ErrorAs(t, got, &cause)
	assert.Equal(t, "read", cause.Op)
	var ce *codeError
	require.ErrorAs(t, cause.Err, &ce, "the field holds the rebuilt error")
	assert.Equal(t, 9, ce.Code)
	assert.Equal(t, "read: code 9", cause.Error())

	// A type whose value the codec cannot encode crosses as text.
	for _, tc := range []struct {
		err error
		c   value.Codec
	}{{&chanError{Code: 3, C: make(chan int)}, value.JSON}, {&onlyChanError{C: make(chan int)}, value.Gob}} {
		got = cross(t, current(), current(), errors.Join(errX, tc.err), tc.c)
		assert.ErrorIs(t, got, errX)
		r := got.(*remote)
		require.Len(t, r.ws, 2, "%s", tc.c.Name())
		assert.Equal(t, fmt.Sprintf("%T", tc.err), r.ws[1].(*remote).typ)
		assert.Equal(t, tc.err.Error(), r.ws[1].(*remote).msg)
	}

	// Gob leaves a chan field out.
	var che *chanError
	require.ErrorAs(t, cross(t, current(), current(), &chanError{Code: 3, C: make(chan int)}, value.Gob), &che)
	assert.Equal(t, 3, che.Code)
	assert.Nil(t, che.C)

	// A zero value, a type without fields and an uncomparable type.
	var ee *emptyError
	assert.ErrorAs(t, cross(t, current(), current(), &emptyError{}, value.Gob), &ee)
	var se sliceError
	require.ErrorAs(t, cross(t, current(), current(), sliceError{Items: []string{"a"}}, value.Gob), &se)
	assert.Equal(t, []string{"a"}, se.Items)
}

func TestTypedNilAndPanickingMethods(t *testing.T) {
	// A nil pointer of a registered type crosses as one.
	got := cross(t, current(), current(), fmt.Errorf("w: %w", error((*codeError)(nil))), value.Gob)
	ce := &codeError{Code: 1}
	require.ErrorAs(t, got, &ce)
	assert.Nil(t, ce)

	// One of an unregistered type whose Error reads it, and an error
	// whose every method panics, cross as text.
	for _, err := range []error{(*nilError)(nil), panicky{}, fmt.Errorf("w: %w", panicky{})} {
		assert.Contains(t, Text(err), "panicked")
		got := cross(t, current(), current(), err, value.Gob)
		assert.False(t, errors.Is(got, errX))
	}
}

// TestRegisteredOnOneSideOnly: what the parent or the worker has not
// registered crosses as an opaque error with its type and text.
func TestRegisteredOnOneSideOnly(t *testing.T) {
	none := clone(nil)
	err := fmt.Errorf("w: %w", errors.Join(errX, &codeError{Code: 2}, fs.ErrNotExist))
	std := clone(nil).add("std", []error{fs.ErrNotExist})
	for name, sides := range map[string][2]*registry{"worker": {std, current()}, "parent": {current(), std}} {
		t.Run("not in the "+name, func(t *testing.T) {
			got := cross(t, sides[0], sides[1], err, value.Gob)
			assert.False(t, errors.Is(got, errX))
			var ce *codeError
			assert.False(t, errors.As(got, &ce))
			assert.True(t, errors.Is(got, fs.ErrNotExist))
			var r *remote
			require.ErrorAs(t, got, &r)
			join := r.ws[0].(*remote)
			require.Len(t, join.ws, 3)
			assert.Equal(t, [2]string{"*errors.errorString", errX.Error()}, [2]string{join.ws[0].(*remote).typ, join.ws[0].(*remote).msg})
			assert.Equal(t, [2]string{"*errtree.codeError", "code 2"}, [2]string{join.ws[1].(*remote).typ, join.ws[1].(*remote).msg})
		})
	}
	assert.Empty(t, appendTree(none, nil, err, value.Gob), "nothing registered, nothing to send beyond the text")
}

// TestTreesAreBounded: deep chains, wide joins and loops make trees within
// the bounds, and a registered sentinel beyond them still matches.
func TestTreesAreBounded(t *testing.T) {
	deep := error(errX)
	for i := range 20000 {
		deep = fmt.Errorf("%d: %w", i%10, deep)
	}
	wide := make([]error, 5000)
	for i := range wide {
		wide[i] = fmt.Errorf("w%d", i)
	}
	wide = append(wide, errY)
	big := error(errX)
	for range 40 {
		big = fmt.Errorf("%s: %w", make([]byte, 16<<10), big)
	}
	for name, tc := range map[string]struct {
		err    error
		target error
	}{"deep": {deep, errX}, "wide": {errors.Join(wide...), errY}, "big": {big, errX}, "loop": {&loop{}, errX}} {
		t.Run(name, func(t *testing.T) {
			b := appendTree(current(), nil, tc.err, value.Gob)
			require.NotEmpty(t, b)
			assert.Less(t, len(b), 4*maxTreeBytes)
			n, err := wire.ParseErrTree(b)
			require.NoError(t, err, "the parent accepts what the worker sends")
			got, _ := rebuild(current(), n, value.Gob, opaque)
			assert.True(t, errors.Is(got, tc.target), "the sentinel is lost")
		})
	}
}

func TestRegister(t *testing.T) {
	assert.PanicsWithValue(t, "futures: RegisterError(nil): pass a non-nil error, such as a sentinel var ErrX = errors.New(...) or a value of an error type, &MyError{}",
		func() { Register(io.EOF, nil) })
	fresh := errors.New("fresh")
	assert.Panics(t, func() { Register(fresh, nil) })
	r := current()
	_, found, _ := r.sentinelKey(fresh)
	assert.False(t, found, "a registration that panics registers nothing")

	// A value whose Error method panics registers its type only (init
	// registered &causeError{}).
	_, found, _ = r.sentinelKey(&causeError{})
	assert.False(t, found)
	assert.Contains(t, r.typeKey, reflect.TypeFor[*causeError]())

	Register(io.EOF, errX, &codeError{Code: 5}, os.ErrDeadlineExceeded) // again: nothing changes but the new sentinel
	r2 := current()
	assert.Equal(t, len(r.list)+1, len(r2.list))
	assert.Equal(t, r.typeKey, r2.typeKey)
	keyX, _, _ := r2.sentinelKey(errX)
	key, _, _ := r2.sentinelKey(errSame)
	assert.NotEqual(t, keyX, key, "sentinels of the same type and text have keys of their own")
	assert.True(t, strings.HasSuffix(key, ":*errors.errorString:errtree test: X"), key)
	assert.Equal(t, errSame, r2.sentinel(key))
	assert.Equal(t, errX, r2.sentinel(keyX))
	_, ok := r2.typeKey[reflect.TypeOf(errX)]
	assert.False(t, ok, "the type of errors.New does not cross as a value")
}

// TestRegisterWhileCrossing registers errors while others cross, for the
// race detector.
func TestRegisterWhileCrossing(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			Register(fmt.Errorf("dynamic %d", i))
		}
	}()
	for range 200 {
		b := Append(nil, fmt.Errorf("w: %w", errX), value.Gob)
		n, err := wire.ParseErrTree(b)
		require.NoError(t, err)
		got, _ := Rebuild(n, value.Gob, opaque)
		assert.ErrorIs(t, got, errX)
	}
	<-done
}
