package serve

import "sync/atomic"

// resultArea is the results area of the page a worker shares with its pool:
// a copy of the result records the worker recorded since its last write of
// results that had no record left behind. A call that ends the process (an
// os.Exit, a fatal error) cannot take the outcomes of the calls before it
// along: they are written to the pipe or here, and the pool reads this copy
// once the worker is gone.
//
// The head word holds the number of records in its high 32 bits and their
// length in the low 32, stored once their bytes are in place. The pool reads
// the area only once the worker is gone, and the methods are called with the
// server's resMu held, so that plain stores do.
type resultArea struct {
	head *uint64
	buf  []byte
	n    int // records in buf
	size int // bytes of buf they take
	// full says a record did not fit, so that the area misses records
	// until every record is written; the goroutine running calls then
	// writes them before the next call starts.
	full atomic.Bool
}

// add copies rec, one result record, to the area if it fits.
func (a *resultArea) add(rec []byte) {
	if a.full.Load() || a.size+len(rec) > len(a.buf) {
		a.full.Store(true)
		return
	}
	copy(a.buf[a.size:], rec)
	a.n++
	a.size += len(rec)
	*a.head = uint64(a.n)<<32 | uint64(a.size)
}

// clear empties the area, once every record in it is written.
func (a *resultArea) clear() {
	if a.n > 0 || a.full.Load() {
		a.n, a.size = 0, 0
		a.full.Store(false)
		*a.head = 0
	}
}
