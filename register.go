package futures

import (
	"context"

	"github.com/gofutures/futures/internal/registry"
)

// Register makes top-level functions callable in a ProcessPool's worker
// processes, under their qualified names (such as "example.com/pkg.Square").
// Call it from an init function or a package-level var declaration, so that
// the parent and every worker, which run the same program, register the same
// functions. Python finds functions by qualified name when it pickles them;
// Register is the Go equivalent, like gob.Register for types.
//
// Accepted shapes are func(context.Context, A) (R, error) and
// func(context.Context) (R, error) for calls, and func(context.Context) error
// for an Initializer. Register panics, with a message that says what to do,
// for a nil or non-function value, a closure, a method value, a generic
// function, a wrong shape, or a name registered twice.
func Register(fns ...any) {
	for _, fn := range fns {
		registry.Register("", fn)
	}
}

// RegisterFunc is Register for one function of the shape
// func(context.Context, A) (R, error), whose types it knows at compile time:
// a worker process then calls it directly instead of through reflection,
// which saves a few hundred nanoseconds and allocations per call of a
// struct argument or result (the common shapes with an int, string,
// float64 or []byte argument and result are called directly already).
// Calls behave as for Register in every other way. Call it from an init
// function or a package-level var declaration, in place of Register for
// that function. It panics as Register does.
func RegisterFunc[A, R any](fn func(context.Context, A) (R, error)) {
	registry.RegisterFunc("", fn)
}

// RegisterName is Register with an explicit name, for a function whose
// qualified name differs between the parent and a WorkerCommand program. It
// panics as Register does, and for an empty name.
func RegisterName(name string, fn any) {
	if name == "" {
		panic("futures: RegisterName: the name is empty; pass a name unique in the program")
	}
	registry.Register(name, fn)
}
