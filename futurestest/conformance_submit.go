package futurestest

import (
	"errors"
	"strings"

	"github.com/gofutures/futures"
)

// checkSubmitValues: Submit's futures finish with the call's result.
func checkSubmitValues(s *suite) {
	fs := make([]*futures.Future[int], 10)
	for i := range fs {
		fs[i] = futures.Submit(s.ex, square, i)
	}
	for i, f := range fs {
		v, err := result(s, "Submit(square)", f)
		if v != i*i || err != nil {
			s.t.Errorf("Submit(square, %d): Result() = %d, %v; want %d, nil", i, v, err, i*i)
		}
		if st := f.State(); st != futures.Finished || f.Err() != nil {
			s.t.Errorf("Submit(square, %d): State() = %v, Err() = %v once done; want finished, nil", i, st, f.Err())
		}
	}
	s.checkStats("after 10 calls")
	s.expect(10, 0, 0)
}

// checkGoValues: Go's futures finish with the call's result.
func checkGoValues(s *suite) {
	for range 3 {
		if v, err := result(s, "Go(answer)", futures.Go(s.ex, answer)); v != theAnswer || err != nil {
			s.t.Errorf("Go(answer): Result() = %d, %v; want %d, nil", v, err, theAnswer)
		}
	}
	s.expect(3, 0, 0)
}

// checkSubmitErrors: a call's error, wrapped, reaches Result with its
// identity (from a worker process, as a *futures.RemoteError with its text
// and type that unwraps to it), and the executor goes on.
func checkSubmitErrors(s *suite) {
	v, err := result(s, "Submit(square, -7)", futures.Submit(s.ex, square, -7))
	if v != 0 {
		s.t.Errorf("Submit(square, -7): Result() = %d with the error, want the zero value", v)
	}
	s.checkCallError("Submit(square, -7)", err, sentinelText(-7), func(err error) bool { return errors.Is(err, errSentinel) })

	_, err = result(s, "Submit(failTyped, 7)", futures.Submit(s.ex, failTyped, 7))
	s.checkCallError("Submit(failTyped, 7)", err, (&itemError{N: 7}).Error(), func(err error) bool {
		var ie *itemError
		return errors.As(err, &ie) && ie.N == 7
	})
	s.checkGoesOn("after calls that failed")
	s.expect(1, 2, 0)
}

// checkCallError checks that err is the error of a call that failed with a
// message containing text: errors.Is and errors.As must see the original
// error, registered with futures.RegisterError (local reports whether they
// do), and a *futures.RemoteError must carry the text and a type name.
func (s *suite) checkCallError(what string, err error, text string, local func(error) bool) {
	s.t.Helper()
	if err == nil {
		s.t.Errorf("%s: Result() returned no error; want the call's error %q", what, text)
		return
	}
	if !strings.Contains(err.Error(), text) {
		s.t.Errorf("%s: the error %q does not contain the call's message %q", what, err, text)
	}
	var remote *futures.RemoteError
	if errors.As(err, &remote) {
		if !strings.Contains(remote.Message, text) || remote.Type == "" {
			s.t.Errorf("%s: RemoteError{Type: %q, Message: %q}; want the original type and a message containing %q", what, remote.Type, remote.Message, text)
		}
	}
	if !local(err) {
		s.t.Errorf("%s: errors.Is/errors.As do not see the call's own error through %q (%T); a call's error must be returned as it was", what, err, err)
	}
}

// checkSubmitPanic: a panic becomes a *futures.PanicError with the value and
// a stack, and the executor goes on.
func checkSubmitPanic(s *suite) {
	_, err := result(s, "Submit(panics, 3)", futures.Submit(s.ex, panics, 3))
	var pe *futures.PanicError
	switch {
	case !errors.As(err, &pe):
		s.t.Errorf("Submit(panics, 3): Result() error %v (%T), want a *futures.PanicError", err, err)
	case pe.Value != panicValue(3) || len(pe.Stack) == 0:
		s.t.Errorf("PanicError{Value: %#v, %d bytes of Stack}; want Value %q and the stack", pe.Value, len(pe.Stack), panicValue(3))
	}
	s.checkGoesOn("after a call panicked")
	s.expect(1, 1, 0)
}

// checkSubmitGoexit: a call that calls runtime.Goexit finishes its future
// with an error that is not a panic, and the executor goes on. Submit is
// called from a goroutine of its own: an executor that runs the call in the
// submitting goroutine ends that goroutine, and then only goes on is
// checked.
func checkSubmitGoexit(s *suite) {
	got := make(chan *futures.Future[int], 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		got <- futures.Submit(s.ex, goexit, 1)
	}()
	<-exited
	select {
	case f := <-got:
		_, err := result(s, "Submit(goexit, 1)", f)
		var pe *futures.PanicError
		if err == nil || errors.As(err, &pe) || f.State() != futures.Finished {
			s.t.Errorf("Submit(goexit, 1): State() %v, Result() error %v; want finished with an error that is not a *futures.PanicError", f.State(), err)
		}
		s.expect(1, 1, 0)
	default:
		s.t.Log("runtime.Goexit in the call ended the goroutine that called Submit: the executor runs calls in the submitting goroutine")
	}
	s.checkGoesOn("after a call called runtime.Goexit")
}

// checkGoesOn checks that the executor still runs a call.
func (s *suite) checkGoesOn(when string) {
	s.t.Helper()
	if v, err := result(s, "Submit(square, 5)", futures.Submit(s.ex, square, 5)); v != 25 || err != nil {
		s.t.Errorf("%s: Submit(square, 5): Result() = %d, %v; want 25, nil", when, v, err)
	}
}
