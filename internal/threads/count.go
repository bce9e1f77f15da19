package threads

import "github.com/gofutures/futures/internal/counts"

// Counting a pool's calls. Counts are kept under the pool's mutex. A call
// is Queued from Execute until a worker starts it (startLocked), the pool
// fails it (failQueued) or it leaves the queue unstarted (dropLocked); then
// Running until finished counts its outcome.
// The tasks that take an owner report their own cancellation while queued
// (NoteCancelled), so that the counts are exact the moment Cancel returns.
// A call Execute hands straight to an idle worker is never Queued.

// admitLocked counts a call accepted by Execute.
func (p *Pool[T]) admitLocked(t T) {
	if owned, pending := p.tasks.Own(t); owned && !pending {
		p.counts.EndNew(p.tasks.Ending(t), 1) // cancelled or failed before it got here
		return
	}
	p.counts.Queue(1)
}

// NoteCancelled counts a queued call that was cancelled, for a task the
// pool owns (see Tasks.Own).
func (p *Pool[T]) NoteCancelled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.EndQueued(counts.Cancelled, 1)
	p.roomFreedLocked()
}

// roomFreedLocked wakes the submitters waiting for room in the queue, with
// QueueSize, after counts.Queued went down.
func (p *Pool[T]) roomFreedLocked() {
	if p.queueSize > 0 {
		p.room.Broadcast()
	}
}

// startLocked starts the calls of e a worker is about to run, and returns
// those that started: the others were cancelled (or failed) before. fresh
// tells that e comes from Execute rather than from the queue.
func (p *Pool[T]) startLocked(e entry[T], fresh bool) entry[T] {
	if e.isOne() {
		if !p.startOneLocked(e.one, fresh) {
			return entry[T]{}
		}
		return e
	}
	ts := e.chunk()
	for i, t := range ts {
		if !p.startOneLocked(t, fresh) {
			// Some did not start: the others go in a slice of their own,
			// since the caller may still read ts (Map reuses its tasks).
			started := append(make([]T, 0, len(ts)-1), ts[:i]...)
			for _, t := range ts[i+1:] {
				if p.startOneLocked(t, fresh) {
					started = append(started, t)
				}
			}
			return entry[T]{many: &started}
		}
	}
	return e
}

// startOneLocked starts t and counts it; fresh is as for startLocked.
func (p *Pool[T]) startOneLocked(t T, fresh bool) bool {
	if fresh {
		if !t.Start() {
			p.counts.EndNew(p.tasks.Ending(t), 1) // cancelled or failed before it got here
			return false
		}
		p.counts.StartNew(1)
		return true
	}
	if t.Start() {
		p.counts.Start(1)
		p.roomFreedLocked()
		return true
	}
	p.dropLocked(t)
	return false
}

// dropLocked counts a call that left the queue without running: cancelled,
// or ended otherwise before it could start.
func (p *Pool[T]) dropLocked(t T) {
	if p.tasks.Future(t) != nil {
		return // counted by NoteCancelled, or by admitLocked
	}
	p.counts.EndQueued(p.tasks.Ending(t), 1)
	p.roomFreedLocked()
}

// finish counts the outcome of a call w ran; err is its error.
func (w *worker[T]) finish(t T, err error) {
	end := counts.Failed
	if err == nil && t.Err() == nil {
		end = counts.Succeeded
	}
	w.record(end)
}

// record counts the end of a call w ran, or did not invoke (Cancelled),
// unless Shutdown counted it already.
func (w *worker[T]) record(end counts.Ending) {
	w.endedMu.Lock()
	defer w.endedMu.Unlock()
	if w.abandoned {
		return
	}
	w.counted++
	w.ended.End(end, 1)
}

// Stats returns a snapshot of the pool's counts, which add up, and the
// number of live workers. A call's outcome is counted before its future
// completes, and a queued call's cancellation before Cancel returns.
func (p *Pool[T]) Stats() (counts.Counters, int) {
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
		c.Add(&w.ended)
		w.endedMu.Unlock()
	}
	return c, len(p.all)
}
