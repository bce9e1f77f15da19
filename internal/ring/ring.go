// Package ring provides the FIFO queue the pools keep their pending calls
// in: a chain of fixed-size blocks, so that a push never copies what is
// queued and costs one slot and, once a block, one allocation.
package ring

// Queue is a first-in, first-out queue. The zero Queue is empty and ready to
// use. It is not safe for concurrent use.
type Queue[T any] struct {
	head  *block[T] // the block of the oldest item
	tail  *block[T] // the block pushed to
	hi    int       // index of the oldest item in head
	ti    int       // index of the next free slot in tail
	n     int       // number of items
	spare *block[T] // an emptied block kept for the next push
}

// blockSize is the number of items in a block.
const blockSize = 64

type block[T any] struct {
	items [blockSize]T
	next  *block[T]
}

// Len returns the number of items in the queue.
func (q *Queue[T]) Len() int { return q.n }

// Push adds v at the back of the queue.
func (q *Queue[T]) Push(v T) {
	switch {
	case q.tail == nil:
		q.head = q.newBlock()
		q.tail = q.head
	case q.ti == blockSize:
		b := q.newBlock()
		q.tail.next = b
		q.tail, q.ti = b, 0
	}
	q.tail.items[q.ti] = v
	q.ti++
	q.n++
}

func (q *Queue[T]) newBlock() *block[T] {
	if b := q.spare; b != nil {
		q.spare = nil
		return b
	}
	return new(block[T])
}

// Pop removes and returns the item at the front of the queue, or the zero
// value and false if the queue is empty. An emptied block is kept for reuse
// if none is, and dropped otherwise.
func (q *Queue[T]) Pop() (T, bool) {
	var zero T
	if q.n == 0 {
		return zero, false
	}
	b := q.head
	v := b.items[q.hi]
	b.items[q.hi] = zero
	q.hi++
	q.n--
	switch {
	case q.n == 0: // keep the block, start over at its front
		q.hi, q.ti = 0, 0
	case q.hi == blockSize:
		q.head, q.hi = b.next, 0
		b.next = nil
		q.spare = b
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
	return q.head.items[q.hi], true
}

// Each calls fn for every item, oldest first, leaving the queue as it is.
func (q *Queue[T]) Each(fn func(T)) {
	b, i := q.head, q.hi
	for k := 0; k < q.n; k++ {
		if i == blockSize {
			b, i = b.next, 0
		}
		fn(b.items[i])
		i++
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
