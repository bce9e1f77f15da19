package registry

import (
	"errors"
	"fmt"
)

// ErrNotRegistered is futures.ErrNotRegistered: the function of a call is
// not registered, so it cannot cross a process boundary.
var ErrNotRegistered = errors.New("futures: function is not registered; call futures.Register(fn) in an init function")

// NotRegisteredError is the error of a call whose function is not
// registered; it matches ErrNotRegistered.
type NotRegisteredError struct {
	// Name is the function's qualified name, or its type.
	Name string
	// InWorker says the worker process, not the caller, lacks it.
	InWorker bool
	// NotTopLevel says why the function cannot be registered, if it
	// cannot.
	NotTopLevel string
}

// Error says which function is not registered and how to register it.
func (e *NotRegisteredError) Error() string {
	if e.NotTopLevel != "" {
		return fmt.Sprintf("futures: function %s is not registered: it is %s, which cannot be sent to a worker process; declare a top-level function that does the work and call futures.Register on that in an init function", e.Name, e.NotTopLevel)
	}
	where := ""
	if e.InWorker {
		where = " in the worker process (does the WorkerCommand program register it?)"
	}
	return fmt.Sprintf("futures: function %s is not registered%s; call futures.Register(%s) in an init function of its package", e.Name, where, ShortName(e.Name))
}

// Is reports whether target is ErrNotRegistered.
func (e *NotRegisteredError) Is(target error) bool { return target == ErrNotRegistered }
