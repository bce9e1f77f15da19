package futures

import (
	"fmt"
	"strings"

	"github.com/gofutures/futures/internal/supervise"
)

// What the errors of a worker's exit say.

// maxCallRetries is how many times a call is sent again to another worker
// after a worker died as it was the next call to start.
const maxCallRetries = 3

// gaveUpError returns the error of a call sent to maxCallRetries+1 workers
// that all died before starting it, the last as exitErr says.
func gaveUpError(exitErr *WorkerExitError) *WorkerExitError {
	e := *exitErr
	e.during = "before it started the call"
	e.then = fmt.Sprintf("the call was sent to %d worker processes, which all exited before starting it, and is not sent again", maxCallRetries+1)
	return &e
}

// afterExitLocked says what the pool did after a worker exited, for the
// calls that worker failed; started tells that it started another.
func (p *ProcessPool) afterExitLocked(started bool) string {
	switch {
	case p.broken != nil:
		return "the pool is broken and runs no more calls"
	case p.shutdown:
		return "the pool is shutting down and started no replacement"
	case started:
		return "the pool started a replacement"
	}
	return "the pool starts a replacement when a call needs one"
}

// startError is the error that breaks the pool when the worker with pid
// exited before it was ready. A program that parsed its command line before
// calling WorkerMain rejects the worker's flag and prints its usage: the
// error then says so, without the usage.
func (p *ProcessPool) startError(pid int, exit supervise.Exit, reason string) error {
	cause := exitError(pid, exit, reason)
	cause.during = "before it was ready"
	advice := "check that the program calls futures.WorkerMain() first thing in main"
	rejected := "flag provided but not defined: " + strings.TrimSuffix(workerArg, "=")
	if i := strings.Index(exit.Stderr, rejected); i >= 0 {
		cause.Stderr = rejected + "\n"
		advice = "the program parsed its command line, and refused the worker's flag, before it called futures.WorkerMain(); call it first thing in main"
		if strings.Contains(exit.Stderr[i:], "-test.") {
			advice = "this test binary parsed its flags, and refused the worker's, before it called futures.WorkerMain(); call it first thing in TestMain, before m.Run"
		}
	}
	return &brokenError{msg: fmt.Sprintf("futures: a worker process of ProcessPool %q could not start: %s", p.name, advice), cause: cause}
}
