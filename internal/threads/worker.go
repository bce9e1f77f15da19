package threads

import (
	"context"
	"log/slog"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/goroutine"
	"github.com/gofutures/futures/internal/guard"
)

// entry is one item of the queue: a single task, or a chunk run in order by
// one worker; the zero entry holds none.
type entry[T Task] struct {
	one  T
	many *[]T // a pointer keeps queue slots small
}

// isOne reports whether e holds a single task.
func (e entry[T]) isOne() bool { return any(e.one) != nil }

// chunk returns the tasks of a chunk entry, or nil.
func (e entry[T]) chunk() []T {
	if e.many == nil {
		return nil
	}
	return *e.many
}

func (e entry[T]) len() int {
	if e.isOne() {
		return 1
	}
	return len(e.chunk())
}

// tasks returns the tasks of e.
func (e entry[T]) tasks() []T {
	if e.isOne() {
		return []T{e.one}
	}
	return e.chunk()
}

// each calls fn for each task of e.
func (e entry[T]) each(fn func(T)) {
	if e.isOne() {
		fn(e.one)
	}
	for _, t := range e.chunk() {
		fn(t)
	}
}

// worker is one goroutine of the pool. Fields are owned by the worker's
// own goroutine, except cur, which is guarded by the pool's mutex.
type worker[T Task] struct {
	pool    *Pool[T]
	id      int
	gid     atomic.Uint64 // the worker goroutine's id
	ch      chan entry[T] // hands an entry to the idle worker; closed to stop it
	cur     entry[T]      // what the worker runs now
	pos     int           // index in cur's chunk of the task running now; -1 before the first
	curBase int           // counted when cur was set; guarded by the pool's mutex

	task     T           // the call running now, if any
	finished func(error) // counts the outcome of task in ended

	// ended counts the outcomes of the calls the worker finished, and
	// those calls as a negative Running. Only the worker adds to it, under
	// endedMu, so that finishing a call does not take the pool's mutex;
	// Stats reads it with every worker's endedMu held. counted counts the
	// calls the worker counted in all; once abandoned is set, a Shutdown
	// that gave up has counted the outcomes of the calls of cur the worker
	// had not counted, and the worker counts no more.
	endedMu   sync.Mutex
	ended     counts.Counters
	counted   int
	abandoned bool

	// What the running call waits on in a future's Result, and whether
	// without a deadline; guarded by the pool's mutex (see deadlock.go).
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

func (p *Pool[T]) spawnLocked() *worker[T] {
	p.nextID++
	w := &worker[T]{pool: p, id: p.nextID, ch: make(chan entry[T], 1), pos: -1}
	w.finished = func(err error) { w.finish(w.task, err) }
	p.all[w] = struct{}{}
	return w
}

// work is the body of a worker goroutine. A worker that replaces one that
// left through runtime.Goexit first runs the rest of its chunk, in w.cur.
func (p *Pool[T]) work(w *worker[T]) {
	clean := false
	defer func() { p.exit(w, clean) }()
	labels := pprof.Labels("futures.pool", p.name, "futures.worker", strconv.Itoa(w.id))
	p.logf(slog.LevelDebug, "futures: worker started", w)
	pprof.Do(p.runCtx, labels, func(ctx context.Context) {
		w.gid.Store(goroutine.ID())
		w.base = context.WithValue(ctx, p.waiterKey, w)
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
func (p *Pool[T]) initialize(w *worker[T]) (ok bool) {
	p.guard(func() error { return p.init(w.base) }, func(err error) {
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
func (p *Pool[T]) loop(w *worker[T]) {
	p.mu.Lock()
	for {
		e, ok := p.queue.Pop()
		if !ok {
			// Fails also while an Execute links its call: closing the
			// inbox below waits for it.
			var t T
			if t, ok = p.inbox.Pop(); ok {
				p.admitLocked(t)
				e = entry[T]{one: t}
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
			w.cur = entry[T]{}
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
func (p *Pool[T]) runEntry(w *worker[T], e entry[T]) {
	if e.isOne() {
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
// invoked and fails with the NotStarted error.
func (p *Pool[T]) run(w *worker[T], t T) {
	if t.Err() != nil {
		return
	}
	tc := t.Context()
	if d := tc.Done(); d != nil {
		select {
		case <-d:
			w.record(counts.Cancelled)
			p.tasks.Fail(t, p.errs.NotStarted(tc), nil)
			return
		default:
		}
	}
	w.task = t
	p.tasks.Run(t, p.contextFor(w, tc), w.finished)
	var none T
	w.task = none
}

// contextFor returns the context a call made with tc runs with: the
// worker's own for calls without a context, else one derived from tc that is
// also cancelled when Shutdown gives up.
func (p *Pool[T]) contextFor(w *worker[T], tc context.Context) context.Context {
	if tc.Done() == nil {
		return w.base
	}
	if tc != w.parent {
		w.forget()
		w.parent = tc
		var merged context.Context
		merged, w.cancel = context.WithCancelCause(tc)
		w.merged = context.WithValue(merged, p.waiterKey, w)
		cancel, run := w.cancel, p.runCtx
		w.stop = context.AfterFunc(run, func() { cancel(context.Cause(run)) })
	}
	return w.merged
}

// forget drops the worker's cached call context.
func (w *worker[T]) forget() {
	if w.stop != nil {
		w.stop()
		w.cancel(nil)
		w.parent, w.merged, w.cancel, w.stop = nil, nil, nil, nil
	}
}

// exit accounts for a worker goroutine that ends. A worker that did not end
// cleanly left through runtime.Goexit in a call: a replacement starts with
// the rest of its chunk, or if calls are queued.
func (p *Pool[T]) exit(w *worker[T], clean bool) {
	w.forget()
	if clean {
		p.logf(slog.LevelDebug, "futures: worker exited", w)
	} else {
		p.logf(slog.LevelWarn, "futures: worker exited through runtime.Goexit in a call; starting a replacement", w)
	}
	p.mu.Lock()
	var rest []T // the calls of cur the worker did not run
	if tasks := w.cur.chunk(); w.pos+1 < len(tasks) {
		rest = tasks[w.pos+1:]
	}
	w.cur = entry[T]{}
	w.endedMu.Lock()
	p.counts.Add(&w.ended)
	w.ended = counts.Counters{}
	if w.abandoned {
		rest = nil // failed and counted by Shutdown
	}
	w.endedMu.Unlock()
	p.closeInboxLocked()
	delete(p.all, w)
	var next *worker[T]
	if p.broken != nil {
		// No replacement could run them: they fail as queued calls do.
		p.counts.End(counts.Failed, int64(len(rest)))
	} else if !clean && (len(rest) > 0 || p.queue.Len() > 0) {
		next = p.spawnLocked()
		if len(rest) > 0 {
			left := rest
			next.cur = entry[T]{many: &left}
		}
		rest = nil
		p.openInboxLocked()
	}
	broken := p.broken
	p.checkExitedLocked()
	p.mu.Unlock()
	guard.Each(rest, func(t T) { p.tasks.Fail(t, broken, nil) })
	if next != nil {
		go p.work(next)
	}
}

// logf reports a lifecycle event of worker w to the Logger option's logger.
func (p *Pool[T]) logf(level slog.Level, msg string, w *worker[T], attrs ...any) {
	if p.log != nil {
		p.log.Log(context.Background(), level, msg, append([]any{"pool", p.name, "worker", w.id}, attrs...)...)
	}
}
