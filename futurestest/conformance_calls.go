package futurestest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gofutures/futures"
)

// The functions TestExecutor submits. They are registered here, in a file of
// the package itself, so that every program that imports futurestest
// registers them, worker processes included: the suite runs on a
// ProcessPool in any test binary whose TestMain calls futures.WorkerMain.
func init() {
	futures.Register(square, answer, failTyped, panics, goexit)
	// block takes a struct: registered with RegisterFunc, every executor
	// runs the direct call of such a function too.
	futures.RegisterFunc(block)
}

// square returns n*n, and fails for a negative n with errSentinel, wrapped.
func square(_ context.Context, n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("item %d: %w", n, errSentinel)
	}
	return n * n, nil
}

// theAnswer is what answer returns.
const theAnswer = 42

// answer returns theAnswer; it is the function the suite passes to Go.
func answer(context.Context) (int, error) { return theAnswer, nil }

// errSentinel is the sentinel square wraps for a negative argument.
var errSentinel = errors.New("futurestest: the sentinel error")

// sentinelText is the message of square's error for n.
func sentinelText(n int) string { return fmt.Sprintf("item %d: %v", n, errSentinel) }

// itemError is the error type failTyped returns.
type itemError struct{ N int }

func (e *itemError) Error() string { return fmt.Sprintf("futurestest: item %d failed", e.N) }

// failTyped fails with an *itemError for n, wrapped.
func failTyped(_ context.Context, n int) (int, error) {
	return 0, fmt.Errorf("typed: %w", &itemError{N: n})
}

// panicValue is what panics panics with, for n.
func panicValue(n int) string { return fmt.Sprintf("futurestest: deliberate panic %d", n) }

// panics panics with panicValue(n).
func panics(_ context.Context, n int) (int, error) { panic(panicValue(n)) }

// goexit calls runtime.Goexit, as t.FailNow does in a call.
func goexit(context.Context, int) (int, error) {
	runtime.Goexit()
	return 0, nil
}

// A gate is the argument of block: the directory the test and the call
// share, the call's id, and whether it returns at once (Quick) instead of
// waiting for the gate to open. Files, not channels, carry the signals, so
// that a call in a worker process obeys them too.
type gate struct {
	Dir   string
	ID    int
	Quick bool
}

// Marker files block writes in a gate's directory, and the file that opens
// the gate.
const (
	startedFile  = "started-%d"  // the call began
	returnedFile = "returned-%d" // the call is returning
	releaseFile  = "release"     // the test opened the gate: every call returns
	gatePoll     = 2 * time.Millisecond
	gateGiveUp   = 2 * time.Minute // a call still waiting then fails: no wait is unbounded
)

// block records that call g.ID began, then waits until the test opens the gate or the call's
// context ends, and records that it returns. It returns g.ID, or the
// context's cause.
func block(ctx context.Context, g gate) (int, error) {
	mark(g, startedFile)
	defer mark(g, returnedFile)
	if g.Quick {
		return g.ID, nil
	}
	giveUp := time.NewTimer(gateGiveUp)
	defer giveUp.Stop()
	tick := time.NewTicker(gatePoll)
	defer tick.Stop()
	for {
		if _, err := os.Stat(filepath.Join(g.Dir, releaseFile)); err == nil {
			return g.ID, nil
		}
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-giveUp.C:
			return 0, fmt.Errorf("futurestest: call %d: the test never opened the gate in %s", g.ID, g.Dir)
		case <-tick.C:
		}
	}
}

// mark creates the marker file named by pattern for call g.ID.
func mark(g gate, pattern string) {
	// An error cannot be reported from here; the test sees the marker missing.
	_ = os.WriteFile(filepath.Join(g.Dir, fmt.Sprintf(pattern, g.ID)), nil, 0o644)
}
