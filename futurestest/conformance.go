package futurestest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// TestExecutor checks that an executor behaves as package futures documents,
// as testing/fstest.TestFS does for file systems. It runs one subtest per
// behaviour; each creates a fresh executor with newExecutor, uses it through
// the public API of futures only (Submit, Go, Map, AsCompleted, Wait,
// Future, Shutdown, Close) and closes it at the end. A failure is reported
// through the subtest's t, naming what the documentation promises and what
// the executor did.
//
//	func TestMyExecutor(t *testing.T) {
//		futurestest.TestExecutor(t, func(t *testing.T) futures.Executor {
//			ex, err := NewMyExecutor(4)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return ex
//		})
//	}
//
// The subtests check:
//
//   - Submit and Go: results; a call's error reaches Result (a wrapped
//     sentinel and a wrapped error type, and the errors of RegisterError,
//     see below); a panic becomes a *futures.PanicError with the panic
//     value and a stack; a call that
//     calls runtime.Goexit finishes its future with an error; the executor
//     goes on running calls after each of these.
//   - SubmitContext and GoContext: the call's context has ctx's deadline; a
//     call whose ctx has ended is cancelled, never run; a call whose ctx
//     ends while it is queued is cancelled at once (futures.Cancelled,
//     futures.ErrCancelled and ctx.Err()), never runs, and is counted before
//     its Result returns; a call whose ctx ends while it runs sees its
//     context cancelled and returns what it chooses.
//   - Map: input order, Unordered, several Chunksize and Buffer values, an
//     empty input, a failing item that does not stop the others, a break out
//     of the loop (after it, no call it made is still running, and none
//     started after the loop stopped), a ctx cancelled in the loop
//     and a ctx deadline (one last error matching futures.ErrCancelled or
//     futures.ErrTimeout, then the loop stops).
//   - AsCompleted and Wait (AllCompleted, FirstCompleted, FirstError) over
//     the executor's futures, also with a ctx that ends first.
//   - Cancel of a queued call: it never runs and its Result matches
//     futures.ErrCancelled; Cancel of a running call returns false.
//   - Shutdown waits for running and queued calls; with
//     futures.CancelPending it cancels the queued ones; with a ctx that has
//     ended it returns ctx.Err() and the futures of the calls queued or
//     running fail with an error matching futures.ErrBrokenExecutor, and
//     their contexts are cancelled; after Shutdown, Submit, Go and Map
//     (over an empty input too) fail with futures.ErrShutdown; Close and
//     Shutdown may be called again and return nil.
//   - Stats, when the executor has a Stats() futures.Stats method (as
//     ThreadPool and ProcessPool have): Submitted == Queued + Running +
//     Succeeded + Failed + Cancelled during the subtests, and once the
//     executor is closed nothing is queued or running and the outcomes are
//     those of the calls the subtest made. A cancellation is counted before
//     Cancel returns.
//
// What the executor must provide: newExecutor returns a new executor that
// accepts calls; Close must return nil once its calls have returned. The
// functions the suite submits are top-level functions of this package,
// registered with futures.Register in its init function, with int
// arguments and results and a small struct of exported fields, so that a
// futures.ProcessPool runs them in any test binary whose TestMain calls
// futures.WorkerMain first. Calls that must block until the test releases
// them wait for a file in the subtest's t.TempDir() to appear (polled every
// few milliseconds) or for their context to end, and give up after two
// minutes, so that they block in a worker process too.
//
// The subtests that need a call blocked while others wait (Cancel, the
// Shutdown subtests with running calls, Map break and deadline over blocked
// calls) run only on an executor with a MaxWorkers() int method, as
// ThreadPool and ProcessPool have: the executor must then run up to
// MaxWorkers() calls at once and no more, so that the suite blocks
// MaxWorkers() calls, one per worker, and expects the next call to stay
// queued (Pending, cancellable). On other executors they are skipped with a
// message saying so, and so are the Stats subtests on an executor without
// Stats. An executor that runs each call in
// the goroutine that submits it (as Inline does) cannot be checked that
// way, and a call that calls runtime.Goexit ends the submitting goroutine
// there: the Goexit subtest then checks only that the executor goes on.
// An executor that runs nothing by itself (as Manual does) needs a driver
// that runs its queued calls in another goroutine, wrapped into the
// executor newExecutor returns.
//
// Errors: Future.Result promises errors.Is and errors.As through a call's
// wrapped errors, and the suite checks them for its errors, which it
// registers with futures.RegisterError: a sentinel and an error type,
// wrapped with fmt.Errorf (one and two %w) and errors.Join, besides io.EOF
// and fs.ErrNotExist, registered by default, and an error a call panics
// with (through *futures.PanicError). A call that ran in a worker process
// fails with a *futures.RemoteError: the suite checks that it carries the
// original error's type and message and that errors.Is and errors.As see
// the registered errors through it.
func TestExecutor(t *testing.T, newExecutor func(t *testing.T) futures.Executor) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			s := newSuite(t, newExecutor)
			if c.blocking && s.workers == 0 {
				t.Skipf("the executor has no MaxWorkers() int method, so the suite cannot tell how many calls to block before one stays queued")
			}
			c.run(s)
		})
	}
}

// A check is one subtest of TestExecutor. blocking checks need calls that
// block while others queue.
type check struct {
	name     string
	blocking bool
	run      func(s *suite)
}

// checks are TestExecutor's subtests, in the order they run.
var checks = []check{
	{"Submit/Values", false, checkSubmitValues},
	{"Go/Values", false, checkGoValues},
	{"SubmitContext", false, checkSubmitContext},
	{"GoContext", false, checkGoContext},
	{"Submit/Errors", false, checkSubmitErrors},
	{"Submit/Panic", false, checkSubmitPanic},
	{"Submit/Goexit", false, checkSubmitGoexit},
	{"RegisterError", false, checkRegisterError},
	{"Map/Ordered", false, checkMapOrdered},
	{"Map/Unordered", false, checkMapUnordered},
	{"Map/Chunksize", false, checkMapChunksize},
	{"Map/Buffer", false, checkMapBuffer},
	{"Map/Empty", false, checkMapEmpty},
	{"Map/EmptyAfterShutdown", false, checkMapEmptyAfterShutdown},
	{"Map/ItemError", false, checkMapItemError},
	{"Map/Break", false, checkMapBreak},
	{"Map/BreakWhileRunning", true, checkMapBreakWhileRunning},
	{"Map/StopStartsNothing", true, checkMapStopStartsNothing},
	{"Map/Cancel", false, checkMapCancel},
	{"Map/Deadline", true, checkMapDeadline},
	{"AsCompleted", false, checkAsCompleted},
	{"Wait/AllCompleted", false, checkWaitAllCompleted},
	{"Wait/FirstCompleted", false, checkWaitFirstCompleted},
	{"Wait/FirstError", false, checkWaitFirstError},
	{"Cancel/Queued", true, checkCancelQueued},
	{"Cancel/Counted", true, checkCancelCounted},
	{"Shutdown/Waits", true, checkShutdownWaits},
	{"Shutdown/CancelPending", true, checkShutdownCancelPending},
	{"Shutdown/Deadline", true, checkShutdownDeadline},
	{"Shutdown/Refuses", false, checkShutdownRefuses},
	{"Shutdown/AgainWithEndedContext", false, checkShutdownAgainWithEndedContext},
}

// patience bounds every wait of the suite: long enough never to expire on a
// loaded machine, short enough that a broken executor fails the test
// instead of hanging it.
const patience = time.Minute

// suite is what a subtest works with: its executor and what the suite
// learnt about it, and the directory the blocking calls share with it.
type suite struct {
	t       *testing.T
	ex      futures.Executor
	workers int                  // MaxWorkers(), or 0 if the executor has no such method
	stats   func() futures.Stats // nil if the executor has no Stats method
	dir     string
	want    *outcomes // the outcomes the closed executor must count, if known
}

// outcomes are the final counts of a subtest's calls.
type outcomes struct{ succeeded, failed, cancelled int64 }

// newSuite creates the executor of the subtest t and arranges for it to be
// closed, its counters checked and every blocked call released at the end.
func newSuite(t *testing.T, newExecutor func(t *testing.T) futures.Executor) *suite {
	t.Helper()
	s := &suite{t: t, dir: t.TempDir()}
	s.ex = newExecutor(t)
	if s.ex == nil {
		t.Fatal("newExecutor returned a nil executor")
	}
	if w, ok := s.ex.(futures.WorkerCounter); ok && w.MaxWorkers() > 0 {
		s.workers = w.MaxWorkers()
	}
	if st, ok := s.ex.(interface{ Stats() futures.Stats }); ok {
		s.stats = st.Stats
	}
	t.Cleanup(s.finish)
	return s
}

// finish opens the gate, closes the executor and checks its final counts.
func (s *suite) finish() {
	s.open()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := s.ex.Shutdown(ctx); err != nil {
		s.t.Errorf("Shutdown at the end of the subtest = %v, want nil: it returns nil once every call has returned", err)
	}
	if s.stats == nil {
		return
	}
	st := s.checkStats("after Shutdown")
	if st.Queued != 0 || st.Running != 0 {
		s.t.Errorf("Stats after Shutdown returned nil: Queued %d, Running %d; want 0, 0", st.Queued, st.Running)
	}
	if w := s.want; w != nil && (st.Succeeded != w.succeeded || st.Failed != w.failed || st.Cancelled != w.cancelled) {
		s.t.Errorf("Stats after Shutdown: Succeeded %d, Failed %d, Cancelled %d; want %d, %d, %d for the calls of this subtest",
			st.Succeeded, st.Failed, st.Cancelled, w.succeeded, w.failed, w.cancelled)
	}
}

// expect records the outcomes the executor must have counted once closed.
func (s *suite) expect(succeeded, failed, cancelled int64) {
	s.want = &outcomes{succeeded, failed, cancelled}
}

// checkStats checks, when the executor has Stats, that its call counts add
// up, and returns them.
func (s *suite) checkStats(when string) futures.Stats {
	s.t.Helper()
	if s.stats == nil {
		return futures.Stats{}
	}
	st := s.stats()
	if sum := st.Queued + st.Running + st.Succeeded + st.Failed + st.Cancelled; st.Submitted != sum {
		s.t.Errorf("Stats %s do not add up: Submitted %d != Queued %d + Running %d + Succeeded %d + Failed %d + Cancelled %d = %d",
			when, st.Submitted, st.Queued, st.Running, st.Succeeded, st.Failed, st.Cancelled, sum)
	}
	return st
}

// bounded returns a context that ends after patience, for a wait that must
// not hang if the executor is broken.
func (s *suite) bounded() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	s.t.Cleanup(cancel)
	return ctx
}

// result waits, at most patience, for f and returns its outcome; it fails
// the subtest at once if f never finishes.
func result[T any](s *suite, what string, f *futures.Future[T]) (T, error) {
	s.t.Helper()
	select {
	case <-f.Done():
	case <-time.After(patience):
		s.t.Fatalf("%s: the future did not finish in %v (state %v)", what, patience, f.State())
	}
	return f.Result(context.Background())
}

// gate returns the argument of a call of block with id, sharing the
// subtest's directory.
func (s *suite) gate(id int, quick bool) gate { return gate{Dir: s.dir, ID: id, Quick: quick} }

// open opens the gate: every call of block returns.
func (s *suite) open() {
	if err := os.WriteFile(filepath.Join(s.dir, releaseFile), nil, 0o644); err != nil {
		s.t.Errorf("opening the gate: %v", err)
	}
}

// marked reports whether call id left the marker file of pattern.
func (s *suite) marked(pattern string, id int) bool {
	_, err := os.Stat(filepath.Join(s.dir, fmt.Sprintf(pattern, id)))
	return err == nil
}

// waitStarted waits until the calls ids have begun, polling their markers,
// and fails the subtest if that takes longer than patience.
func (s *suite) waitStarted(ids ...int) {
	s.t.Helper()
	deadline := time.Now().Add(patience)
	for _, id := range ids {
		for !s.marked(startedFile, id) {
			if time.Now().After(deadline) {
				s.t.Fatalf("call %d did not start in %v; the executor has %d workers, all free", id, patience, s.workers)
			}
			time.Sleep(gatePoll)
		}
	}
}

// blockWorkers occupies every worker with a call of block that waits for
// the gate, ids 0 to workers-1, and returns their futures once all have
// begun.
func (s *suite) blockWorkers() []*futures.Future[int] {
	s.t.Helper()
	fs := make([]*futures.Future[int], s.workers)
	ids := make([]int, s.workers)
	for i := range fs {
		fs[i] = futures.Submit(s.ex, block, s.gate(i, false))
		ids[i] = i
	}
	s.waitStarted(ids...)
	return fs
}

// checkNeverRan fails the subtest if call id began.
func (s *suite) checkNeverRan(what string, id int) {
	s.t.Helper()
	if s.marked(startedFile, id) {
		s.t.Errorf("%s ran; it must never run", what)
	}
}

// checkReturned fails the subtest for each call among ids that began and
// has not returned.
func (s *suite) checkReturned(when string, ids []int) {
	s.t.Helper()
	for _, id := range ids {
		if s.marked(startedFile, id) && !s.marked(returnedFile, id) {
			s.t.Errorf("%s, call %d is still running; no call may be left running", when, id)
		}
	}
}

// checkStartedAtMost fails the subtest if more than most of the calls ids
// began.
func (s *suite) checkStartedAtMost(what string, ids []int, most int) {
	s.t.Helper()
	n := 0
	for _, id := range ids {
		if s.marked(startedFile, id) {
			n++
		}
	}
	if n > most {
		s.t.Errorf("%s: %d calls began, want at most %d: a call not yet started when its Map stops is cancelled, not invoked", what, n, most)
	}
}
