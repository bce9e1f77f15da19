package cluster

import (
	"fmt"

	"github.com/gofutures/futures"
)

// LostError is the error of a call that was delivered MaxAttempts times and
// whose worker, each time, died or stayed silent longer than
// WorkerLostAfter before it answered: a call that kills every worker that
// runs it ends so. It matches futures.ErrWorkerExited.
type LostError struct {
	ID       string // the call's id
	Attempts int    // deliveries made
	Worker   string // the last worker that held it, "" if unknown
	Cause    error  // why the last attempt was lost, when known
}

// Error says which call was lost after how many deliveries, and why when
// that is known.
func (e *LostError) Error() string {
	s := fmt.Sprintf("futures/cluster: call %s was delivered %d times and each worker running it stopped answering", e.ID, e.Attempts)
	if e.Worker != "" {
		s += "; the last was " + e.Worker
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is reports whether target is futures.ErrWorkerExited.
func (e *LostError) Is(target error) bool { return target == futures.ErrWorkerExited }

// Unwrap returns Cause.
func (e *LostError) Unwrap() error { return e.Cause }
