package serve

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/gofutures/futures/internal/wire"
)

// timedOut records r, the outcome of a call that overran TaskTimeout, and
// stops the worker: the pool kills it, and no other call may start in it.
func (s *server) timedOut(r *wire.Result) {
	s.record(r)
	s.stop(true, ExitTimedOut)
	s.flush()
}

// record adds r to the results to write, and to the results area. If r
// would make the results to write too big for one frame, it writes them
// first. A large value is not copied: the results refer to it until they
// are written.
func (s *server) record(r *wire.Result) {
	s.sendTypes()
	s.resMu.Lock()
	at := s.recs.Mark()
	s.recs.AppendResult(r)
	for s.nrecs > 0 && s.recs.Len() > wire.MaxFrame-frameOverhead {
		s.recs.Cut(at)
		s.resMu.Unlock()
		s.flush()
		s.resMu.Lock()
		at = s.recs.Mark()
		s.recs.AppendResult(r)
	}
	s.nrecs++
	if rec, ok := s.recs.Since(at); ok {
		s.area.add(rec)
	} else { // a value too large for the area
		s.area.full.Store(true)
	}
	if s.runner.timeout > 0 { // for the pool's TaskTimeout watchdog
		atomic.StoreUint64(s.over, r.ID)
	}
	s.resMu.Unlock()
}

// sendTypes writes the type definitions logged since the last ones
// written, before any result that may refer to them.
func (s *server) sendTypes() {
	if s.types == nil || int64(s.types.Len()) <= s.typesSent.Load() {
		return
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	defs, end := s.types.Since(int(s.typesSent.Load()))
	if len(defs) == 0 {
		return
	}
	s.typesSent.Store(int64(end))
	if !s.write(wire.AppendTypes(nil, defs)) {
		s.stop(true, ExitWriteFail)
	}
}

// frameOverhead is the most a frame of results adds to its records: its
// type and the count.
const frameOverhead = 1 + binary.MaxVarintLen64

// kick asks the writer goroutine to write the results recorded so far.
func (s *server) kick() {
	s.kicked.Store(true)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush writes the results recorded so far in one frame.
func (s *server) flush() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.resMu.Lock()
	recs, n := s.recs, s.nrecs
	if n == 0 {
		s.resMu.Unlock()
		return
	}
	s.recs, s.nrecs = s.spare, 0
	s.resMu.Unlock()
	m := s.frame.Begin(wire.TResults)
	s.frame.Buf = wire.AppendUvarint(s.frame.Buf, uint64(n))
	s.frame.Append(&recs)
	s.frame.End(m)
	_, err := s.frame.WriteTo(s.out)
	s.frame.Reset()
	recs.Reset()
	s.spare = recs
	if err != nil {
		s.stop(true, ExitWriteFail)
		return
	}
	s.resMu.Lock()
	if s.nrecs == 0 { // every record in the area is written
		s.area.clear()
	}
	s.resMu.Unlock()
}

// markStarted tells the pool, through the shared page, that the call id
// started: its argument is decoded and its function runs now.
func (s *server) markStarted(id uint64) { atomic.StoreUint64(s.started, id) }
