package threads

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/gofutures/futures/internal/goroutine"
)

// Deadlock detection.
//
// Every call a Pool runs gets a context that carries its worker under
// Config.WaiterKey, and so does every context derived from it. When a
// future's Result is about to block on such a context, it waits through
// the worker's WaitIn; in the worker's own goroutine, the pool records what
// the worker waits on and checks, under its mutex, whether that wait can
// end before its own deadline, if it has one:
//
//   - a worker is stuck if it waits, with no deadline, on a future that is
//     stuck;
//   - a future is stuck if it is running (or queued in a chunk) on a stuck
//     worker, or if it is queued in the pool while every worker, as many as
//     MaxWorkers allows, is stuck.
//
// The stuck set is the greatest fixpoint of these rules, where the new
// waiter counts as waiting with no deadline (a deadline can only end its
// wait with a timeout). If the new waiter is in it, WaitIn returns the
// Deadlock error instead of blocking. Another worker's wait with a
// deadline, a wait in another goroutine, a future done or owned by something
// else (a promise, another pool) is never stuck, so no worker that can free
// up by itself is taken for stuck; a wait without a deadline is, although
// its context may be cancelled later. Code that never waits inside a call
// pays nothing.

// WaitIn waits for done or ctx as Config.WaitDone does, for the call running
// on w, unless that wait would be a deadlock: then it returns the Deadlock
// error at once. f is the future waited on, whose Done channel is done.
func (w *worker[T]) WaitIn(ctx context.Context, f any, done <-chan struct{}) error {
	p := w.pool
	if goroutine.ID() != w.gid.Load() {
		return p.waitDone(ctx, done)
	}
	_, deadline := ctx.Deadline()
	p.mu.Lock()
	w.waitingOn, w.waitForever = f, !deadline
	if err := p.deadlockLocked(w); err != nil {
		w.waitingOn = nil
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		w.waitingOn = nil
		p.mu.Unlock()
	}()
	return p.waitDone(ctx, done)
}

// deadlockLocked returns the Deadlock error if w, which has just started
// waiting, can never be woken.
func (p *Pool[T]) deadlockLocked(w *worker[T]) error {
	// Where each awaited future is: on a worker, in the queue, or elsewhere.
	runner := make(map[any]*worker[T])
	for x := range p.all {
		x.cur.each(func(t T) {
			if f := p.tasks.Future(t); f != nil {
				runner[f] = x
			}
		})
	}
	p.drainInboxLocked()
	queued := make(map[any]*T)
	for x := range p.all {
		if x.waitingOn != nil && runner[x.waitingOn] == nil {
			queued[x.waitingOn] = nil
		}
	}
	p.queue.Each(func(e entry[T]) {
		e.each(func(t T) {
			if f := p.tasks.Future(t); f != nil {
				if _, wanted := queued[f]; wanted {
					queued[f] = &t
				}
			}
		})
	})

	// w's own wait ends only if its future finishes or its deadline
	// passes: for its own check it counts as stuck, other waits with a
	// deadline as ending.
	stuck := make(map[*worker[T]]bool)
	for x := range p.all {
		if x.waitingOn != nil && (x.waitForever || x == w) {
			stuck[x] = true
		}
	}
	full := len(p.all) == p.maxWorkers
	for changed := true; changed; {
		changed = false
		for x := range stuck {
			target := x.waitingOn
			ok := false
			if !p.tasks.IsDone(target) {
				if r := runner[target]; r != nil {
					ok = stuck[r]
				} else if queued[target] != nil {
					ok = full && len(stuck) == len(p.all)
				}
			}
			if !ok {
				delete(stuck, x)
				changed = true
			}
		}
	}
	if !stuck[w] {
		return nil
	}
	return p.errs.Deadlock(p.describeLocked(w, runner, queued))
}

// describeLocked names the calls of the wait chain that starts at w.
func (p *Pool[T]) describeLocked(w *worker[T], runner map[any]*worker[T], queued map[any]*T) string {
	names := []string{callName(w.task)}
	seen := map[*worker[T]]bool{w: true}
	for x := w; ; {
		target := x.waitingOn
		r := runner[target]
		if r == nil {
			workers := "whose only worker waits"
			if len(p.all) > 1 {
				workers = fmt.Sprintf("whose %d workers all wait", len(p.all))
			}
			queuedName := "a call"
			if t := queued[target]; t != nil {
				queuedName = callName(*t)
			}
			return fmt.Sprintf("%s waits on %s, queued in %s, %s on calls that cannot start",
				strings.Join(names, ", which waits on "), queuedName, p.name, workers)
		}
		rt := r.task // r waits too, so its task is stable
		if p.tasks.Future(rt) != target {
			return fmt.Sprintf("%s waits on a call queued behind %s on the same worker",
				strings.Join(names, ", which waits on "), callName(rt))
		}
		names = append(names, callName(rt))
		if seen[r] {
			return strings.Join(names, ", which waits on ") + ": a cycle"
		}
		seen[r] = true
		x = r
	}
}

// callName names the function of t for messages, such as "main.waitOnB".
func callName[T Task](t T) string {
	if any(t) == nil {
		return "a call"
	}
	v := reflect.ValueOf(t.Func())
	if v.Kind() != reflect.Func || v.IsNil() {
		return "a call"
	}
	if fn := runtime.FuncForPC(v.Pointer()); fn != nil {
		return fn.Name()
	}
	return "a call"
}
