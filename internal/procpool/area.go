package procpool

import "github.com/gofutures/futures/internal/wire"

// takeArea delivers the outcomes that w, a worker that exited, left in the
// results area of its page (filled by internal/serve; head and area, as
// supervise.Exit has them) for calls whose results it never wrote, unless
// it broke the protocol. Records of calls answered already are skipped; a
// malformed record ends the area.
func (p *Pool[T]) takeArea(w *proc[T], head uint64, area []byte) {
	n, size := head>>32, head&(1<<32-1)
	if n == 0 || size > uint64(len(area)) {
		return
	}
	p.mu.Lock()
	if w.garbled {
		p.mu.Unlock()
		return
	}
	pc, ok := w.inflight.Peek()
	var next uint64
	if ok {
		next = pc.id + uint64(pc.done)
	}
	p.setStateLocked(w, procExited)
	p.mu.Unlock()
	if !ok {
		return
	}
	var recs []byte
	k := 0
	wire.ParseResults(append(wire.AppendUvarint(nil, n), area[:size]...), func(r *wire.Result) bool {
		if r.ID >= next {
			recs = wire.AppendResult(recs, r)
			k++
		}
		return true
	})
	if k == 0 {
		return
	}
	a := answers[T]{codec: w.codec}
	p.take(w, append(wire.AppendUvarint(nil, uint64(k)), recs...), &a)
	if len(a.recs) > 0 {
		p.finish(&a)
	}
}
