package futures

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/mpsc"
	"github.com/gofutures/futures/internal/ring"
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
	name       string
	maxWorkers int
	init       func(context.Context) error
	log        *slog.Logger // nil: silent
	queueSize  int64        // the QueueSize bound on counts.queued; 0 when unbounded
	// room is signalled, with QueueSize, when counts.queued goes down or the
	// pool stops accepting calls, to wake submitters blocked on a full queue.
	room sync.Cond
	// runCtx is the parent of every call's context; kill cancels it when
	// Shutdown gives up waiting.
	runCtx context.Context
	kill   context.CancelCauseFunc
	// abandonMu makes a Shutdown that gives up wait for another one that
	// gave up first to have failed every call and cancelled their contexts.
	abandonMu sync.Mutex

	// The inbox holds calls of Submit and Go that Execute pushed without
	// taking mu, oldest first. Execute pushes there while inboxOpen is set:
	// while the pool accepts calls, has all its workers, none of them idle,
	// and no QueueSize. pushing counts the Executes between reading
	// inboxOpen and pushing; whoever closes the inbox waits for them. Every
	// call in the inbox is newer than every call in queue: workers pop from
	// the inbox, under mu, when queue is empty, and the inbox is emptied
	// into queue, under mu, before anyone else looks at queue or pushes to
	// it.
	pushing   atomic.Int64
	inboxOpen atomic.Bool
	inbox     mpsc.Queue[Task] // its popping end is guarded by mu

	mu       sync.Mutex
	queue    ring.Queue[entry]
	idle     []*threadWorker            // idle workers, most recently idle last
	all      map[*threadWorker]struct{} // every live worker
	nextID   int
	shutdown bool
	broken   error
	exited   chan struct{} // closed once shut down with no worker left
	isExited bool
	counts   counters // less the live workers' ended
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
	p := &ThreadPool{
		name:       cfg.name,
		maxWorkers: cfg.maxWorkers,
		init:       cfg.initializer,
		log:        cfg.logger,
		all:        make(map[*threadWorker]struct{}),
		exited:     make(chan struct{}),
	}
	if p.name == "" {
		p.name = "ThreadPool-" + strconv.FormatInt(poolCount.Add(1), 10)
	}
	if p.maxWorkers == 0 {
		p.maxWorkers = DefaultThreadWorkers()
	}
	p.queueSize = int64(cfg.queueSize)
	p.room.L = &p.mu
	p.inbox.Init()
	p.runCtx, p.kill = context.WithCancelCause(context.Background())
	return p, nil
}

// MaxWorkers returns the most goroutines the pool runs at once.
func (p *ThreadPool) MaxWorkers() int { return p.maxWorkers }

// String returns the pool's name, as set by the Name option.
func (p *ThreadPool) String() string { return p.name }

// forgetsFinishedTasks makes the pool a taskForgetter: its workers touch no
// call they have finished.
func (p *ThreadPool) forgetsFinishedTasks(ex Executor) bool { return ex == Executor(p) }

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
	if it, ok := t.(inboxTask); ok && p.inboxOpen.Load() && p.push(it.inboxLink(), t) {
		return nil
	}
	return p.enqueue(entry{one: t}, t.Context())
}

// push pushes t, whose link is l, into the inbox, unless it is closed.
func (p *ThreadPool) push(l *mpsc.Node[Task], t Task) bool {
	p.pushing.Add(1)
	defer p.pushing.Add(-1)
	if !p.inboxOpen.Load() {
		return false
	}
	p.inbox.Push(l, t)
	return true
}

// drainInboxLocked moves the calls of the inbox to the queue, oldest first,
// and counts them as accepted by Execute. It waits for the Executes that
// are pushing a call.
func (p *ThreadPool) drainInboxLocked() {
	for {
		t, ok := p.inbox.PopWait()
		if !ok {
			return
		}
		p.admitLocked(t)
		p.queue.Push(entry{one: t})
	}
}

// openInboxLocked opens the inbox if the pool may take calls through it:
// it accepts calls, has all its workers and none is idle.
func (p *ThreadPool) openInboxLocked() {
	if p.queueSize == 0 && !p.shutdown && p.broken == nil && len(p.all) == p.maxWorkers && len(p.idle) == 0 {
		p.inboxOpen.Store(true)
	}
}

// closeInboxLocked closes the inbox, waits for the Executes pushing into it
// and moves what they pushed to the queue.
func (p *ThreadPool) closeInboxLocked() {
	if p.inboxOpen.Load() && p.inboxOpen.Swap(false) {
		for p.pushing.Load() != 0 {
			runtime.Gosched()
		}
	}
	p.drainInboxLocked()
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
	return p.enqueue(entry{many: &ts}, ts[0].Context())
}

func (p *ThreadPool) enqueue(e entry, ctx context.Context) error {
	p.mu.Lock()
	if p.queueSize > 0 {
		if err := p.waitRoomLocked(ctx, int64(e.len())); err != nil {
			p.mu.Unlock()
			return err
		}
	}
	if err := p.refusalLocked(); err != nil {
		p.mu.Unlock()
		return err
	}
	if it, ok := e.one.(inboxTask); ok && p.inboxOpen.Load() {
		// The inbox opened since Execute looked: join it rather than move
		// it all to queue. The push cannot fail, as closing takes mu.
		p.push(it.inboxLink(), e.one)
		p.mu.Unlock()
		return nil
	}
	p.drainInboxLocked() // older than e
	if k := len(p.idle); k > 0 {
		run := p.startLocked(e, true)
		if run.len() == 0 { // every call was cancelled already
			p.mu.Unlock()
			return nil
		}
		w := p.idle[k-1]
		p.idle[k-1] = nil
		p.idle = p.idle[:k-1]
		w.cur, w.curBase = run, w.counted
		p.openInboxLocked()
		p.mu.Unlock()
		w.ch <- run
		return nil
	}
	e.each(p.admitLocked)
	p.queue.Push(e)
	var w *threadWorker
	if len(p.all) < p.maxWorkers {
		w = p.spawnLocked()
		p.openInboxLocked()
	}
	p.mu.Unlock()
	if w != nil {
		go p.work(w)
	}
	return nil
}

// Refusal returns the error Execute would return now for any call:
// ErrShutdown after Shutdown, an ErrBrokenExecutor error once an
// Initializer failed; nil if it would accept the call. It makes the pool a
// Refuser.
func (p *ThreadPool) Refusal(fn any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusalLocked()
}

// refusalLocked returns why the pool refuses new calls, or nil.
func (p *ThreadPool) refusalLocked() error {
	if p.shutdown {
		return ErrShutdown
	}
	return p.broken
}

// waitRoomLocked waits, with QueueSize, until the queue has room for n more
// calls: they fit, or the queue is empty (a chunk larger than the bound goes
// in alone), or a worker is idle to take them. It returns why the pool
// refuses calls, or an error matching ctx's if ctx ends first.
func (p *ThreadPool) waitRoomLocked(ctx context.Context, n int64) error {
	return waitRoom(ctx, &p.room, "ThreadPool", func() (bool, error) {
		if err := p.refusalLocked(); err != nil {
			return false, err
		}
		q := p.counts.Queued
		return q == 0 || q+n <= p.queueSize || len(p.idle) > 0, nil
	})
}
