package supervise

import (
	"io"
	"sync"
)

// Tail forwards what is written to it and keeps the last TailSize bytes.
type Tail struct {
	dst io.Writer // may be nil

	mu   sync.Mutex
	buf  []byte // a ring once full
	next int    // where the next byte goes once full
}

// Write forwards b and keeps its end. It never fails: a failing destination
// must not stop the worker.
func (t *Tail) Write(b []byte) (int, error) {
	if t.dst != nil {
		t.dst.Write(b)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keep := b
	if len(keep) > TailSize {
		keep = keep[len(keep)-TailSize:]
	}
	for len(keep) > 0 {
		if len(t.buf) < TailSize {
			n := min(TailSize-len(t.buf), len(keep))
			t.buf = append(t.buf, keep[:n]...)
			keep = keep[n:]
			continue
		}
		n := copy(t.buf[t.next:], keep)
		t.next = (t.next + n) % TailSize
		keep = keep[n:]
	}
	return len(b), nil
}

// String returns the bytes kept, oldest first.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf[t.next:]) + string(t.buf[:t.next])
}
