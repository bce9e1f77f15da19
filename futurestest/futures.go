package futurestest

import "github.com/gofutures/futures"

// Resolved returns a future already finished with v and no error, to stand in
// for the result of a call in a test.
func Resolved[T any](v T) *futures.Future[T] {
	p := futures.NewPromise[T]()
	p.SetResult(v)
	return p.Future()
}

// Failed returns a future already finished with err and the zero T, as a call
// that returned err; a nil err gives a future finished with the zero T and no
// error, as Promise.SetError does.
func Failed[T any](err error) *futures.Future[T] {
	p := futures.NewPromise[T]()
	p.SetError(err)
	return p.Future()
}

// CancelledFuture returns a future already cancelled: its Err and Result
// return an error matching futures.ErrCancelled.
func CancelledFuture[T any]() *futures.Future[T] {
	f := futures.NewPromise[T]().Future()
	f.Cancel()
	return f
}
