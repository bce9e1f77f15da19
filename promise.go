package futures

// Promise is the writing side of a Future, for executor authors and tests:
// Python's set_running_or_notify_cancel, set_result and set_exception. The
// future it completes is Future(); its readers may cancel it while it is
// pending.
type Promise[T any] struct {
	f Future[T]
}

// NewPromise returns a promise whose future is Pending.
func NewPromise[T any]() *Promise[T] { return new(Promise[T]) }

// Future returns the future this promise completes. It is the same future on
// every call.
func (p *Promise[T]) Future() *Future[T] { return &p.f }

// SetRunning moves the future from Pending to Running and returns true. It
// returns false if the future is not pending: cancelled (the work must then be
// skipped), or already running or finished. Python:
// set_running_or_notify_cancel().
func (p *Promise[T]) SetRunning() bool { return p.f.start() }

// SetResult finishes the future with v, from Pending or Running. It returns
// an error matching ErrInvalidState if the future is already finished or
// cancelled. Python: set_result(v).
func (p *Promise[T]) SetResult(v T) error {
	if !p.f.complete(Finished, v, nil) {
		return p.invalid("SetResult")
	}
	return nil
}

// SetError finishes the future with err, from Pending or Running; a nil err
// finishes it with the zero value and no error. It returns an error matching
// ErrInvalidState if the future is already finished or cancelled. Python:
// set_exception(err).
func (p *Promise[T]) SetError(err error) error {
	var zero T
	if !p.f.complete(Finished, zero, err) {
		return p.invalid("SetError")
	}
	return nil
}

func (p *Promise[T]) invalid(method string) error {
	return &stateError{method: method, state: p.f.state.settled()}
}
