package futures

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
func (p *ProcessPool) watchTimeouts() {
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
			var late, stuck []*proc
			for _, w := range p.procs {
				if w.sp == nil || w.killed || w.dead {
					continue
				}
				started, over := w.sp.Progress()
				if pc, ok := w.inflight.Peek(); !ok || over < pc.id+uint64(pc.done) || !w.inRead.Load() {
					w.stuckSince = time.Time{}
				} else if got := w.got.Load(); w.stuckSince.IsZero() || got != w.stuckAt {
					w.stuckAt, w.stuckSince = got, now
				} else if now.Sub(w.stuckSince) > limit {
					// The worker recorded the outcome the pool waits for,
					// and its bytes stopped coming, in the middle of a
					// frame or before it.
					stuck = append(stuck, w)
				}
				switch {
				case started <= over:
					w.running = 0
				case started != w.running:
					w.running, w.runningSince = started, now
				case now.Sub(w.runningSince) > limit:
					late = append(late, w)
					if w.overran == 0 {
						w.overran = started
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
