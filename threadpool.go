package futures

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/mpsc"
	"github.com/gofutures/futures/internal/threads"
)

// ThreadPool runs calls on a pool of goroutines: Python's ThreadPoolExecutor.
// Workers start lazily, one for each submission that finds no idle worker, up
// to MaxWorkers, and then stay up, blocked on the queue, until the pool is
// shut down. Pending calls wait in an unbounded FIFO queue (bounded by the
// QueueSize option), so submitting never parks a goroutine per call. While
// every worker is busy, Submit and Go queue a call without taking the pool's
// lock, so that many goroutines submitting at once do not hold up the
// workers.
//
// A panic in a call is recovered into a *PanicError and a runtime.Goexit ends
// only that call; the worker is replaced and no future is lost. Create one
// with NewThreadPool; all methods are safe for concurrent use.
//
// Measured on two cores (bench/README.md): a call submitted in a batch and
// collected afterwards costs about 0.1-0.2 µs, also from 64 goroutines at
// once; one call and its result, about 0.4-0.5 µs; a pending call holds
// about 170 B.
type ThreadPool struct {
	pool threads.Pool[Task] // the queue, the workers and their counts
}

var poolCount atomic.Int64

// NewThreadPool returns a goroutine pool configured by opts: MaxWorkers,
// Initializer, Name and QueueSize apply. It starts no goroutine until the
// first call. It returns an error, and no pool, if an option is invalid or
// applies only to a ProcessPool. Python: ThreadPoolExecutor(max_workers,
// thread_name_prefix, initializer).
func NewThreadPool(opts ...Option) (*ThreadPool, error) {
	cfg, err := readOptions("ThreadPool", false, opts)
	if err != nil {
		return nil, err
	}
	if cfg.name == "" {
		cfg.name = "ThreadPool-" + strconv.FormatInt(poolCount.Add(1), 10)
	}
	if cfg.maxWorkers == 0 {
		cfg.maxWorkers = DefaultThreadWorkers()
	}
	p := &ThreadPool{}
	p.pool.Init(threads.Config{
		Name:       cfg.name,
		MaxWorkers: cfg.maxWorkers,
		Init:       cfg.initializer,
		Log:        cfg.logger,
		QueueSize:  cfg.queueSize,
		WaiterKey:  callWaiterKey{},
		Guard: func(body func() error, settle func(error)) {
			runGuarded(func() (struct{}, error) { return struct{}{}, body() }, nil, func(_ struct{}, err error) { settle(err) })
		},
		WaitDone: waitDone,
		WaitRoom: func(ctx context.Context, room *sync.Cond, check func() (bool, error)) error {
			return waitRoom(ctx, room, "ThreadPool", check)
		},
	}, threadTasks{p}, threadErrors{})
	return p, nil
}

// MaxWorkers returns the most goroutines the pool runs at once.
func (p *ThreadPool) MaxWorkers() int { return p.pool.MaxWorkers() }

// String returns the pool's name, as set by the Name option.
func (p *ThreadPool) String() string { return p.pool.Name() }

// ForgetsFinishedTasks reports whether ex is p itself: its workers touch no
// call they have finished. It makes the pool a TaskForgetter.
func (p *ThreadPool) ForgetsFinishedTasks(ex Executor) bool { return ex == Executor(p) }

// Execute queues t, or hands it to an idle worker, and starts a worker if
// none is idle and fewer than MaxWorkers are alive. It returns ErrShutdown
// after Shutdown and an ErrBrokenExecutor error after an Initializer failed.
// With QueueSize, it blocks while the queue is full. Most code calls Submit,
// Go or Map instead.
func (p *ThreadPool) Execute(t Task) error {
	if p == nil {
		return errNilExecutor
	}
	if t == nil {
		return errors.New("futures: ThreadPool.Execute: the Task is nil")
	}
	var link *mpsc.Node[Task]
	if it, ok := t.(inboxTask); ok {
		link = it.inboxLink()
	}
	return p.pool.Execute(t, link)
}

// ExecuteBatch queues ts as one chunk that a single worker runs in order, as
// Map does with Chunksize. The pool keeps ts; the caller must not change it.
func (p *ThreadPool) ExecuteBatch(ts []Task) error {
	if p == nil {
		return errNilExecutor
	}
	if len(ts) < 2 || slices.Contains(ts, nil) {
		return executeFew(p, "ThreadPool", ts)
	}
	return p.pool.ExecuteBatch(ts)
}

// Refusal returns the error Execute would return now for any call:
// ErrShutdown after Shutdown, an ErrBrokenExecutor error once an
// Initializer failed; nil if it would accept the call. It makes the pool a
// Refuser.
func (p *ThreadPool) Refusal(fn any) error { return p.pool.Refusal() }

// noteCancelled makes the pool a canceller: its Stats count a queued call's
// cancellation before Cancel returns.
func (p *ThreadPool) noteCancelled() { p.pool.NoteCancelled() }

// Stats returns a snapshot of the pool's counters; the counts add up (see
// Stats). A call's outcome is counted before its future completes, and a
// queued call's cancellation before Cancel returns. A nil pool has zero
// counts.
func (p *ThreadPool) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	c, workers := p.pool.Stats()
	return statsOf(&c, workers)
}

// Shutdown stops the pool from accepting calls (they then fail with
// ErrShutdown), then waits until every queued and running call has finished
// and every worker goroutine has exited, or until ctx ends. Python:
// shutdown(wait=True, cancel_futures).
//
// With CancelPending, queued calls are cancelled first. If ctx ends first,
// Shutdown fails every call still queued with an error matching
// ErrBrokenExecutor, cancels the context of every running call and fails its
// future likewise (the goroutine itself ends when the call returns), and
// returns ctx.Err(). It may be called any number of times.
//
// Called from one of the pool's own calls, which it could never wait for,
// Shutdown stops the pool from accepting calls and returns at once an error
// matching ErrDeadlock (Python raises RuntimeError there).
// On a nil pool it returns an error that says the executor is nil.
func (p *ThreadPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if p == nil {
		return errNilExecutor
	}
	if ctx == nil {
		return errors.New("futures: ThreadPool.Shutdown: the context is nil; use context.Background()")
	}
	return p.pool.Shutdown(ctx, ReadShutdownOptions(opts...).CancelPending)
}

// Close shuts the pool down and waits for every queued and running call: it
// is Shutdown(context.Background()). It always returns nil, and may be
// called any number of times. Python: shutdown(wait=True), or leaving a
// with block.
func (p *ThreadPool) Close() error { return p.Shutdown(context.Background()) }
