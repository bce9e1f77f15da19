package futures

// Counting a ThreadPool's calls. Stats are kept under the pool's mutex. A
// call is Queued from Execute until a worker starts it (startLocked), the
// pool fails it (failQueued) or it leaves the queue unstarted (dropLocked);
// then Running until finished counts its outcome.
// The tasks of this package report their own cancellation while queued
// (noteCancelled), so that Stats are exact the moment Cancel returns. A call
// Execute hands straight to an idle worker is never Queued.

// admitLocked counts a call accepted by Execute.
func (p *ThreadPool) admitLocked(t Task) {
	if o, ok := t.(ownedTask); ok && !o.setOwner(p) {
		p.counts.EndNew(endOf(t), 1) // cancelled or failed before it got here
		return
	}
	p.counts.Queue(1)
}

// noteCancelled counts a queued call of this package that was cancelled.
func (p *ThreadPool) noteCancelled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts.EndQueued(endCancelled, 1)
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
			p.counts.EndNew(endOf(t), 1) // cancelled or failed before it got here
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
func (p *ThreadPool) dropLocked(t Task) {
	if _, ok := t.(ownedTask); ok {
		return // counted by noteCancelled, or by admitLocked
	}
	p.counts.EndQueued(endOf(t), 1)
	p.roomFreedLocked()
}

// finish counts the outcome of a call w ran; err is its error.
func (w *threadWorker) finish(t Task, err error) {
	end := endFailed
	if err == nil && t.Err() == nil {
		end = endSucceeded
	}
	w.record(end)
}

// record counts the end of a call w ran, or did not invoke (endCancelled),
// unless Shutdown counted it already.
func (w *threadWorker) record(end ending) {
	w.endedMu.Lock()
	defer w.endedMu.Unlock()
	if w.abandoned {
		return
	}
	w.counted++
	w.ended.End(end, 1)
}

// Stats returns a snapshot of the pool's counters; the counts add up (see
// Stats). A call's outcome is counted before its future completes, and a
// queued call's cancellation before Cancel returns. A nil pool has zero
// counts.
func (p *ThreadPool) Stats() Stats {
	if p == nil {
		return Stats{}
	}
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
	return Stats(c.Snapshot(len(p.all)))
}
