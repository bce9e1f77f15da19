package futures

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"github.com/gofutures/futures/internal/procpool"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/wire"
)

// ProcessPool runs registered functions in a pool of worker processes:
// Python's ProcessPoolExecutor. Workers are the program itself, re-executed
// (or the WorkerCommand program), which must call WorkerMain first thing in
// main. They start lazily, up to MaxWorkers, and are reused; arguments and
// results cross over pipes, encoded with the pool's Codec.
//
// A call is Running once it is handed to a worker; until then Cancel stops
// it. Calls are pipelined: each worker has several in flight and many go in
// one message, so trivial calls do not pay a round trip each. A worker that
// dies fails only the call it was running, with a *WorkerExitError: the calls
// that returned in it keep their outcomes, and the calls it had not started go
// to another worker, except one that four workers in a row died of just
// before starting it, which fails likewise. A call whose context has ended
// when its turn comes in a worker is not invoked: its future fails with an
// error matching ErrCancelled and it is counted Cancelled. Create one with
// NewProcessPool; all methods are safe for concurrent use.
//
// One call and its result take tens of microseconds, and batched calls cost
// well under a microsecond each; bench/README.md has the measurements.
type ProcessPool struct {
	pool *procpool.Pool[Task]
}

// NewProcessPool returns a pool of worker processes configured by opts:
// MaxWorkers (default runtime.NumCPU()), Initializer (registered), Name,
// QueueSize, MaxTasksPerWorker, TaskTimeout, WorkerCommand, Encoding (default
// Gob) and Logger apply. It starts no process until the first call. It
// returns an error, and no pool, if an option is invalid, the Initializer is
// not registered, the program cannot be located, or the process is itself a
// worker that did not call WorkerMain. On systems without worker processes
// (Windows; Linux, macOS and the BSDs have them) it returns an error matching
// errors.ErrUnsupported. Python:
// ProcessPoolExecutor(max_workers, initializer, max_tasks_per_child).
func NewProcessPool(opts ...Option) (*ProcessPool, error) {
	cfg, err := readOptions("ProcessPool", true, opts)
	if err != nil {
		return nil, err
	}
	if err := supervise.Available(); err != nil {
		return nil, fmt.Errorf("futures: NewProcessPool: %w", err)
	}
	if os.Getenv(envWorker) != "" {
		return nil, errors.New("futures: NewProcessPool: this process was started as a worker of a ProcessPool but did not call futures.WorkerMain(); call it first thing in main (and in TestMain)")
	}
	if cfg.maxWorkers == 0 {
		cfg.maxWorkers = runtime.NumCPU()
	}
	if cfg.name == "" {
		cfg.name = "ProcessPool-" + strconv.FormatInt(poolCount.Add(1), 10)
	}
	p := &ProcessPool{}
	p.pool, err = procpool.New(procpool.Config{
		Name:        cfg.name,
		MaxWorkers:  cfg.maxWorkers,
		Codec:       cfg.codec,
		Initializer: cfg.initializer,
		MaxTasks:    cfg.maxTasksPerWorker,
		Timeout:     cfg.taskTimeout,
		QueueSize:   cfg.queueSize,
		Logger:      cfg.logger,
		Command:     cfg.workerCommand,
		Flag:        workerArg,
		Env:         []string{envWorker + "=" + strconv.Itoa(wire.Version), envPool + "=" + cfg.name},
		Guard:       guardJobs,
		WaitRoom: func(ctx context.Context, room *sync.Cond, check func() (bool, error)) error {
			return waitRoom(ctx, room, "ProcessPool", check)
		},
	}, poolTasks{p}, poolErrors{})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// MaxWorkers returns the most worker processes the pool runs at once.
func (p *ProcessPool) MaxWorkers() int { return p.pool.MaxWorkers() }

// MapBuffer returns the Buffer Map uses by default with chunksize: enough
// chunks to keep about 2,048 calls in flight per worker, so that small
// calls are batched, and at least four chunks per worker.
func (p *ProcessPool) MapBuffer(chunksize int) int {
	return p.pool.MaxWorkers() * max(4, 2048/max(chunksize, 1))
}

// String returns the pool's name, as set by the Name option.
func (p *ProcessPool) String() string { return p.pool.Name() }

// ForgetsFinishedTasks reports whether ex is p itself: it touches no call
// once it has completed it. It makes the pool a TaskForgetter.
func (p *ProcessPool) ForgetsFinishedTasks(ex Executor) bool { return ex == Executor(p) }

// Refusal returns the error Execute would return now for a call of fn: an
// ErrNotRegistered error if fn is not registered, ErrShutdown after
// Shutdown, an ErrBrokenExecutor error once broken; nil if it would accept
// the call. It makes the pool a Refuser.
func (p *ProcessPool) Refusal(fn any) error {
	if _, err := registry.Lookup(fn); err != nil {
		return err
	}
	return p.pool.Refusal()
}

// Close shuts the pool down and waits for every queued and running call, for
// the OnDone callbacks the pool runs, and for every worker process to exit:
// it is Shutdown(context.Background()). It returns nil, except when called
// from such a callback (see Shutdown), and may be called any number of
// times. Python: shutdown(wait=True), or leaving a with block.
func (p *ProcessPool) Close() error { return p.Shutdown(context.Background()) }

// Stats returns a snapshot of the pool's counters; a nil pool has zero
// counts.
func (p *ProcessPool) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	c, workers := p.pool.Stats()
	return statsOf(&c, workers)
}

// Execute queues t to run in a worker process, starting a worker if none
// has room and fewer than MaxWorkers are alive. It returns an error matching
// ErrNotRegistered if t's function is not registered, ErrShutdown after
// Shutdown and an ErrBrokenExecutor error once the pool is broken. An
// argument the codec cannot encode, or too big for a message to a worker
// (about 1 GiB encoded), is accepted and fails t's future with an error
// that says so. With QueueSize it blocks while the queue is full. Most code
// calls Submit, Go or Map instead.
func (p *ProcessPool) Execute(t Task) error {
	if p == nil {
		return errNilExecutor
	}
	if t == nil {
		return errors.New("futures: ProcessPool.Execute: the Task is nil")
	}
	return p.pool.Execute(t)
}

// ExecuteBatch queues ts as one chunk: one worker gets all of them in one
// message, or in several if they do not fit in one, and reports each result
// as soon as it has it. It accepts or
// refuses all of them, as Execute does for one. It keeps ts: the caller must
// not change it afterwards.
func (p *ProcessPool) ExecuteBatch(ts []Task) error {
	if p == nil {
		return errNilExecutor
	}
	if len(ts) < 2 || slices.Contains(ts, nil) {
		return executeFew(p, "ProcessPool", ts)
	}
	return p.pool.ExecuteBatch(ts)
}

// Shutdown stops the pool from accepting calls (they then fail with
// ErrShutdown), then waits until every queued and running call has finished
// and every worker process has exited and been reaped, or until ctx ends.
// Python: shutdown(wait=True, cancel_futures).
//
// With CancelPending, queued calls are cancelled first. If ctx ends first,
// Shutdown fails every queued call with an error matching ErrBrokenExecutor,
// asks the workers to cancel the context of their calls and exit, sends
// them SIGTERM, then SIGKILL, if they do not; the futures of the calls they
// were running fail likewise. It then waits for the workers to be reaped and
// returns ctx.Err(). Python 3.14: terminate_workers, kill_workers. It may be
// called any number of times, also at once: each call that returns nil
// returns once every worker was reaped and the pool's goroutines stopped,
// and a call on a pool that stopped already returns nil even if ctx ended.
//
// Called from an OnDone callback of one of the pool's futures, which the
// pool runs and so could never wait for, Shutdown stops the pool from
// accepting calls and returns at once an error matching ErrDeadlock.
// On a nil pool it returns an error that says the executor is nil.
func (p *ProcessPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if p == nil {
		return errNilExecutor
	}
	if ctx == nil {
		return errors.New("futures: ProcessPool.Shutdown: the context is nil; use context.Background()")
	}
	inside := p.pool.InCallback()
	p.pool.Stop(ReadShutdownOptions(opts...).CancelPending)
	if inside {
		return errShutdownInCallback
	}
	return p.pool.Wait(ctx)
}

// noteCancelled makes the pool a canceller, for the tasks it owns.
func (p *ProcessPool) noteCancelled() { p.pool.NoteCancelled() }

// errShutdownInCallback is returned by Shutdown called from a callback the
// pool runs, which it cannot wait for.
var errShutdownInCallback = fmt.Errorf("%w: Shutdown was called from an OnDone callback of a future of the same ProcessPool, which runs that callback and cannot wait for it; the pool stopped accepting calls and finishes the others: call Shutdown or Close outside the callback to wait", ErrDeadlock)
