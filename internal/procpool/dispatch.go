package procpool

import (
	"log/slog"
	"time"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// signal wakes w's writer goroutine, unless it has a wake-up pending.
func (w *proc[T]) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// dispatchLocked hands queued calls to workers with room, starts workers
// for what is left, and lets idle workers go once nothing more will come.
func (p *Pool[T]) dispatchLocked() {
	for p.queue.Len()+p.retry.Len() > 0 {
		var best *proc[T]
		open := 0
		for _, w := range p.procs {
			if w.state == procReady && p.roomLocked(w) > 0 {
				open++
				if best == nil || w.inflightN < best.inflightN {
					best = w
				}
			}
		}
		if best == nil {
			break
		}
		// The least busy worker gets its share of what is queued, so that
		// one worker does not take everything while another idles.
		p.feedLocked(best, (p.queued+p.retry.Len()+open-1)/open)
	}
	if p.broken == nil && p.forced == nil {
		for p.queue.Len()+p.retry.Len() > p.starting && len(p.procs) < p.maxWorkers {
			p.spawnLocked()
		}
	}
	if p.queue.Len()+p.retry.Len() == 0 && (p.stage >= poolShutdown || p.broken != nil) {
		for _, w := range p.procs {
			if w.state == procReady && w.inflight.Len() == 0 {
				p.setStateLocked(w, procClosing)
				w.signal()
			}
		}
	}
}

// roomLocked returns how many more calls w may take now.
func (p *Pool[T]) roomLocked(w *proc[T]) int {
	room := w.pace.limit() - w.inflightN
	if w.out.full {
		return 0
	}
	if p.maxTasks > 0 {
		room = min(room, p.maxTasks-w.sent)
	}
	return room
}

// feedLocked sends w queued calls until it has no room left or got share
// calls. A chunk goes whole, even past the window, but never past
// MaxTasksPerWorker.
func (p *Pool[T]) feedLocked(w *proc[T], share int) {
	idle := w.inflight.Len() == 0
	if idle {
		w.pace.busy(time.Now())
	}
	if p.types != nil { // every call queued was encoded before this
		var defs []byte
		if defs, w.types = p.types.Since(w.types); len(defs) > 0 {
			w.out.types = append(w.out.types, defs...)
		}
	}
	freed := false
	for fed := 0; fed < max(share, 1) && p.roomLocked(w) > 0; {
		pc, ok := p.retry.Pop()
		if !ok {
			if pc, ok = p.queue.Pop(); !ok {
				break
			}
			freed = true
		}
		p.runs = p.runs[:0]
		if pc.started {
			p.runs = append(p.runs, pc)
		} else {
			p.startLocked(pc)
		}
		for i, r := range p.runs {
			if w.out.full { // fitLocked queued the rest again
				break
			}
			if left := p.maxTasks - w.sent; p.maxTasks > 0 && len(r.ts) > left {
				// The worker is recycled after MaxTasksPerWorker calls:
				// what does not fit waits for another worker.
				if left <= 0 {
					p.retry.Push(r)
					continue
				}
				p.retry.Push(r.slice(left, len(r.ts)))
				r = r.slice(0, left)
			}
			if r = p.fitLocked(w, r, p.runs[i+1:]); r == nil {
				break
			}
			r.id, r.done = w.nextID+1, 0
			w.nextID += uint64(len(r.ts))
			w.inflight.Push(r)
			w.inflightN += len(r.ts)
			c := wire.Call{Func: r.fn.Name()}
			if r.hasArg {
				c.Flags |= wire.FlagArg
			}
			if g := r.group; g != nil {
				c.Group = g.id
				if g.ctx.Err() != nil {
					c.Flags |= wire.FlagCancelled
				} else if !g.deadline.IsZero() {
					c.Flags |= wire.FlagDeadline
					c.Deadline = uint64(max(0, time.Until(g.deadline)))
				}
			}
			c.ID = r.id
			if r.split { // one call, its argument's bytes written from where they are
				c.Arg, c.ArgTail = r.arg(0), r.tail()
				w.out.calls.Add(&c)
			} else {
				w.out.calls.AddRun(&c, len(r.ts), r.arg)
			}
			w.sent += len(r.ts)
			fed += len(r.ts)
			w.pace.sent(r.fn)
		}
		clear(p.runs)
	}
	if p.maxTasks > 0 && w.sent >= p.maxTasks && w.state == procReady {
		p.setStateLocked(w, procClosing)
		p.log(slog.LevelInfo, "futures: worker process recycled after MaxTasksPerWorker calls", "pid", w.sp.PID, "calls", w.sent)
	}
	if freed && p.queueSize > 0 {
		p.room.Broadcast()
	}
	if idle {
		p.urgent = append(p.urgent, w)
	} else {
		w.signal()
	}
}

// startLocked starts the calls of the queued run pc and appends the runs of
// those that started to p.runs: the others were cancelled in the queue.
func (p *Pool[T]) startLocked(pc *pcall[T]) {
	from := 0
	for i, t := range pc.ts {
		if p.takeLocked(t) {
			p.st.Start(1)
			continue
		}
		if i > from {
			p.runs = append(p.runs, pc.slice(from, i))
		}
		from = i + 1
	}
	switch {
	case from == 0:
		pc.started = true
		p.runs = append(p.runs, pc)
	case from < len(pc.ts):
		p.runs = append(p.runs, pc.slice(from, len(pc.ts)))
	}
}

// unlockAndFlush unlocks the pool, then writes to the workers that were
// idle and just got calls, in the calling goroutine: a call to an idle
// worker waits for no goroutine to wake up.
func (p *Pool[T]) unlockAndFlush() {
	urgent := p.urgent
	p.urgent = nil
	p.mu.Unlock()
	for _, w := range urgent {
		p.flush(w)
	}
}

// spawnLocked starts a worker process in the background.
func (p *Pool[T]) spawnLocked() {
	w := &proc[T]{wake: make(chan struct{}, 1), codec: p.codec}
	if p.types != nil {
		w.codec = value.NewStream(nil)
	}
	p.procs = append(p.procs, w)
	p.starting++
	p.wg.Add(1)
	go p.run(w)
}
