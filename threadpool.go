package futures

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/pprof"
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
	idle     []*worker            // idle workers, most recently idle last
	all      map[*worker]struct{} // every live worker
	nextID   int
	shutdown bool
	broken   error
	exited   chan struct{} // closed once shut down with no worker left
	isExited bool
	counts   counters // less the live workers' ended
}

// entry is one item of the queue: a single task, or a chunk run in order by
// one worker.
type entry struct {
	one  Task
	many *[]Task // a pointer keeps queue slots small
}

// chunk returns the tasks of a chunk entry, or nil.
func (e entry) chunk() []Task {
	if e.many == nil {
		return nil
	}
	return *e.many
}

func (e entry) len() int {
	if e.one != nil {
		return 1
	}
	return len(e.chunk())
}

// each calls fn for each task of e.
func (e entry) each(fn func(Task)) {
	if e.one != nil {
		fn(e.one)
	}
	for _, t := range e.chunk() {
		fn(t)
	}
}

// worker is one goroutine of the pool. Fields are owned by the worker's own
// goroutine, except cur, which is guarded by the pool's mutex.
type worker struct {
	pool    *ThreadPool
	id      int
	gid     atomic.Uint64 // the worker goroutine's id
	ch      chan entry    // hands an entry to the idle worker; closed to stop it
	cur     entry         // what the worker runs now
	pos     int           // index in cur's chunk of the task running now; -1 before the first
	curBase int           // counted when cur was set; guarded by the pool's mutex

	task     Task        // the call running now, if any
	finished func(error) // counts the outcome of task in ended

	// ended counts the outcomes of the calls the worker finished, and
	// those calls as a negative Running. Only the worker adds to it, under
	// endedMu, so that finishing a call does not take the pool's mutex;
	// Stats reads it with every worker's endedMu held. counted counts the
	// calls the worker counted in all; once abandoned is set, a Shutdown
	// that gave up has counted the outcomes of the calls of cur the worker
	// had not counted, and the worker counts no more.
	endedMu   sync.Mutex
	ended     counters
	counted   int
	abandoned bool

	// What the running call waits on in Future.Result, and whether without
	// a deadline; guarded by the pool's mutex (see deadlock.go).
	waitingOn   any
	waitForever bool

	base context.Context // context of calls without one of their own

	// The context of the last call that came with its own (from Map), kept
	// for the next calls of the same Map.
	parent context.Context
	merged context.Context
	cancel context.CancelCauseFunc
	stop   func() bool
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
		all:        make(map[*worker]struct{}),
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
	for _, t := range ts {
		if t == nil {
			return errors.New("futures: ThreadPool.ExecuteBatch: a Task is nil")
		}
	}
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return p.Execute(ts[0])
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
	var w *worker
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

// Counting calls. Stats are kept under the pool's mutex. A call is Queued
// from Execute until a worker starts it (startLocked) or it leaves the queue
// unstarted (dropLocked); then Running until finished counts its outcome.
// The tasks of this package report their own cancellation while queued
// (noteCancelled), so that Stats are exact the moment Cancel returns. A call
// Execute hands straight to an idle worker is never Queued.

// admitLocked counts a call accepted by Execute.
func (p *ThreadPool) admitLocked(t Task) {
	if o, ok := t.(ownedTask); ok && !o.setOwner(p) {
		p.counts.endNew(endOf(t), 1) // cancelled or failed before it got here
		return
	}
	p.counts.queue(1)
}

// noteCancelled counts a queued call of this package that was cancelled.
func (p *ThreadPool) noteCancelled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.endQueued(endCancelled, 1)
	p.roomFreedLocked()
}

// roomFreedLocked wakes the submitters waiting for room in the queue, with
// QueueSize, after counts.queued went down.
func (p *ThreadPool) roomFreedLocked() {
	if p.queueSize > 0 {
		p.room.Broadcast()
	}
}

// startLocked starts the calls of e a worker is about to run, and returns
// those that started: the others were cancelled (or failed) before. fresh
// tells that e comes from Execute rather than from the queue.
func (p *ThreadPool) startLocked(e entry, fresh bool) entry {
	if e.one != nil {
		if !p.startOneLocked(e.one, fresh) {
			return entry{}
		}
		return e
	}
	ts := e.chunk()
	for i, t := range ts {
		if !p.startOneLocked(t, fresh) {
			// Some did not start: the others go in a slice of their own,
			// since the caller may still read ts (Map reuses its tasks).
			started := append(make([]Task, 0, len(ts)-1), ts[:i]...)
			for _, t := range ts[i+1:] {
				if p.startOneLocked(t, fresh) {
					started = append(started, t)
				}
			}
			return entry{many: &started}
		}
	}
	return e
}

// startOneLocked starts t and counts it; fresh is as for startLocked.
func (p *ThreadPool) startOneLocked(t Task, fresh bool) bool {
	if fresh {
		if !t.Start() {
			p.counts.endNew(endOf(t), 1) // cancelled or failed before it got here
			return false
		}
		p.counts.startNew(1)
		return true
	}
	if t.Start() {
		p.counts.start(1)
		p.roomFreedLocked()
		return true
	}
	p.dropLocked(t, false)
	return false
}

// dropLocked counts a call that left the queue without running. ended tells
// whether the caller ended it just now with Complete.
func (p *ThreadPool) dropLocked(t Task, ended bool) {
	if _, ok := t.(ownedTask); ok && !ended {
		return // counted by noteCancelled, or by admitLocked
	}
	p.counts.endQueued(endOf(t), 1)
	p.roomFreedLocked()
}

// finish counts the outcome of a call w ran; err is its error.
func (w *worker) finish(t Task, err error) {
	end := endFailed
	if err == nil && t.Err() == nil {
		end = endSucceeded
	}
	w.endedMu.Lock()
	defer w.endedMu.Unlock()
	if w.abandoned {
		return
	}
	w.counted++
	w.ended.end(end, 1)
}

// Stats returns a snapshot of the pool's counters; the counts add up (see
// Stats). A call's outcome is counted before its future completes, and a
// queued call's cancellation before Cancel returns.
func (p *ThreadPool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drainInboxLocked()
	c := p.counts
	// Hold every worker's endedMu at once, so that the counts are those of
	// one instant.
	for w := range p.all {
		w.endedMu.Lock()
	}
	for w := range p.all {
		c.add(&w.ended)
		w.endedMu.Unlock()
	}
	return c.stats(len(p.all))
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
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		if err := p.refusalLocked(); err != nil {
			return err
		}
		if q := p.counts.queued; q == 0 || q+n <= p.queueSize || len(p.idle) > 0 {
			return nil
		}
		if ctx.Err() != nil {
			return stopError("gave up waiting for room in the ThreadPool's queue", ctx, ErrCancelled)
		}
		if stop == nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, func() {
				p.mu.Lock()
				p.room.Broadcast()
				p.mu.Unlock()
			})
		}
		p.room.Wait()
	}
}

func (p *ThreadPool) spawnLocked() *worker {
	p.nextID++
	w := &worker{pool: p, id: p.nextID, ch: make(chan entry, 1), pos: -1}
	w.finished = func(err error) { w.finish(w.task, err) }
	p.all[w] = struct{}{}
	return w
}

// work is the body of a worker goroutine. A worker that replaces one that
// left through runtime.Goexit first runs the rest of its chunk, in w.cur.
func (p *ThreadPool) work(w *worker) {
	clean := false
	defer func() { p.exit(w, clean) }()
	labels := pprof.Labels("futures.pool", p.name, "futures.worker", strconv.Itoa(w.id))
	p.logf(slog.LevelDebug, "futures: worker started", w)
	pprof.Do(p.runCtx, labels, func(ctx context.Context) {
		w.gid.Store(goid())
		w.base = context.WithValue(ctx, callWaiterKey{}, w)
		if p.init != nil && !p.initialize(w) {
			return
		}
		p.runEntry(w, w.cur)
		p.loop(w)
	})
	clean = true
}

// initialize runs the Initializer in w and breaks the pool if it fails:
// returns an error, panics or calls runtime.Goexit.
func (p *ThreadPool) initialize(w *worker) (ok bool) {
	runGuarded(func() (struct{}, error) { return struct{}{}, p.init(w.base) }, nil, func(_ struct{}, err error) {
		if err != nil {
			p.logf(slog.LevelError, "futures: worker initializer failed; the pool is broken", w, "error", err)
			p.breakPool(err)
		}
		ok = err == nil
	})
	return ok
}

// loop runs entries until the pool is shut down or broken and the queue is
// empty.
func (p *ThreadPool) loop(w *worker) {
	p.mu.Lock()
	for {
		e, ok := p.queue.Pop()
		if !ok {
			// Fails also while an Execute links its call: closing the
			// inbox below waits for it.
			var t Task
			if t, ok = p.inbox.Pop(); ok {
				p.admitLocked(t)
				e = entry{one: t}
			}
		}
		if !ok && !p.shutdown && p.broken == nil {
			// About to go idle: calls must come through Execute's lock
			// again, to be handed over.
			p.closeInboxLocked()
			if e, ok = p.queue.Pop(); ok {
				p.openInboxLocked()
			}
		}
		if ok {
			run := p.startLocked(e, false)
			w.cur, w.curBase = run, w.counted
			p.mu.Unlock()
			e = run
		} else {
			w.cur = entry{}
			if p.shutdown || p.broken != nil {
				p.mu.Unlock()
				return
			}
			p.idle = append(p.idle, w)
			p.mu.Unlock()
			if e, ok = <-w.ch; !ok {
				return
			}
		}
		p.runEntry(w, e)
		p.mu.Lock()
	}
}

// runEntry runs the started calls of e in order.
func (p *ThreadPool) runEntry(w *worker, e entry) {
	if e.one != nil {
		p.run(w, e.one)
		return
	}
	for i, t := range e.chunk() {
		w.pos = i
		p.run(w, t)
	}
}

// run runs a started call, unless a forced Shutdown ended it already (and
// counted it) or its context ended before its turn: such a call is not
// invoked and fails with an error matching ErrCancelled.
func (p *ThreadPool) run(w *worker, t Task) {
	if t.Err() != nil {
		return
	}
	tc := t.Context()
	if d := tc.Done(); d != nil {
		select {
		case <-d:
			err := notStarted(tc)
			w.finish(t, err)
			failRunning(t, err)
			return
		default:
		}
	}
	w.task = t
	ctx := p.contextFor(w, tc)
	if o, ok := t.(ownedTask); ok {
		o.runThen(ctx, w.finished)
	} else {
		t.Run(ctx)
		w.finished(t.Err())
	}
	w.task = nil
}

// contextFor returns the context a call made with tc runs with: the
// worker's own for calls without a context, else one derived from tc that is
// also cancelled when Shutdown gives up.
func (p *ThreadPool) contextFor(w *worker, tc context.Context) context.Context {
	if tc.Done() == nil {
		return w.base
	}
	if tc != w.parent {
		w.forget()
		w.parent = tc
		var merged context.Context
		merged, w.cancel = context.WithCancelCause(tc)
		w.merged = context.WithValue(merged, callWaiterKey{}, w)
		cancel, run := w.cancel, p.runCtx
		w.stop = context.AfterFunc(run, func() { cancel(context.Cause(run)) })
	}
	return w.merged
}

// forget drops the worker's cached call context.
func (w *worker) forget() {
	if w.stop != nil {
		w.stop()
		w.cancel(nil)
		w.parent, w.merged, w.cancel, w.stop = nil, nil, nil, nil
	}
}

// exit accounts for a worker goroutine that ends. A worker that did not end
// cleanly left through runtime.Goexit in a call: a replacement starts with
// the rest of its chunk, or if calls are queued.
func (p *ThreadPool) exit(w *worker, clean bool) {
	w.forget()
	if clean {
		p.logf(slog.LevelDebug, "futures: worker exited", w)
	} else {
		p.logf(slog.LevelWarn, "futures: worker exited through runtime.Goexit in a call; starting a replacement", w)
	}
	p.mu.Lock()
	var rest []Task // the calls of cur the worker did not run
	if tasks := w.cur.chunk(); w.pos+1 < len(tasks) {
		rest = tasks[w.pos+1:]
	}
	w.cur = entry{}
	w.endedMu.Lock()
	p.counts.add(&w.ended)
	w.ended = counters{}
	if w.abandoned {
		rest = nil // failed and counted by Shutdown
	}
	w.endedMu.Unlock()
	p.closeInboxLocked()
	delete(p.all, w)
	var next *worker
	if p.broken != nil {
		// No replacement could run them: they fail as queued calls do.
		p.counts.end(endFailed, int64(len(rest)))
	} else if !clean && (len(rest) > 0 || p.queue.Len() > 0) {
		next = p.spawnLocked()
		if len(rest) > 0 {
			left := rest
			next.cur = entry{many: &left}
		}
		rest = nil
		p.openInboxLocked()
	}
	broken := p.broken
	p.checkExitedLocked()
	p.mu.Unlock()
	for _, t := range rest {
		failRunning(t, broken)
	}
	if next != nil {
		go p.work(next)
	}
}

// logf reports a lifecycle event of worker w to the Logger option's logger.
func (p *ThreadPool) logf(level slog.Level, msg string, w *worker, attrs ...any) {
	if p.log != nil {
		p.log.Log(context.Background(), level, msg, append([]any{"pool", p.name, "worker", w.id}, attrs...)...)
	}
}

func (p *ThreadPool) checkExitedLocked() {
	if p.shutdown && len(p.all) == 0 && !p.isExited {
		p.isExited = true
		close(p.exited)
	}
}

// breakPool marks the pool broken by an Initializer's error: queued calls
// fail, idle workers exit and later calls are refused.
func (p *ThreadPool) breakPool(cause error) {
	p.mu.Lock()
	if p.broken != nil {
		p.mu.Unlock()
		return
	}
	p.broken = &brokenError{msg: fmt.Sprintf("futures: an Initializer of ThreadPool %q failed; the pool cannot run calls", p.name), cause: cause}
	p.closeInboxLocked()
	queued := p.queue.Drain()
	idle := p.idle
	p.idle = nil
	p.room.Broadcast()
	p.mu.Unlock()
	for _, w := range idle {
		close(w.ch)
	}
	p.endQueued(queued, func(t Task) bool { return t.Complete(nil, p.broken) })
}

// endQueued ends the calls of es, taken out of the queue, with end, which
// returns whether it ended the call (false: it was done already).
func (p *ThreadPool) endQueued(es []entry, end func(Task) bool) {
	for _, e := range es {
		e.each(func(t Task) {
			ended := end(t)
			p.mu.Lock()
			p.dropLocked(t, ended)
			p.mu.Unlock()
		})
	}
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
func (p *ThreadPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if ctx == nil {
		return errors.New("futures: ThreadPool.Shutdown: the context is nil; use context.Background()")
	}
	cfg := ReadShutdownOptions(opts...)
	self := goid()
	p.mu.Lock()
	p.shutdown = true
	p.closeInboxLocked()
	inside := false
	for w := range p.all {
		inside = inside || w.gid.Load() == self
	}
	var cancelled []entry
	if cfg.CancelPending {
		cancelled = p.queue.Drain()
	}
	idle := p.idle
	p.idle = nil
	p.room.Broadcast()
	p.checkExitedLocked()
	p.mu.Unlock()
	for _, w := range idle {
		close(w.ch)
	}
	// A cancellation is counted by noteCancelled, not as ended here.
	p.endQueued(cancelled, func(t Task) bool { t.Cancel(); return false })
	if inside {
		return errShutdownInside
	}
	select {
	case <-p.exited: // nothing left to wait for, whatever ctx says
		return nil
	default:
	}
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
	}
	p.abandon(ctx)
	return ctx.Err()
}

// errShutdownInside is returned by Shutdown called from one of the pool's own
// calls, which it cannot wait for.
var errShutdownInside = fmt.Errorf("%w: Shutdown was called from a call running on the same pool and cannot wait for that call; the pool stopped accepting calls and finishes the others: call Shutdown or Close from outside the pool to wait", ErrDeadlock)

// notStarted is the error of a call whose context ctx ended before a worker
// got to it.
func notStarted(ctx context.Context) error {
	return fmt.Errorf("%w: its context ended before a worker got to it (%w)", ErrCancelled, context.Cause(ctx))
}

// abandon ends every queued and running call because Shutdown's ctx ended.
func (p *ThreadPool) abandon(ctx context.Context) {
	p.mu.Lock()
	p.drainInboxLocked()
	queued := p.queue.Drain()
	var running []Task
	for w := range p.all {
		running = append(running, w.takeOverLocked()...)
	}
	p.mu.Unlock()
	// Fail the futures first, so that no call ends with its own reaction to
	// the cancellation instead.
	cause := ctx.Err()
	notRun := &brokenError{msg: "futures: the pool was shut down before the call ran", cause: cause}
	p.endQueued(queued, func(t Task) bool { return t.Complete(nil, notRun) })
	stopped := &brokenError{msg: "futures: Shutdown gave up waiting for the call and cancelled its context", cause: cause}
	for _, t := range running {
		failRunning(t, stopped)
	}
	p.kill(&brokenError{msg: "futures: Shutdown gave up waiting", cause: cause})
}

// takeOverLocked returns the calls of w's entry whose outcome w has not
// counted yet, counted as failed: the caller fails them. w counts no more.
func (w *worker) takeOverLocked() []Task {
	w.endedMu.Lock()
	defer w.endedMu.Unlock()
	if w.abandoned {
		return nil
	}
	w.abandoned = true
	var ts []Task
	if w.cur.one != nil {
		ts = []Task{w.cur.one}
	} else {
		ts = w.cur.chunk()
	}
	ts = ts[min(w.counted-w.curBase, len(ts)):]
	w.ended.end(endFailed, int64(len(ts)))
	return ts
}

// Close shuts the pool down and waits for every queued and running call: it
// is Shutdown(context.Background()). It always returns nil, and may be
// called any number of times. Python: shutdown(wait=True), or leaving a
// with block.
func (p *ThreadPool) Close() error { return p.Shutdown(context.Background()) }
