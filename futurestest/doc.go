// Package futurestest helps test code that takes a futures.Executor.
//
// Two executors replace a pool in a unit test:
//
//   - NewInline runs each call synchronously in the goroutine that submits it,
//     so every future is done as soon as Submit, Go or Execute returns.
//   - NewManual queues every call until the test runs it (RunNext, RunAll,
//     Pending, Queued), so the test can check what the code under test does
//     while its work is queued, then run, fail or cancel chosen calls.
//
// Resolved, Failed and CancelledFuture return futures that are already done,
// for code that takes futures rather than an executor.
//
// TestExecutor is the other way round: a conformance suite for an executor
// of your own (a remote executor, a wrapper around a pool), which checks
// that it behaves as package futures documents, as testing/fstest.TestFS
// does for file systems. futures.ThreadPool, futures.ProcessPool, Inline
// and Manual (with a goroutine that runs its calls) pass it.
//
// Both executors implement futures.Executor through its public interface
// only, as any executor outside package futures can, and both work inside a
// testing/synctest bubble, as futures.ThreadPool does: create them in the
// bubble.
//
// # Testing code that uses a ProcessPool
//
// A futures.ProcessPool starts its workers by running the program again; in a
// test, the program is the test binary. So the test binary must turn into a
// worker when it is started as one, before the tests run: call
// futures.WorkerMain first in the TestMain of every package whose tests start
// a ProcessPool. In the test process it returns at once; in a worker process
// it serves calls and exits, and the tests never run there.
//
//	func TestMain(m *testing.M) {
//		futures.WorkerMain()     // a worker serves calls here and exits
//		goleak.VerifyTestMain(m) // or os.Exit(m.Run())
//	}
//
// Register the functions the pool runs in an init function or a
// package-level variable of a file the test binary always contains (not
// inside a test function): a worker registers them by running the same
// binary, but it runs no test. Keep the pool's functions top-level and their
// arguments and results encodable by the pool's Codec.
//
// For fast, deterministic unit tests, let the code take a futures.Executor
// and pass it NewInline or NewManual; then test against a real ProcessPool
// once, since only a real one refuses unregistered functions
// (futures.ErrNotRegistered) and values its Codec cannot encode.
package futurestest
