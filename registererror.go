package futures

import (
	"github.com/gofutures/futures/internal/errtree"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// RegisterError makes errors keep their identity across a worker process,
// so that errors.Is and errors.As give for a call's error on a ProcessPool
// the answers they give on a ThreadPool. Each of errs is
//
//   - a sentinel, such as var ErrX = errors.New("..."): an error the call
//     returns, wraps or panics with that is ErrX itself is ErrX again in
//     the parent, so errors.Is(err, ErrX) holds; and an error whose Is
//     method matches ErrX in the worker matches it in the parent;
//   - or a value of an error type, such as &MyError{} or MyError{}: an
//     error of that type crosses as a value, encoded with the pool's codec,
//     so errors.As(err, &myErr) holds and myErr has the exported fields the
//     codec carries; its exported fields of type error cross as errors
//     themselves, rebuilt as the call's error is. When MyError's Error
//     method has a value receiver, MyError and *MyError are both
//     registered, whichever of them is passed. The value an As method of
//     an unregistered error gives for a registered type crosses too; so do
//     the errors that the Unwrap method of a registered value returns from
//     its unexported fields, beside the value, for errors.Is.
//
// A comparable error is registered as both, a sentinel being matched first,
// then its type; an error whose Error method panics (such as a &MyError{}
// whose Error reads a nil field) registers its type only. The type of a
// struct (or pointer to one) whose fields are all unexported, such as that
// of errors.New, is not registered: its values could not cross with their
// fields, so only the sentinel does; a struct of no size, whose one value
// is its zero value, is registered.
//
// The parent still receives a *RemoteError, which unwraps to the errors
// rebuilt (see RemoteError): fmt.Errorf's %w (one or more) and errors.Join
// in the worker keep their structure. An error that matches nothing
// registered stays a plain *RemoteError. The trees cross up to 64 levels
// deep and 1000 errors; a registered sentinel wrapped deeper still matches
// with errors.Is, a value deeper does not cross, nor does a value whose
// error fields do not fit. A value the codec cannot encode in the worker,
// or decode in the parent, and an error registered in only one of the two
// processes, cross as a *RemoteError with its type and message, except a
// sentinel that the other process takes for the one sentinel it registered
// with the same type and message.
//
// Registered by default: context.Canceled, context.DeadlineExceeded, io.EOF,
// io.ErrUnexpectedEOF, fs.ErrNotExist, fs.ErrExist, fs.ErrPermission,
// os.ErrDeadlineExceeded, the sentinels of this package (ErrCancelled,
// ErrTimeout, ErrShutdown, ErrBrokenExecutor, ErrInvalidState,
// ErrNotRegistered, ErrWorkerExited, ErrDeadlock), and the type
// *runtime.PanicNilError, the value of panic(nil). Python: exceptions
// cross by pickling, so except MyError works in the parent.
//
// Call it from an init function, as Register, so that the parent and every
// worker register the same errors. A type crosses under its package path
// and name, a sentinel under its type and message and the place in the
// code that registered it (the function and line that called
// RegisterError, and its position among errs). A sentinel that is the only
// one of its type and message in both processes is found by those alone,
// so a worker program that registers it at another line still finds it;
// sentinels that share a type and a message, such as two packages'
// errors.New("not found"), are told apart by that place, whatever the
// order in which each process registered them, and even if one process
// registered only one of them. Registering an error again does nothing. It
// is safe to call at any time, concurrently with calls, but an error
// registered after a worker started crosses from that worker only if the
// worker registered it too. It panics for a nil error, registering none of
// errs.
func RegisterError(errs ...error) {
	errtree.Register(errs...)
}

func init() {
	RegisterError(ErrCancelled, ErrTimeout, ErrShutdown, ErrBrokenExecutor, ErrInvalidState, ErrNotRegistered,
		ErrWorkerExited, ErrDeadlock)
}

// remoteError returns the error of a KindError record r: a *RemoteError
// that unwraps to the errors r's tree rebuilds, decoded with c.
func remoteError(r *wire.Result, c value.Codec) error {
	e := &RemoteError{Type: r.Type, Message: r.Message, Stack: r.Stack}
	if len(r.Value) == 0 {
		return e
	}
	n, err := wire.ParseErrTree(r.Value)
	if err != nil { // ParseResults checked it; another transport may not have
		return e
	}
	n.Type, n.Message = r.Type, r.Message
	rebuilt, registered := errtree.Rebuild(n, c, newRemoteError)
	if !registered {
		re := rebuilt.(*RemoteError)
		re.Stack = r.Stack
		return re
	}
	e.wrapped = []error{rebuilt}
	return e
}

// newRemoteError is the errtree.Opaque of package futures.
func newRemoteError(typ, msg string, is, as, wrapped []error) error {
	return &RemoteError{Type: typ, Message: msg, is: is, as: as, wrapped: wrapped}
}

// panicValue returns the value of a KindPanic record r: what its Value
// carries, decoded with c, or else its text.
func panicValue(r *wire.Result, c value.Codec) any {
	if v, ok := errtree.PanicValue(r.Value, c, newRemoteError); ok {
		return v
	}
	return r.Message
}
