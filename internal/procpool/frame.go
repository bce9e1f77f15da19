package procpool

import (
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/wire"
)

// Frames of calls. The calls a pool sends a worker go in frames of at most
// wire.MaxFrame bytes, which the worker refuses past that: an argument too
// big for a frame of its own fails its call (encodeArg), and calls that do
// not fit in the frame being built wait for the next one.

// maxArg returns the size of the largest encoded argument a call of rf
// may have: its call alone fills a frame.
func maxArg(rf *registry.Func) int {
	return wire.MaxFrame - wire.CallsOverhead - wire.CallOverhead - len(rf.Name())
}

// callSize returns at most the bytes the record of call i of r takes in a
// frame of calls.
func (r *pcall[T]) callSize(i int) int {
	n := wire.CallOverhead + len(r.fn.Name()) + len(r.arg(i))
	if i == 0 {
		n += len(r.tail())
	}
	return n
}

// fitLocked returns the part of the run r that fits in the frame of calls
// being built for w, nil if none does, and queues the rest of r and the runs
// of more again. Once something did not fit, w takes no more calls until its
// frame is written.
func (p *Pool[T]) fitLocked(w *proc[T], r *pcall[T], more []*pcall[T]) *pcall[T] {
	n := len(r.ts)
	size := len(r.fn.Name()) + n*wire.CallOverhead + len(r.tail())
	if r.hasArg {
		size += r.ends[n-1] - r.first
	}
	if w.out.frame+size <= wire.MaxFrame-wire.CallsOverhead {
		w.out.frame += size
		return r
	}
	k := 0
	for ; k < n; k++ {
		c := r.callSize(k)
		if w.out.frame+c > wire.MaxFrame-wire.CallsOverhead && (k > 0 || w.out.calls.Len() > 0) {
			break
		}
		w.out.frame += c
	}
	w.out.full = true
	p.retry.Push(r.slice(k, n))
	for _, m := range more {
		p.retry.Push(m)
	}
	if k == 0 {
		return nil
	}
	return r.slice(0, k)
}
