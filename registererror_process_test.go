//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// errProcX is a sentinel registered with RegisterError.
var errProcX = errors.New("futures test: X")

// procCodeError is a registered error type; procCauseError one with a
// cause in an exported field; procChanError one that JSON cannot encode.
type procCodeError struct{ Code int }

func (e *procCodeError) Error() string { return fmt.Sprintf("code %d", e.Code) }

type procCauseError struct {
	Op  string
	Err error
}

func (e *procCauseError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *procCauseError) Unwrap() error { return e.Err }

type procChanError struct {
	Code int
	C    chan int
}

func (e *procChanError) Error() string { return fmt.Sprintf("chan %d", e.Code) }

// procBadError panics in Error; procLoopError wraps itself.
type procBadError struct{}

func (procBadError) Error() string { panic("Error panicked") }

type procLoopError struct{}

func (e *procLoopError) Error() string   { return "loop" }
func (e *procLoopError) Unwrap() []error { return []error{e, errProcX} }

// procPoint is a panic value registered with gob.
type procPoint struct{ X, Y int }

func init() {
	futures.RegisterError(errProcX, &procCodeError{}, &procCauseError{}, &procChanError{})
	gob.Register(procPoint{})
	futures.Register(procFailWith, procPanicWith, procInitFailX)
}

// procInitFailX is an Initializer that fails with a registered error.
func procInitFailX(context.Context) error {
	return fmt.Errorf("init: %w", &procCauseError{Op: "connect", Err: errProcX})
}

// TestRegisterErrorInitializer: the error of a failed Initializer, the
// cause of the pool's ErrBrokenExecutor, keeps the registered errors too.
func TestRegisterErrorInitializer(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.Initializer(procInitFailX))
	_, err := futures.Submit(p, procFailWith, 0).Result(bg)
	require.ErrorIs(t, err, futures.ErrBrokenExecutor)
	assert.ErrorIs(t, err, errProcX)
	var ce *procCauseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "connect", ce.Op)
}

// procErrors are the errors procFailWith returns, by index.
var procErrors = []struct {
	name string
	err  func() error
}{
	{"a sentinel", func() error { return errProcX }},
	{"a %w chain", func() error { return fmt.Errorf("a: %w", fmt.Errorf("b: %w", errProcX)) }},
	{"two %w", func() error { return fmt.Errorf("%w + %w", errProcX, io.EOF) }},
	{"Join", func() error { return errors.Join(fmt.Errorf("j: %w", errProcX), &procCodeError{Code: 7}) }},
	{"a *fs.PathError", func() error { _, err := os.Open("/nonexistent/futures"); return fmt.Errorf("open: %w", err) }},
	{"context errors", func() error { return fmt.Errorf("%w; %w", context.DeadlineExceeded, context.Canceled) }},
	{"futures errors", func() error { return errors.Join(futures.ErrCancelled, fmt.Errorf("t: %w", futures.ErrTimeout)) }},
	{"a cause in a field", func() error {
		return fmt.Errorf("w: %w", &procCauseError{Op: "read", Err: fmt.Errorf("x: %w", io.ErrUnexpectedEOF)})
	}},
	{"unregistered", func() error { return errors.New("plain") }},
	{"Error panics", func() error { return fmt.Errorf("%w, %w", procBadError{}, errProcX) }},
	{"a typed nil", func() error { return fmt.Errorf("w: %w", error((*procCodeError)(nil))) }},
	{"a deep chain", func() error {
		err := error(errProcX)
		for i := range 10000 {
			err = fmt.Errorf("%d: %w", i%10, err)
		}
		return err
	}},
	{"a chan field", func() error { return errors.Join(errProcX, &procChanError{Code: 3, C: make(chan int)}) }},
	{"a loop", func() error { return &procLoopError{} }},
}

func procFailWith(_ context.Context, i int) (int, error) { return 0, procErrors[i].err() }

// answers are what errors.Is and errors.As say about err.
func answers(err error) map[string]string {
	a := map[string]string{}
	for name, target := range map[string]error{"X": errProcX, "EOF": io.EOF, "UnexpectedEOF": io.ErrUnexpectedEOF, "NotExist": fs.ErrNotExist,
		"Canceled": context.Canceled, "DeadlineExceeded": context.DeadlineExceeded, "Cancelled": futures.ErrCancelled, "Timeout": futures.ErrTimeout} {
		a["Is "+name] = fmt.Sprint(errors.Is(err, target))
	}
	var ce *procCodeError
	a["As *procCodeError"] = fmt.Sprint(errors.As(err, &ce))
	if ce != nil {
		a["As *procCodeError"] = fmt.Sprint(ce.Code)
	}
	var ca *procCauseError
	a["As *procCauseError"] = fmt.Sprint(errors.As(err, &ca))
	if ca != nil {
		a["As *procCauseError"] = fmt.Sprint(ca.Op, errors.Is(ca.Err, io.ErrUnexpectedEOF))
	}
	var che *procChanError
	a["As *procChanError"] = fmt.Sprint(errors.As(err, &che))
	return a
}

// TestRegisterErrorSameAnswersAsAGoroutine: errors.Is and errors.As give
// for the error of a call in a worker process the answers they give for the
// same call on a ThreadPool, through %w chains, errors.Join, Is methods and
// fields, with both codecs; the worker survives every error.
func TestRegisterErrorSameAnswersAsAGoroutine(t *testing.T) {
	tp, err := futures.NewThreadPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	defer tp.Close()
	for _, codec := range []futures.Codec{futures.Gob, futures.JSON} {
		t.Run(codec.Name(), func(t *testing.T) {
			pp := newProcPool(t, futures.MaxWorkers(1), futures.Encoding(codec))
			pid, err := futures.Go(pp, procPid).Result(bg)
			require.NoError(t, err)
			for i, tc := range procErrors {
				t.Run(tc.name, func(t *testing.T) {
					_, perr := futures.Submit(pp, procFailWith, i).Result(bg)
					var re *futures.RemoteError
					require.ErrorAs(t, perr, &re)
					assert.NotEmpty(t, re.Stack)
					if tc.name == "a loop" { // errors.Is recurses forever on the original
						assert.True(t, errors.Is(perr, errProcX))
						return
					}
					_, terr := futures.Submit(tp, procFailWith, i).Result(bg)
					want := answers(terr)
					if tc.name == "a chan field" && codec == futures.JSON {
						want["As *procChanError"] = "false" // JSON cannot encode it: it crosses as text
					}
					assert.Equal(t, want, answers(perr))
					assert.Equal(t, fmt.Sprintf("%T", terr), re.Type)
				})
			}
			again, err := futures.Go(pp, procPid).Result(bg)
			require.NoError(t, err)
			assert.Equal(t, pid, again, "the worker survived every error")
		})
	}
}

// TestRegisterErrorUnregisteredStaysPlain: an error that matches nothing
// registered is a *RemoteError that unwraps to nothing, as before.
func TestRegisterErrorUnregisteredStaysPlain(t *testing.T) {
	pp := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(pp, procFailWith, 8).Result(bg)
	re, ok := err.(*futures.RemoteError)
	require.True(t, ok, "%T", err)
	assert.Empty(t, re.Unwrap())
	assert.Equal(t, "*errors.errorString", re.Type)
	assert.Equal(t, "plain", re.Message)

	// An unregistered wrapper of a registered sentinel unwraps to it.
	_, err = futures.Submit(pp, procFailWith, 1).Result(bg)
	re, ok = err.(*futures.RemoteError)
	require.True(t, ok, "%T", err)
	require.Len(t, re.Unwrap(), 1)
	inner, ok := re.Unwrap()[0].(*futures.RemoteError)
	require.True(t, ok, "%T", re.Unwrap()[0])
	assert.Equal(t, "b: futures test: X", inner.Message)
	assert.Equal(t, []error{errProcX}, inner.Unwrap())
}

// procPanics are the values procPanicWith panics with, by index.
var procPanics = []func() any{
	func() any { return errProcX },
	func() any { return 42 },
	func() any { return "text" },
	func() any { return procPoint{1, 2} },
	func() any { return fmt.Errorf("w: %w", &procCodeError{Code: 5}) },
	func() any { return make(chan int) },
}

func procPanicWith(_ context.Context, i int) (int, error) { panic(procPanics[i]()) }

// TestRegisterErrorPanicValues: a panic value crosses as itself when the
// codec carries it, else as its text.
func TestRegisterErrorPanicValues(t *testing.T) {
	for _, codec := range []futures.Codec{futures.Gob, futures.JSON} {
		t.Run(codec.Name(), func(t *testing.T) {
			pp := newProcPool(t, futures.MaxWorkers(1), futures.Encoding(codec))
			for i, v := range procPanics {
				_, err := futures.Submit(pp, procPanicWith, i).Result(bg)
				var pe *futures.PanicError
				require.ErrorAs(t, err, &pe)
				assert.NotEmpty(t, pe.Stack)
				want := v()
				switch {
				case i == 4:
					var ce *procCodeError
					require.ErrorAs(t, err, &ce, "through PanicError.Unwrap")
					assert.Equal(t, 5, ce.Code)
					continue
				case i == 5:
					assert.IsType(t, "", pe.Value, "a chan crosses as its text")
					continue
				case i == 3 && codec == futures.JSON, i == 1 && codec == futures.JSON:
					want = fmt.Sprint(want) // the codec cannot carry it as its own type
				}
				assert.Equal(t, want, pe.Value, "panic %d", i)
				if i == 0 {
					assert.ErrorIs(t, err, errProcX)
				}
			}
		})
	}
}

// procOutcomes are what procOutcome returns, by index: a result, then
// errors that cross without a tree, with a sentinel's and with a value's.
var procOutcomes = []error{nil, fmt.Errorf("item: %w", errors.New("bad")), fmt.Errorf("item: %w", errProcX), fmt.Errorf("item: %w", &procCodeError{Code: 7})}

func procOutcome(_ context.Context, i int) (int, error) { return i, procOutcomes[i] }

func init() { futures.Register(procOutcome) }

// BenchmarkProcessErrors is the round trip of a call that fails, beside
// one that succeeds, on a ProcessPool of one worker.
func BenchmarkProcessErrors(b *testing.B) {
	p := newBenchProcPool(b, 1)
	for i, name := range []string{"none", "unregistered", "sentinel", "value"} {
		b.Run("err="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := futures.Submit(p, procOutcome, i).Result(bg)
				if (err == nil) != (i == 0) {
					b.Fatal(err)
				}
			}
		})
	}
}
