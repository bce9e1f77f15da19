package futures

// Map allocates items in slabs of whole chunks of at least slabItems items;
// a chunk larger than maxSlab items gets slabs of growing size.
const (
	slabItems = 32
	maxSlab   = 1024
)

// add adds an item for a to the chunk not sent yet, and returns the chunk's
// length.
func (m *mapRun[A, R]) add(a A) int {
	if m.used == len(m.cur) {
		m.grow()
	}
	m.cur[m.used].arg = a
	m.used++
	return m.used - m.chunkStart
}

// slab is a block of items allocated together. With a BatchExecutor, tasks
// holds the Task of each item, tasks[i] being &items[i] for the slab's whole
// life, so that the chunks Map hands over need no allocation and stay valid
// however long the executor keeps them.
type slab[A, R any] struct {
	items   []item[A, R]
	tasks   []Task
	id      int32
	yielded int  // items yielded since the slab was filled
	dirty   bool // an item yielded an error or was cancelled
}

// grow gives the Map a slab of items: a spare one, or a new one into which
// it moves the items of the chunk not sent yet (nothing refers to them yet).
func (m *mapRun[A, R]) grow() {
	pending := m.cur[m.chunkStart:m.used]
	if k := len(m.spare); k > 0 && len(pending) == 0 {
		m.curSlab = m.spare[k-1]
		m.spare[k-1] = nil
		m.spare = m.spare[:k-1]
		m.cur, m.used, m.chunkStart = m.curSlab.items, 0, 0
		return
	}
	n := m.slabLen
	if len(pending) > 0 {
		n = min(max(2*len(pending), slabItems), m.size)
	}
	s := &slab[A, R]{items: make([]item[A, R], n)}
	if m.batch != nil {
		s.tasks = make([]Task, n)
	}
	if k := len(m.freeIDs); k > 0 {
		s.id = m.freeIDs[k-1]
		m.freeIDs = m.freeIDs[:k-1]
		m.slabs[s.id] = s
	} else {
		s.id = int32(len(m.slabs))
		m.slabs = append(m.slabs, s)
	}
	for i := range s.items {
		it := &s.items[i]
		it.m, it.slab = m, s.id
		if s.tasks != nil {
			s.tasks[i] = it
		}
	}
	for i := range pending {
		s.items[i].arg = pending[i].arg
	}
	if len(pending) > 0 { // the old slab holds no item that was sent
		m.dropSlab(m.curSlab)
	}
	m.curSlab, m.cur, m.used, m.chunkStart = s, s.items, len(pending), 0
}

// dropSlab forgets s, leaving it to the garbage collector.
func (m *mapRun[A, R]) dropSlab(s *slab[A, R]) {
	m.slabs[s.id] = nil
	m.freeIDs = append(m.freeIDs, s.id)
}

// yielded accounts for the yielding of it, whose call ended with err. Once
// every item of its slab is yielded, the slab is reused if every call
// finished without an error: the executor touches none of them any more,
// while one that failed may have been failed by another goroutine than the
// one running it, or may still be running.
func (m *mapRun[A, R]) yielded(it *item[A, R], err error) {
	s := m.slabs[it.slab]
	s.yielded++
	if err != nil {
		s.dirty = true
	}
	if s.yielded < len(s.items) {
		return
	}
	if !m.reuse || s.dirty {
		m.dropSlab(s)
		return
	}
	var zero item[A, R]
	for i := range s.items {
		x := &s.items[i]
		x.arg, x.val, x.next = zero.arg, zero.val, nil
		x.state.reset()
	}
	s.yielded = 0
	m.spare = append(m.spare, s)
}
