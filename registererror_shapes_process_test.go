//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// shapeValError has value receivers and is registered as a value,
// shapePtrValError has value receivers and is registered as a pointer.
type shapeValError struct{ Name string }

func (e shapeValError) Error() string { return "val " + e.Name }

type shapePtrValError struct{ Name string }

func (e shapePtrValError) Error() string { return "ptrval " + e.Name }

// shapeAsError is not registered; its As method answers for
// *procCodeError, as some wrappers of foreign errors do.
type shapeAsError struct{ code int }

func (e *shapeAsError) Error() string { return "as" }
func (e *shapeAsError) As(target any) bool {
	if p, ok := target.(**procCodeError); ok {
		*p = &procCodeError{Code: e.code}
		return true
	}
	return false
}

// shapeNilsError unwraps to nils around a sentinel.
type shapeNilsError struct{}

func (shapeNilsError) Error() string   { return "nils" }
func (shapeNilsError) Unwrap() []error { return []error{nil, errProcX, nil} }

// shapeSecretError is registered; its unexported field is left behind.
type shapeSecretError struct {
	Code   int
	secret string
}

func (e *shapeSecretError) Error() string { return fmt.Sprint("secret ", e.Code, e.secret) }

func init() {
	futures.RegisterError(shapeValError{}, &shapePtrValError{}, &shapeSecretError{})
	futures.Register(shapeFailWith)
}

// deepValue wraps a registered value holding errProcX in its error field
// at the bottom of a %w chain of n wrappers.
func deepValue(n int) error {
	err := error(&procCauseError{Op: "bottom", Err: errProcX})
	for range n {
		err = fmt.Errorf("w: %w", err)
	}
	return err
}

// shapeErrors are the errors shapeFailWith returns, by index.
var shapeErrors = []struct {
	name string
	err  func() error
}{
	{"a value type returned as a pointer", func() error { return fmt.Errorf("w: %w", &shapeValError{Name: "p"}) }},
	{"a value type returned as a value", func() error { return fmt.Errorf("w: %w", shapeValError{Name: "v"}) }},
	{"a pointer-registered value type returned as a value", func() error { return fmt.Errorf("w: %w", shapePtrValError{Name: "v"}) }},
	{"an As method", func() error { return fmt.Errorf("w: %w", &shapeAsError{code: 9}) }},
	{"Unwrap returning nils", func() error { return shapeNilsError{} }},
	{"Join with nils", func() error { return errors.Join(nil, errProcX, nil) }},
	{"%w of a nil", func() error { return fmt.Errorf("w: %w", nil) }},
	{"an unexported field", func() error { return &shapeSecretError{Code: 4, secret: "s"} }},
	{"a wrapped typed nil of a value type", func() error { return fmt.Errorf("w: %w", (*shapeValError)(nil)) }},
	{"an *os.SyscallError", func() error { return fmt.Errorf("w: %w", os.NewSyscallError("open", syscall.ENOENT)) }},
	{"a *net.OpError", func() error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("t: %w", os.ErrDeadlineExceeded)}
	}},
	{"a context cause", func() error {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(fmt.Errorf("why: %w", errProcX))
		return fmt.Errorf("%w: %w", ctx.Err(), context.Cause(ctx))
	}},
	{"Join of Joins", func() error {
		return errors.Join(errors.Join(io.EOF, nil), errors.Join(&shapeValError{Name: "j"}, fs.ErrExist))
	}},
}

func shapeFailWith(_ context.Context, i int) (int, error) { return 0, shapeErrors[i].err() }

// shapeAnswers extends answers with the errors of this file.
func shapeAnswers(err error) map[string]string {
	a := answers(err)
	for name, target := range map[string]error{"Exist": fs.ErrExist, "os.DeadlineExceeded": os.ErrDeadlineExceeded} {
		a["Is "+name] = fmt.Sprint(errors.Is(err, target))
	}
	var v shapeValError
	a["As shapeValError"] = fmt.Sprint(errors.As(err, &v), v)
	var vp *shapeValError
	a["As *shapeValError"] = fmt.Sprint(errors.As(err, &vp), vp != nil)
	var pv shapePtrValError
	a["As shapePtrValError"] = fmt.Sprint(errors.As(err, &pv), pv)
	var pvp *shapePtrValError
	a["As *shapePtrValError"] = fmt.Sprint(errors.As(err, &pvp), pvp != nil)
	var se *shapeSecretError
	a["As *shapeSecretError"] = fmt.Sprint(errors.As(err, &se))
	if se != nil {
		a["As *shapeSecretError"] = fmt.Sprint(se.Code)
	}
	var ca *procCauseError
	if errors.As(err, &ca) {
		a["As *procCauseError"] = fmt.Sprint(ca.Op, errors.Is(ca.Err, errProcX))
	}
	return a
}

// TestRegisterErrorShapesAnswerAsAGoroutine: for errors of every shape
// (value and pointer forms of registered types, As methods, nils among
// wrapped errors, unexported fields, standard library errors, context
// causes, a value deeper than a tree carries), errors.Is and errors.As
// give on a ProcessPool the answers they give on a ThreadPool.
func TestRegisterErrorShapesAnswerAsAGoroutine(t *testing.T) {
	tp, err := futures.NewThreadPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	defer tp.Close()
	pp := newProcPool(t, futures.MaxWorkers(1))
	for i, tc := range shapeErrors {
		t.Run(tc.name, func(t *testing.T) {
			_, terr := futures.Submit(tp, shapeFailWith, i).Result(bg)
			_, perr := futures.Submit(pp, shapeFailWith, i).Result(bg)
			require.Error(t, perr)
			assert.Equal(t, shapeAnswers(terr), shapeAnswers(perr))
		})
	}
}

// TestRegisterErrorDeepValue: a registered sentinel wrapped deeper than a
// tree carries still matches, a value that deep does not cross, and a
// value on the last level the tree carries crosses if its error fields fit
// or else does not, the sentinels they wrap still matching.
func TestRegisterErrorDeepValue(t *testing.T) {
	pp := newProcPool(t, futures.MaxWorkers(1))
	for _, n := range []int{100, 64, 63, 62} {
		_, err := futures.Submit(pp, shapeDeepValue, n).Result(bg)
		assert.ErrorIs(t, err, errProcX, "%d wrappers", n)
		var ca *procCauseError
		assert.Equal(t, n < 63, errors.As(err, &ca), "%d wrappers", n)
	}
}

func shapeDeepValue(_ context.Context, n int) (int, error) { return 0, deepValue(n) }

func init() { futures.Register(shapeDeepValue) }

// TestRegisterErrorPanicNil: panic(nil) is a *runtime.PanicNilError, as
// on a ThreadPool.
func TestRegisterErrorPanicNil(t *testing.T) {
	tp, err := futures.NewThreadPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	defer tp.Close()
	pp := newProcPool(t, futures.MaxWorkers(1))
	for _, ex := range []futures.Executor{tp, pp} {
		_, err := futures.Go(ex, shapePanicNil).Result(bg)
		var pe *futures.PanicError
		require.ErrorAs(t, err, &pe)
		var pne *runtime.PanicNilError
		assert.ErrorAs(t, err, &pne, "%T", ex)
	}
}

func shapePanicNil(context.Context) (int, error) { panic(nil) }

func init() { futures.Register(shapePanicNil) }

// shapeBig is what shapeBigFailure fails with, by index: a panic with a
// string, an error of a registered type holding it, a panic with it, and
// a panic with and an error of a text longer than a frame.
func shapeBigFailure(_ context.Context, i int) (int, error) {
	s := strings.Repeat("x", shapeBigSize)
	switch i {
	case 0:
		panic(s)
	case 1:
		return 0, fmt.Errorf("w: %w", &procCauseError{Op: s, Err: errProcX})
	case 3:
		panic(s + s + s)
	case 4:
		return 0, errors.New(s + s + s)
	default:
		panic(&procCauseError{Op: s, Err: errProcX})
	}
}

const shapeBigSize = 40 << 10

func init() { futures.Register(shapeBigFailure) }

// TestRegisterErrorBigFailures: a failure whose text and value together
// exceed a frame, though each fits, is the call's error, never a killed
// worker; what does not fit crosses as text, and a text longer than a
// frame is cut short.
func TestRegisterErrorBigFailures(t *testing.T) {
	const limit = 64 << 10
	lowerMaxFrame(t, limit)
	t.Setenv(workerMaxFrame, strconv.Itoa(limit))
	pp := newProcPool(t, futures.MaxWorkers(1))
	for i := range 5 {
		_, err := futures.Submit(pp, shapeBigFailure, i).Result(bg)
		require.Error(t, err)
		require.NotErrorIs(t, err, futures.ErrWorkerExited, "case %d", i)
		if i == 0 {
			var pe *futures.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Len(t, fmt.Sprint(pe.Value), shapeBigSize)
		}
		if i == 3 {
			var pe *futures.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Less(t, len(fmt.Sprint(pe.Value)), limit)
			assert.True(t, strings.HasSuffix(fmt.Sprint(pe.Value), "…"))
		}
		if i == 4 {
			var re *futures.RemoteError
			require.ErrorAs(t, err, &re)
			assert.Less(t, len(re.Message), limit)
			assert.True(t, strings.HasSuffix(re.Message, "…"))
		}
	}
}

// TestRegisterErrorMapItems: through Map, ordered or not, in chunks or
// not, each item's error answers errors.Is and errors.As as the same
// item's on a ThreadPool.
func TestRegisterErrorMapItems(t *testing.T) {
	tp, err := futures.NewThreadPool(futures.MaxWorkers(2))
	require.NoError(t, err)
	defer tp.Close()
	pp := newProcPool(t, futures.MaxWorkers(2))
	var items []int
	for range 3 {
		for i := range shapeErrors {
			items = append(items, i)
		}
	}
	run := func(ex futures.Executor, opts ...futures.MapOption) []string {
		var got []string
		for _, err := range futures.Map(bg, ex, shapeFailWith, slices.Values(items), opts...) {
			require.Error(t, err)
			got = append(got, fmt.Sprint(shapeAnswers(err)))
		}
		return got
	}
	want := run(tp)
	for _, opts := range [][]futures.MapOption{nil, {futures.Chunksize(5)}, {futures.Chunksize(len(items))}} {
		assert.Equal(t, want, run(pp, opts...))
	}
	for _, opts := range [][]futures.MapOption{{futures.Unordered()}, {futures.Unordered(), futures.Chunksize(4)}} {
		got := run(pp, opts...)
		slices.Sort(got)
		assert.Equal(t, slices.Sorted(slices.Values(want)), got)
	}
}

// shapeOwnErrors returns the errors the package's own executors and
// promises return: a submission after Close and a promise completed twice.
func shapeOwnErrors(ctx context.Context) (int, error) {
	tp, err := futures.NewThreadPool(futures.MaxWorkers(1))
	if err != nil {
		return 0, err
	}
	tp.Close()
	_, shut := futures.Go(tp, procPid).Result(ctx)
	p := futures.NewPromise[int]()
	_ = p.SetResult(1)
	return 0, errors.Join(shut, p.SetResult(2))
}

func init() { futures.Register(shapeOwnErrors) }

// TestRegisterErrorOwnSentinels: the errors of the package's own sentinels
// that a call returns match them in the parent as on a ThreadPool.
func TestRegisterErrorOwnSentinels(t *testing.T) {
	tp, err := futures.NewThreadPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	defer tp.Close()
	pp := newProcPool(t, futures.MaxWorkers(1))
	_, terr := futures.Go(tp, shapeOwnErrors).Result(bg)
	_, perr := futures.Go(pp, shapeOwnErrors).Result(bg)
	for _, target := range []error{futures.ErrShutdown, futures.ErrInvalidState, futures.ErrBrokenExecutor, futures.ErrNotRegistered,
		futures.ErrWorkerExited, futures.ErrDeadlock, futures.ErrCancelled, futures.ErrTimeout} {
		assert.Equal(t, errors.Is(terr, target), errors.Is(perr, target), "%v", target)
	}
	assert.ErrorIs(t, terr, futures.ErrShutdown)
	assert.ErrorIs(t, terr, futures.ErrInvalidState)
}

// shapeHiddenCauseError is registered; its cause is in an unexported
// field, which no codec carries, and its Unwrap returns it.
type shapeHiddenCauseError struct {
	Code  int
	cause error
}

func (e *shapeHiddenCauseError) Error() string { return fmt.Sprint("hidden ", e.Code) }
func (e *shapeHiddenCauseError) Unwrap() error { return e.cause }

func init() {
	futures.RegisterError(&shapeHiddenCauseError{})
	futures.Register(shapeHiddenCause)
}

func shapeHiddenCause(context.Context) (int, error) {
	return 0, fmt.Errorf("w: %w", &shapeHiddenCauseError{Code: 3, cause: fmt.Errorf("c: %w", io.ErrUnexpectedEOF)})
}

// TestRegisterErrorHiddenCause: a value of a registered type whose Unwrap
// returns an error the codec does not carry crosses with its exported
// fields, and the sentinels its Unwrap gave still match.
func TestRegisterErrorHiddenCause(t *testing.T) {
	pp := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Go(pp, shapeHiddenCause).Result(bg)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	var he *shapeHiddenCauseError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 3, he.Code)
}

// shapeGoexitError calls runtime.Goexit in the method its field names, as
// a t.FailNow in an error's method would.
type shapeGoexitError struct{ In string }

func (e *shapeGoexitError) Error() string { return "goexit in " + e.In }
func (e *shapeGoexitError) As(any) bool {
	if e.In == "As" {
		runtime.Goexit()
	}
	return false
}
func (e *shapeGoexitError) Unwrap() error {
	if e.In == "Unwrap" {
		runtime.Goexit()
	}
	return nil
}
func (e *shapeGoexitError) Is(error) bool {
	if e.In == "Is" {
		runtime.Goexit()
	}
	return false
}

func shapeGoexitIn(_ context.Context, in string) (int, error) {
	return 0, fmt.Errorf("w: %w", &shapeGoexitError{In: in})
}

func init() { futures.Register(shapeGoexitIn) }

// TestRegisterErrorGoexitInMethods: an error whose As, Unwrap or Is method
// calls runtime.Goexit while the worker builds its tree fails the call,
// never the worker, and the worker goes on.
func TestRegisterErrorGoexitInMethods(t *testing.T) {
	pp := newProcPool(t, futures.MaxWorkers(1))
	pid, err := futures.Go(pp, procPid).Result(bg)
	require.NoError(t, err)
	for _, in := range []string{"As", "Unwrap", "Is"} {
		_, err := futures.Submit(pp, shapeGoexitIn, in).Result(bg)
		require.Error(t, err, in)
		assert.NotErrorIs(t, err, futures.ErrWorkerExited, in)
	}
	again, err := futures.Go(pp, procPid).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, pid, again)
}
