// Package threads is the machinery of the root package's ThreadPool: the
// queue of pending calls and the inbox that takes them without the lock,
// the worker goroutines, the counts behind Stats, breaking and shutting
// down, and the deadlock check of a call that waits on another call of its
// own pool. The ThreadPool is a thin wrapper around a Pool of its Tasks,
// which handles them through the Task methods and, for what it cannot name,
// through Tasks and Errors, which package futures implements.
package threads

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/mpsc"
	"github.com/gofutures/futures/internal/ring"
)

// Task is one call a Pool runs: the root package's Task has these methods.
type Task interface {
	// Context is the context of whoever made the call.
	Context() context.Context
	// Func returns the function to call, which names the call in errors.
	Func() any
	// Start moves the call from pending to running; false means it is not
	// pending any more, and the pool drops it.
	Start() bool
	// Cancel cancels the call if it is still pending.
	Cancel() bool
	// Err returns the call's error once it is done.
	Err() error
}

// Tasks is what a Pool does with its tasks, values of T (package futures'
// Task), beyond the methods of Task: package futures implements it, since
// a task there may have optional methods, for exact counts and fast paths,
// that this package cannot name.
type Tasks[T Task] interface {
	// Own makes the pool the owner of t, told through Pool.NoteCancelled
	// when t is cancelled while queued. owned is false for a task that
	// takes no owner, whose end the pool counts when it sees it; pending
	// is false if t is not pending any more.
	Own(t T) (owned, pending bool)
	// Future returns the future t completes, as the identity the deadlock
	// check compares, for a task that takes an owner; nil for another.
	Future(t T) any
	// IsDone reports whether f, a future given to WaitIn or returned by
	// Future, is done.
	IsDone(f any) bool
	// Ending returns how t, which ended without running, ended.
	Ending(t T) counts.Ending
	// Run runs t with ctx in the calling goroutine, calling before with
	// the call's error just before its future completes.
	Run(t T, ctx context.Context, before func(error))
	// Fail fails t, which is running or may have finished already, with
	// err; with later not nil, the OnDone callbacks of its future are
	// passed to later instead of being run.
	Fail(t T, err error, later func(func()))
}

// Errors makes the errors of package futures that a Pool returns and fails
// calls with.
type Errors interface {
	// Shutdown is the error of a call made after Shutdown.
	Shutdown() error
	// ShutdownInside is the error of a Shutdown called from one of the
	// pool's own calls, which it cannot wait for.
	ShutdownInside() error
	// Broken returns an error saying msg that matches ErrBrokenExecutor
	// and cause.
	Broken(msg string, cause error) error
	// NotStarted is the error of a call that was not invoked because ctx,
	// its context, had ended when its turn came.
	NotStarted(ctx context.Context) error
	// Deadlock is the error of a wait that could never end, where chain
	// names the calls that wait on each other.
	Deadlock(chain string) error
}

// Config is how a Pool is set up.
type Config struct {
	Name       string // names the pool in errors, logs and profiles
	MaxWorkers int    // the most worker goroutines at once; at least 1
	// Init, if not nil, runs first in every worker goroutine with the
	// context of calls without one of their own; an error breaks the pool.
	Init func(context.Context) error
	// Log, if not nil, gets the workers' lifecycle events.
	Log *slog.Logger
	// QueueSize bounds the number of queued calls; 0 means unbounded.
	QueueSize int
	// WaiterKey is the context key under which the context of every call
	// carries its worker, whose WaitIn method is the deadlock check.
	WaiterKey any
	// Guard calls body and passes its error to settle; a panic or a
	// runtime.Goexit in body settles with an error, and a Goexit then
	// goes on exiting the goroutine. The Initializer runs under it.
	Guard func(body func() error, settle func(error))
	// WaitDone blocks until done is closed or ctx ends, as a future's
	// Result does without the deadlock check.
	WaitDone func(ctx context.Context, done <-chan struct{}) error
	// WaitRoom waits on room, whose lock is held, until check returns an
	// error or true, or until ctx ends, and returns check's error or the
	// error of a wait that gave up.
	WaitRoom func(ctx context.Context, room *sync.Cond, check func() (bool, error)) error
}

// Pool runs tasks on a pool of goroutines. Workers start lazily, one for
// each call that finds no idle worker, up to MaxWorkers, and then stay up,
// blocked on the queue, until the pool is shut down. While every worker is
// busy, Execute queues a call that has an inbox link without taking the
// pool's lock. T is an interface type, such as the root package's Task: a
// nil T stands for no task. Set it up with Init; all methods are safe for
// concurrent use.
type Pool[T Task] struct {
	name       string
	maxWorkers int
	init       func(context.Context) error
	log        *slog.Logger // nil: silent
	queueSize  int64        // the QueueSize bound on counts.Queued; 0 when unbounded
	waiterKey  any
	guard      func(body func() error, settle func(error))
	waitDone   func(ctx context.Context, done <-chan struct{}) error
	waitRoom   func(ctx context.Context, room *sync.Cond, check func() (bool, error)) error
	tasks      Tasks[T]
	errs       Errors
	// room is signalled, with QueueSize, when counts.Queued goes down or
	// the pool stops accepting calls, to wake submitters blocked on a full
	// queue.
	room sync.Cond
	// runCtx is the parent of every call's context; kill cancels it when
	// Shutdown gives up waiting.
	runCtx context.Context
	kill   context.CancelCauseFunc
	// abandonMu makes a Shutdown that gives up wait for another one that
	// gave up first to have failed every call and cancelled their contexts.
	abandonMu sync.Mutex

	// The inbox holds calls that Execute pushed without taking mu, oldest
	// first. Execute pushes there while inboxOpen is set: while the pool
	// accepts calls, has all its workers, none of them idle, and no
	// QueueSize. pushing counts the Executes between reading inboxOpen and
	// pushing; whoever closes the inbox waits for them. Every call in the
	// inbox is newer than every call in queue: workers pop from the inbox,
	// under mu, when queue is empty, and the inbox is emptied into queue,
	// under mu, before anyone else looks at queue or pushes to it.
	pushing   atomic.Int64
	inboxOpen atomic.Bool
	inbox     mpsc.Queue[T] // its popping end is guarded by mu

	mu       sync.Mutex
	queue    ring.Queue[entry[T]]
	idle     []*worker[T]            // idle workers, most recently idle last
	all      map[*worker[T]]struct{} // every live worker
	nextID   int
	shutdown bool
	broken   error
	exited   chan struct{} // closed once shut down with no worker left
	isExited bool
	counts   counts.Counters // less the live workers' ended
}

// Init sets the pool up as cfg says, handling its tasks through tasks and
// making its errors with errs. It starts no goroutine until the first call.
func (p *Pool[T]) Init(cfg Config, tasks Tasks[T], errs Errors) {
	p.name, p.maxWorkers, p.init, p.log = cfg.Name, cfg.MaxWorkers, cfg.Init, cfg.Log
	p.queueSize = int64(cfg.QueueSize)
	p.waiterKey, p.guard, p.waitDone, p.waitRoom = cfg.WaiterKey, cfg.Guard, cfg.WaitDone, cfg.WaitRoom
	p.tasks, p.errs = tasks, errs
	p.all = make(map[*worker[T]]struct{})
	p.exited = make(chan struct{})
	p.room.L = &p.mu
	p.inbox.Init()
	p.runCtx, p.kill = context.WithCancelCause(context.Background())
}

// Name returns the pool's name.
func (p *Pool[T]) Name() string { return p.name }

// MaxWorkers returns the most goroutines the pool runs at once.
func (p *Pool[T]) MaxWorkers() int { return p.maxWorkers }

// Execute queues t, or hands it to an idle worker, and starts a worker if
// none is idle and fewer than MaxWorkers are alive. link, if not nil, is
// t's own node for the inbox. It returns ErrShutdown after Shutdown and a
// broken error after an Initializer failed. With QueueSize, it blocks while
// the queue is full.
func (p *Pool[T]) Execute(t T, link *mpsc.Node[T]) error {
	if link != nil && p.inboxOpen.Load() && p.push(link, t) {
		return nil
	}
	return p.enqueue(entry[T]{one: t}, link, t.Context())
}

// push pushes t, whose link is l, into the inbox, unless it is closed. It
// has no defer, so that it inlines into Execute: nothing in it can panic.
func (p *Pool[T]) push(l *mpsc.Node[T], t T) bool {
	p.pushing.Add(1)
	ok := p.inboxOpen.Load()
	if ok {
		p.inbox.Push(l, t)
	}
	p.pushing.Add(-1)
	return ok
}

// drainInboxLocked moves the calls of the inbox to the queue, oldest first,
// and counts them as accepted by Execute. It waits for the Executes that
// are pushing a call.
func (p *Pool[T]) drainInboxLocked() {
	for {
		t, ok := p.inbox.PopWait()
		if !ok {
			return
		}
		p.admitLocked(t)
		p.queue.Push(entry[T]{one: t})
	}
}

// openInboxLocked opens the inbox if the pool may take calls through it:
// it accepts calls, has all its workers and none is idle.
func (p *Pool[T]) openInboxLocked() {
	if p.queueSize == 0 && !p.shutdown && p.broken == nil && len(p.all) == p.maxWorkers && len(p.idle) == 0 {
		p.inboxOpen.Store(true)
	}
}

// closeInboxLocked closes the inbox, waits for the Executes pushing into it
// and moves what they pushed to the queue.
func (p *Pool[T]) closeInboxLocked() {
	if p.inboxOpen.Load() && p.inboxOpen.Swap(false) {
		for p.pushing.Load() != 0 {
			runtime.Gosched()
		}
	}
	p.drainInboxLocked()
}

// ExecuteBatch queues ts, at least two tasks, as one chunk that a single
// worker runs in order. The pool keeps ts; the caller must not change it.
func (p *Pool[T]) ExecuteBatch(ts []T) error {
	return p.enqueue(entry[T]{many: &ts}, nil, ts[0].Context())
}

func (p *Pool[T]) enqueue(e entry[T], link *mpsc.Node[T], ctx context.Context) error {
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
	if link != nil && p.inboxOpen.Load() {
		// The inbox opened since Execute looked: join it rather than move
		// it all to queue. The push cannot fail, as closing takes mu.
		p.push(link, e.one)
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
	var w *worker[T]
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
// ErrShutdown after Shutdown, a broken error once an Initializer failed;
// nil if it would accept the call.
func (p *Pool[T]) Refusal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusalLocked()
}

// refusalLocked returns why the pool refuses new calls, or nil.
func (p *Pool[T]) refusalLocked() error {
	if p.shutdown {
		return p.errs.Shutdown()
	}
	return p.broken
}

// waitRoomLocked waits, with QueueSize, until the queue has room for n more
// calls: they fit, or the queue is empty (a chunk larger than the bound goes
// in alone), or a worker is idle to take them. It returns why the pool
// refuses calls, or an error matching ctx's if ctx ends first.
func (p *Pool[T]) waitRoomLocked(ctx context.Context, n int64) error {
	return p.waitRoom(ctx, &p.room, func() (bool, error) {
		if err := p.refusalLocked(); err != nil {
			return false, err
		}
		q := p.counts.Queued
		return q == 0 || q+n <= p.queueSize || len(p.idle) > 0, nil
	})
}
