package futures

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/gofutures/futures/internal/registry"
)

// Sentinel errors. Executors, futures, Map, Wait and AsCompleted report
// cancellations, timeouts, refusals and broken executors with errors that
// match one of these with errors.Is, through every wrapper. Other errors are
// a call's own error, *PanicError, the error of a call that called
// runtime.Goexit, *RemoteError, and errors about invalid arguments or
// options; those of this package start with "futures:".
var (
	// ErrCancelled is returned by Future.Result and Future.Err for a future
	// that was cancelled before it ran. Python: CancelledError.
	ErrCancelled = errors.New("futures: the call was cancelled before it ran")

	// ErrTimeout is matched by the error of a wait that ran out of time:
	// Future.Result, Map and AsCompleted when their context's deadline passes,
	// and a call killed by the TaskTimeout option. Such errors also match
	// context.DeadlineExceeded where a context deadline caused them.
	// Python: TimeoutError.
	ErrTimeout = errors.New("futures: timed out")

	// ErrShutdown is the error of a call submitted after Shutdown or Close
	// was called on its executor. Python: RuntimeError("cannot schedule new
	// futures after shutdown").
	ErrShutdown = errors.New("futures: cannot schedule new calls after shutdown; create a new executor")

	// ErrBrokenExecutor is matched by the error of every call an executor
	// can no longer run: after a worker initializer failed, after a worker
	// process could not start, or after Shutdown gave up waiting and stopped
	// the calls still running. The wrapping error carries the cause.
	// Python: BrokenExecutor, BrokenThreadPool, BrokenProcessPool.
	ErrBrokenExecutor = errors.New("futures: the executor is broken and cannot run calls; create a new executor")

	// ErrInvalidState is returned by Promise.SetResult and Promise.SetError
	// when the future is already finished or cancelled.
	// Python: InvalidStateError.
	ErrInvalidState = errors.New("futures: the future is already done")

	// ErrNotRegistered is matched by the error of a call whose function
	// cannot be sent to a worker process because it was not registered with
	// Register or RegisterName. Python: PicklingError.
	ErrNotRegistered = registry.ErrNotRegistered // "futures: function is not registered; call futures.Register(fn) in an init function"

	// ErrWorkerExited is matched by *WorkerExitError: the worker process
	// running the call died before it returned.
	ErrWorkerExited = errors.New("futures: the worker process exited while running the call")

	// ErrDeadlock is matched by the error Future.Result returns, when it is
	// called with the context of a call running on an executor, for a future
	// that can never finish because that same executor has no worker left to
	// run it.
	ErrDeadlock = errors.New("futures: deadlock")
)

// errNilContext is returned where a nil context.Context was passed.
var errNilContext = errors.New("futures: the context is nil; use context.Background()")

// PanicError is the error of a call that panicked. The executor recovered the
// panic; the worker that ran the call goes on serving other calls.
//
// For a process pool, Stack is the worker process's stack, and Value is the
// panic value itself when the pool's codec carries it and it decodes to its
// own type (for Gob, a basic type or one registered with gob.Register): an
// error is rebuilt as a call's error is (see RemoteError and
// RegisterError), and any other value becomes its fmt text; so does a
// value too big for a message from the worker, its text cut short if need
// be.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack trace of the goroutine that panicked, as formatted
	// by runtime/debug.Stack.
	Stack []byte
}

// Error returns the panic value and the first line of the advice; the stack is
// in the Stack field.
func (e *PanicError) Error() string {
	return fmt.Sprintf("futures: the call panicked: %v (the stack is in PanicError.Stack)", e.Value)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RemoteError is an error returned by a call that ran in a worker process:
// the original error's type name and message, the worker's stack where the
// call returned, and the errors registered with RegisterError that the
// original was or wrapped, rebuilt in this process. errors.Is and errors.As
// see those through a RemoteError as they would see them through the
// original in the worker: a registered sentinel the original wrapped (with
// fmt.Errorf's %w, errors.Join or an Unwrap method) or that its Is method
// matched, a value of a registered error type, and one that its As method
// gave. An error the original
// wrapped that is not registered is a RemoteError of its own, with its
// type, message and what it wrapped in turn. An error that is and wraps
// nothing registered is a RemoteError that unwraps to nothing.
type RemoteError struct {
	// Type is the Go type of the original error, such as "*fs.PathError".
	Type string
	// Message is the original error's Error() text, cut short if it is
	// longer than a message from a worker process can carry.
	Message string
	// Stack is where the call ran in the worker, when known.
	Stack string

	is      []error // the registered sentinels the original's Is method matched
	as      []error // the values of registered types the original's As method gave
	wrapped []error // the errors the original is or wraps, rebuilt
}

// Error returns the original message and type.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("futures: call in worker process failed: %s (%s)", e.Message, e.Type)
}

// Unwrap returns the errors the original error was (when it is a
// registered error) or wrapped, rebuilt in this process, for errors.Is and
// errors.As.
func (e *RemoteError) Unwrap() []error { return e.wrapped }

// Is reports whether the Is method of the original error matched target,
// a sentinel registered with RegisterError, in the worker (as
// syscall.ENOENT matches fs.ErrNotExist).
func (e *RemoteError) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

// As sets target to a value of a type registered with RegisterError that
// the As method of the original error gave for that type in the worker,
// and reports whether there was one.
func (e *RemoteError) As(target any) bool {
	t := reflect.ValueOf(target)
	if t.Kind() != reflect.Pointer || t.IsNil() {
		return false
	}
	for _, a := range e.as {
		if v := reflect.ValueOf(a); v.Type().AssignableTo(t.Type().Elem()) {
			t.Elem().Set(v)
			return true
		}
	}
	return false
}

// WorkerExitError is the error of a call whose worker process died while it
// was running: a crash, os.Exit, a kill signal or the OOM killer. It matches
// ErrWorkerExited. Its message says what the pool did then: start a
// replacement, start one once a call needs it, or nothing because it is
// shutting down or broken.
type WorkerExitError struct {
	// PID is the process id the worker had.
	PID int
	// ExitCode is the worker's exit status, or -1 if a signal killed it.
	ExitCode int
	// Signal names the signal that killed the worker ("killed"), or is empty.
	Signal string
	// Stderr is the last few KiB the worker wrote to its standard error.
	Stderr string
	// Reason says why the pool killed the worker, when it did: it sent a
	// malformed message, closed its reply pipe without exiting, took too
	// long to start, or a call overran TaskTimeout. It is empty when the
	// worker died by itself.
	Reason string

	during string // what the worker was doing, if not running the call
	then   string // what the pool did about it, if anything
}

// Error says which worker died and how, followed by the end of its stderr.
func (e *WorkerExitError) Error() string {
	how := fmt.Sprintf("exit code %d", e.ExitCode)
	if e.Signal != "" {
		how = "signal: " + e.Signal
	}
	during := e.during
	if during == "" {
		during = "while running the call"
	}
	msg := fmt.Sprintf("futures: worker process %d exited (%s) %s", e.PID, how, during)
	if e.Reason != "" {
		msg = fmt.Sprintf("futures: worker process %d was killed by its pool because %s (%s) %s", e.PID, e.Reason, how, during)
	}
	if e.then != "" {
		msg += "; " + e.then
	}
	if e.Stderr != "" {
		msg += "; its stderr ended with:\n" + e.Stderr
	}
	return msg
}

// Is reports whether target is ErrWorkerExited.
func (e *WorkerExitError) Is(target error) bool { return target == ErrWorkerExited }

// waitError is the error of a wait that stopped because its context ended.
// It matches the context's error and, besides, sentinel: ErrTimeout when the
// deadline passed, otherwise what the caller chose for a cancellation.
type waitError struct {
	what     string
	sentinel error
	cause    error
}

func (e *waitError) Error() string { return "futures: " + e.what + ": " + e.cause.Error() }

func (e *waitError) Is(target error) bool { return e.sentinel != nil && target == e.sentinel }

func (e *waitError) Unwrap() error { return e.cause }

// stopError describes a wait that stopped because ctx ended. The error
// matches ctx.Err() and the context's cause, and ErrTimeout if the deadline
// passed or onCancel (which may be nil) if ctx was cancelled.
func stopError(what string, ctx context.Context, onCancel error) error {
	sentinel := onCancel
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		sentinel = ErrTimeout
	}
	return &waitError{what: what, sentinel: sentinel, cause: endCause(ctx)}
}

// endCause returns the error of ctx, which has ended, wrapping its cause too
// if that does not match it; context.Canceled if ctx has not ended.
func endCause(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return context.Canceled
	}
	if c := context.Cause(ctx); c != nil && !errors.Is(c, err) {
		return fmt.Errorf("%w (%w)", err, c)
	}
	return err
}

// brokenError is an error matching ErrBrokenExecutor and its cause.
type brokenError struct {
	msg   string
	cause error
}

func (e *brokenError) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

func (e *brokenError) Is(target error) bool { return target == ErrBrokenExecutor }

func (e *brokenError) Unwrap() error { return e.cause }

// deadlockError is the error of a Result that would wait forever.
type deadlockError struct {
	chain string
}

func (e *deadlockError) Error() string {
	return "futures: deadlock: " + e.chain + "; a call that waits on another call of its own pool holds its worker, so give the pool more workers, wait outside the pool, or use a second pool"
}

func (e *deadlockError) Is(target error) bool { return target == ErrDeadlock }

// stateError reports a Promise method called on a done future.
type stateError struct {
	method string
	state  State
}

func (e *stateError) Error() string {
	return "futures: Promise." + e.method + ": the future is already " + e.state.String() + "; a future is completed once"
}

func (e *stateError) Is(target error) bool { return target == ErrInvalidState }

// timeoutError is the error of a call that overran TaskTimeout.
type timeoutError struct {
	fn    string
	limit string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("futures: %s ran longer than TaskTimeout(%s); its worker process was killed and replaced (raise the limit if the call needs more time)", e.fn, e.limit)
}

func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

// notStartedError is the error of a call that an executor did not invoke
// because ctx, its context, had ended when its turn came: it matches
// ErrCancelled, the context's error and its cause.
func notStartedError(ctx context.Context) error {
	return &waitError{what: "the call was not started: its context ended before its turn", sentinel: ErrCancelled, cause: endCause(ctx)}
}
