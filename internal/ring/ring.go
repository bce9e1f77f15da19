// Package ring provides the FIFO queue the goroutine pool keeps its pending
// calls in: a growable ring buffer that costs one slot per item and no
// allocation per push once grown.
package ring

// Queue is a first-in, first-out queue. The zero Queue is empty and ready to
// use. It is not safe for concurrent use.
type Queue[T any] struct {
	buf  []T // len(buf) is zero or a power of two
	head int // index of the oldest item
	n    int // number of items
}

// minCap is the capacity of a queue's first buffer.
const minCap = 16

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int { return q.n }

// Push adds v at the back of the queue.
func (q *Queue[T]) Push(v T) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

// Pop removes and returns the item at the front of the queue, or the zero
// value and false if the queue is empty. An emptied queue that had grown
// large gives its buffer back.
func (q *Queue[T]) Pop() (T, bool) {
	var zero T
	if q.n == 0 {
		return zero, false
	}
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	if q.n == 0 {
		q.head = 0
		if len(q.buf) > 1024 {
			q.buf = nil
		}
	}
	return v, true
}

// Peek returns the item at the front of the queue without removing it, or
// the zero value and false if the queue is empty.
func (q *Queue[T]) Peek() (T, bool) {
	if q.n == 0 {
		var zero T
		return zero, false
	}
	return q.buf[q.head], true
}

// Each calls fn for every item, oldest first, leaving the queue as it is.
func (q *Queue[T]) Each(fn func(T)) {
	for i := 0; i < q.n; i++ {
		fn(q.buf[(q.head+i)&(len(q.buf)-1)])
	}
}

// Drain removes every item and returns them, oldest first.
func (q *Queue[T]) Drain() []T {
	out := make([]T, 0, q.n)
	for q.n > 0 {
		v, _ := q.Pop()
		out = append(out, v)
	}
	return out
}

func (q *Queue[T]) grow() {
	c := 2 * len(q.buf)
	if c == 0 {
		c = minCap
	}
	buf := make([]T, c)
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}
