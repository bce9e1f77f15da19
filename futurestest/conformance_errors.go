package futurestest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gofutures/futures"
)

// The errors of the suite are registered with futures.RegisterError, as its
// functions are with futures.Register, so that they keep their identity
// across a worker process.
func init() {
	futures.RegisterError(errSentinel, &itemError{})
	futures.Register(failWrapped, panicsWith)
}

// failWrapped fails with errSentinel and an *itemError for n, wrapped in
// fmt.Errorf (one and two %w) and errors.Join, besides io.EOF and the
// error of opening a file that does not exist, which match sentinels
// registered by default.
func failWrapped(_ context.Context, n int) (int, error) {
	_, notExist := os.Open(filepath.Join(os.TempDir(), "futurestest-does-not-exist", "x"))
	return 0, errors.Join(
		fmt.Errorf("first: %w", fmt.Errorf("second: %w", errSentinel)),
		fmt.Errorf("%w and %w", &itemError{N: n}, io.EOF),
		fmt.Errorf("open: %w", notExist),
	)
}

// panicsWith panics with an *itemError for n, wrapped.
func panicsWith(_ context.Context, n int) (int, error) {
	panic(fmt.Errorf("wrapped: %w", &itemError{N: n}))
}

// checkRegisterError: errors.Is and errors.As see the sentinels and error
// types registered with futures.RegisterError through %w chains and
// errors.Join in a call's error, and through the value of a panic, on
// every executor, whether it runs calls in goroutines or in worker
// processes.
func checkRegisterError(s *suite) {
	_, err := result(s, "Submit(failWrapped, 4)", futures.Submit(s.ex, failWrapped, 4))
	if err == nil {
		s.t.Fatal("Submit(failWrapped, 4): Result() returned no error")
	}
	for _, target := range []error{errSentinel, io.EOF, fs.ErrNotExist} {
		if !errors.Is(err, target) {
			s.t.Errorf("Submit(failWrapped, 4): errors.Is(%q, %q) is false; a registered sentinel must be found through %%w and errors.Join", err, target)
		}
	}
	var ie *itemError
	if !errors.As(err, &ie) || ie.N != 4 {
		s.t.Errorf("Submit(failWrapped, 4): errors.As(%q, *itemError) = %v, %+v; want true with N 4", err, ie != nil, ie)
	}
	if errors.Is(err, futures.ErrCancelled) || errors.Is(err, io.ErrUnexpectedEOF) {
		s.t.Errorf("Submit(failWrapped, 4): %q matches a sentinel it does not wrap", err)
	}

	_, err = result(s, "Submit(panicsWith, 6)", futures.Submit(s.ex, panicsWith, 6))
	var pe *futures.PanicError
	ie = nil
	switch {
	case !errors.As(err, &pe):
		s.t.Errorf("Submit(panicsWith, 6): Result() error %v (%T), want a *futures.PanicError", err, err)
	case !errors.As(err, &ie) || ie.N != 6:
		s.t.Errorf("Submit(panicsWith, 6): errors.As(%q, *itemError) = %v, %+v; want true with N 6 through PanicError.Unwrap", err, ie != nil, ie)
	default:
		if v, ok := pe.Value.(error); !ok || !errors.As(v, &ie) {
			s.t.Errorf("Submit(panicsWith, 6): PanicError.Value is a %T; want the error the call panicked with", pe.Value)
		}
	}
	s.checkGoesOn("after calls that failed with registered errors")
	s.expect(1, 2, 0)
}
