package futures

import "github.com/gofutures/futures/internal/registry"

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

// RegisterName is Register with an explicit name, for a function whose
// qualified name differs between the parent and a WorkerCommand program. It
// panics as Register does, and for an empty name.
func RegisterName(name string, fn any) {
	if name == "" {
		panic("futures: RegisterName: the name is empty; pass a name unique in the program")
	}
	registry.Register(name, fn)
}
