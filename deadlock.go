package futures

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
// Every call a ThreadPool runs gets a context that carries its worker as
// the callWaiter (capabilities.go), and so does every context derived from
// it. When Future.Result is about to block on such a context, it waits
// through the worker; in the worker's own goroutine, the pool records
// what the worker waits on and checks, under its mutex, whether that wait can
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
// wait with a timeout). If the new waiter is in it, Result returns an
// ErrDeadlock error instead of blocking. Another worker's wait with a
// deadline, a wait in another goroutine, a future done or owned by something
// else (a promise, another pool) is never stuck, so no worker that can free
// up by itself is taken for stuck; a wait without a deadline is, although
// its context may be cancelled later. Code that never waits inside a call
// pays nothing.
//
// Only Future.Result is checked: Wait, AsCompleted and Map called inside a
// call, and a Submit blocked on a full QueueSize, wait without the check.

// waitIn waits for done or ctx like Future.wait, for the call running on
// w, unless that wait would be a deadlock: w is the callWaiter of the
// contexts of its calls. f is the future waited on.
func (w *threadWorker) waitIn(ctx context.Context, f any, done <-chan struct{}) error {
	p := w.pool
	if goid() != w.gid.Load() {
		return waitDone(ctx, done)
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
	return waitDone(ctx, done)
}

// waitDone blocks until done is closed or ctx ends.
func waitDone(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return stopError("stopped waiting for the result", ctx, nil)
	}
}

// deadlockLocked returns an ErrDeadlock error if w, which has just started
// waiting, can never be woken.
func (p *ThreadPool) deadlockLocked(w *threadWorker) error {
	// Where each awaited future is: on a worker, in the queue, or elsewhere.
	runner := make(map[any]*threadWorker)
	for x := range p.all {
		x.cur.each(func(t Task) {
			if o, ok := t.(ownedTask); ok {
				runner[o.future()] = x
			}
		})
	}
	p.drainInboxLocked()
	queued := make(map[any]Task)
	for x := range p.all {
		if x.waitingOn != nil && runner[x.waitingOn] == nil {
			queued[x.waitingOn] = nil
		}
	}
	p.queue.Each(func(e entry) {
		e.each(func(t Task) {
			if o, ok := t.(ownedTask); ok {
				if _, wanted := queued[o.future()]; wanted {
					queued[o.future()] = t
				}
			}
		})
	})

	// w's own wait ends only if its future finishes or its deadline
	// passes: for its own check it counts as stuck, other waits with a
	// deadline as ending.
	stuck := make(map[*threadWorker]bool)
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
			if d, isFuture := target.(doneChecker); !isFuture || !d.isDone() {
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
	return &deadlockError{chain: p.describeLocked(w, runner, queued)}
}

// describeLocked names the calls of the wait chain that starts at w.
func (p *ThreadPool) describeLocked(w *threadWorker, runner map[any]*threadWorker, queued map[any]Task) string {
	names := []string{callName(w.task)}
	seen := map[*threadWorker]bool{w: true}
	for x := w; ; {
		target := x.waitingOn
		r := runner[target]
		if r == nil {
			workers := "whose only worker waits"
			if len(p.all) > 1 {
				workers = fmt.Sprintf("whose %d workers all wait", len(p.all))
			}
			return fmt.Sprintf("%s waits on %s, queued in %s, %s on calls that cannot start",
				strings.Join(names, ", which waits on "), callName(queued[target]), p.name, workers)
		}
		rt := r.task // r waits too, so its task is stable
		if o, ok := rt.(ownedTask); !ok || o.future() != target {
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
func callName(t Task) string {
	if t == nil {
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

// goid returns the id of the calling goroutine.
func goid() uint64 { return goroutine.ID() }
