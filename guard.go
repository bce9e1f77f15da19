package futures

import (
	"runtime/debug"

	"github.com/gofutures/futures/internal/serve"
)

// runGuarded calls body and passes what it returns to settle. A panic in
// body settles with a *PanicError; a runtime.Goexit in body settles with an
// error saying so, then lets the goroutine exit. If before is not nil, it is
// called with the call's error just before settle.
//
// It is the one guard of the user code this package runs: the calls of
// Submit, Go and Map (Future.run, item.runThen), OnDone callbacks
// (Future.runCallbacks) and a ThreadPool's Initializer.
func runGuarded[T any](body func() (T, error), before func(error), settle func(T, error)) {
	returned := false
	defer func() {
		if returned {
			return
		}
		var err error = errGoexit
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
		if before != nil {
			before(err)
		}
		var zero T
		settle(zero, err)
	}()
	v, err := body()
	returned = true
	if before != nil {
		before(err)
	}
	settle(v, err)
}

// errGoexit is the error of a call that called runtime.Goexit, which
// t.FailNow and t.SkipNow do; the worker goroutine was replaced.
var errGoexit = serve.ErrGoexit
