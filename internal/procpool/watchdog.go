package procpool

import (
	"io"
	"sync/atomic"
	"time"
)

// watchTimeouts kills the workers whose running call has run past
// TaskTimeout without the worker reporting it (a worker stopped, or stuck
// where its own timer cannot fire), until the pool has exited. A call runs
// from the moment its worker starts it to the moment the worker records its
// outcome, as the worker's progress words show: neither the time its
// argument takes to arrive nor the time the pool takes to read its result
// counts.
func (p *Pool[T]) watchTimeouts() {
	defer p.wg.Done()
	limit := p.timeout + timeoutGrace
	tick := time.NewTicker(max(p.timeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			return
		case now := <-tick.C:
			p.mu.Lock()
			var late, stuck []*proc[T]
			for _, w := range p.procs {
				if w.sp == nil || w.stop.signalled() || w.state == procExited {
					continue
				}
				started, over := w.sp.Progress()
				pc, owed := w.inflight.Peek()
				if w.watch.stuck(owed && over >= pc.id+uint64(pc.done), now, limit) {
					// The worker recorded the outcome the pool waits for,
					// and its bytes stopped coming, in the middle of a
					// frame or before it.
					stuck = append(stuck, w)
				}
				if w.watch.late(started, over, now, limit) {
					late = append(late, w)
					if w.stop.overran == 0 {
						w.stop.overran = started
					}
				}
			}
			p.mu.Unlock()
			for _, w := range late {
				p.kill(w, "a call overran TaskTimeout without the worker reporting it")
			}
			for _, w := range stuck {
				p.kill(w, "it stopped sending the results of calls that had returned")
			}
		}
	}
}

// timeoutWatch is what the watchdog knows of a worker, guarded by the
// pool's mutex except got and inRead.
type timeoutWatch struct {
	// running is the call the watchdog last saw running in the worker,
	// since runningSince; 0 if none.
	running      uint64
	runningSince time.Time
	// got counts the bytes read from the worker; inRead says the reading
	// goroutine waits for them. The watchdog saw got at stuckAt, since
	// stuckSince, while the worker owed results.
	got        atomic.Uint64
	inRead     atomic.Bool
	stuckAt    uint64
	stuckSince time.Time
}

// late notes, at now, that the worker started call started and recorded
// the outcome of call over, and reports whether the call it runs has run
// longer than limit.
func (t *timeoutWatch) late(started, over uint64, now time.Time, limit time.Duration) bool {
	switch {
	case started <= over:
		t.running = 0
	case started != t.running:
		t.running, t.runningSince = started, now
	case now.Sub(t.runningSince) > limit:
		return true
	}
	return false
}

// stuck notes, at now, whether the worker owes results it recorded, and
// reports whether the pool has waited longer than limit for their bytes
// without a byte coming.
func (t *timeoutWatch) stuck(owed bool, now time.Time, limit time.Duration) bool {
	if !owed || !t.inRead.Load() {
		t.stuckSince = time.Time{}
	} else if got := t.got.Load(); t.stuckSince.IsZero() || got != t.stuckAt {
		t.stuckAt, t.stuckSince = got, now
	} else if now.Sub(t.stuckSince) > limit {
		return true
	}
	return false
}

// countingReader counts the bytes read from r in n.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(b []byte) (int, error) {
	k, err := c.r.Read(b)
	c.n.Add(uint64(k))
	return k, err
}
