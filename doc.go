// Package futures runs calls concurrently and gives back typed futures: it is
// Python's concurrent.futures for Go, with a goroutine pool (ThreadPool) and a
// pool of worker processes (ProcessPool) behind one Executor interface.
//
//	pool, err := futures.NewThreadPool(futures.MaxWorkers(8))
//	if err != nil {
//		return err
//	}
//	defer pool.Close()
//
//	f := futures.Submit(pool, fetch, "https://example.com/a.pdf")
//	body, err := f.Result(ctx) // waits; ctx's deadline is Python's timeout
//
//	for size, err := range futures.Map(ctx, pool, fetchSize, slices.Values(urls)) {
//		// results in input order; an item's error does not stop the loop
//	}
//
// # From Python
//
//	ThreadPoolExecutor(max_workers=n)       NewThreadPool(MaxWorkers(n))
//	ProcessPoolExecutor(max_workers=n)      NewProcessPool(MaxWorkers(n))
//	executor.submit(fn, arg)                Submit(ex, fn, arg)
//	executor.submit(lambda: ...)            Go(ex, func(ctx) (R, error) { ... })
//	(none: cancel one call by its context)  SubmitContext(ctx, ex, fn, arg), GoContext(ctx, ex, fn)
//	executor.map(fn, xs, timeout=t)         Map(ctx with deadline t, ex, fn, xs)
//	map(..., chunksize=c, buffersize=b)     Map(..., Chunksize(c), Buffer(b))
//	as_completed(fs, timeout=t)             AsCompleted(ctx, fs...)
//	wait(fs, return_when=FIRST_EXCEPTION)   Wait(ctx, fs, FirstError)
//	future.result(timeout=t)                f.Result(ctx)
//	future.cancel(), running()              f.Cancel(), f.State() == Running
//	future.done()                           f.State() >= Cancelled (or select on f.Done())
//	future.add_done_callback(fn)            f.OnDone(fn)
//	shutdown(wait=True, cancel_futures=True) ex.Shutdown(ctx, CancelPending())
//	shutdown(wait=False)                    go ex.Close()
//	with executor: ...                      defer ex.Close()
//	CancelledError, TimeoutError, ...       ErrCancelled, ErrTimeout, ... (errors.Is)
//	except MyError: (from a worker process) RegisterError(ErrMine, &MyError{}), then errors.Is, errors.As
//
// Where Go idiom and Python disagree, Go wins: functions take a
// context.Context and return an error; timeouts are context deadlines; Map
// and AsCompleted are range-over-func iterators; submission errors come back
// as already failed futures. Unlike Python, Map reads its input lazily and
// goes on after an item's error, a cancelled future is seen by every waiter
// at once, a worker process that dies fails only its own calls, and a call
// that waits on a call its own pool can never run gets ErrDeadlock instead of
// hanging.
//
// # Architecture
//
// A Future is a small state machine (pending, running, cancelled, finished)
// with a done channel made only when someone waits, completed once by its
// executor or through a Promise; a Map item is the same state machine
// without the channel and callbacks, its Map loop learning of it instead. An
// Executor takes Tasks: Submit, Go, SubmitContext, GoContext and Map wrap
// each call in a Task that carries the function, its argument, its context
// and its future, and an executor either runs it in process (Task.Run) or
// ships Task.Func and Task.Arg elsewhere and reports back with
// Task.Complete, so executors can live outside this package. Futures and
// Map never name a concrete executor: what an executor can do beyond
// Executor (its Map buffer, its refusal of calls, the fast paths of this
// package's pools) is in the optional methods of
// capabilities.go, and the ThreadPool's deadlock check is a hook it puts in
// the context of its calls, which Future.Result asks. ThreadPool is a thin
// wrapper around internal/threads, which keeps pending calls in a FIFO ring
// buffer under one mutex (and, while every worker is busy, in an inbox that
// takes calls without it) and hands them to idle goroutines directly;
// workers start lazily up to MaxWorkers and stay up. What that machinery
// needs of this package's tasks, errors and waits, ThreadPool gives it
// through interfaces this package implements (threadtasks.go). Both pools
// count calls through one set of transitions (internal/counts).
// AsCompleted and Wait register one waiter on the futures they watch instead
// of a goroutine each. The call protocol lives in internal/, where executors
// outside this package can use it: internal/value encodes arguments and
// results (Codec, Gob and JSON are its), internal/registry finds registered
// functions by name and calls them on encoded arguments (Register is its),
// internal/serve runs one call with its context, time limit and
// panic/Goexit guard and turns the outcome into a result record,
// internal/wire frames calls and results, and internal/supervise starts and
// attaches worker processes. ProcessPool re-executes the program, which
// calls WorkerMain first thing in main, and exchanges framed messages with
// each worker over dedicated pipes; WorkerMain runs serve's loop over them.
// The ProcessPool is a thin wrapper over internal/procpool, which holds its
// machinery: the queue, each worker's client (dispatch and pipelining,
// result matching), reaping, the TaskTimeout watchdog and the escalation of
// a Shutdown that gives up. That package cannot name this package's Tasks
// and errors, so it handles them through interfaces this package implements
// (processtasks.go), which take the fast paths of capabilities.go.
package futures
