// Package mpsc is an intrusive first-in, first-out queue that any number of
// goroutines push into without a lock, and one goroutine at a time pops from.
//
// It is D. Vyukov's non-blocking multi-producer, single-consumer queue: a
// push is one atomic swap and one store, and a pop reads the nodes in the
// order they were pushed, without walking or reversing a list. A push that
// swapped its node in but has not linked it yet hides that node, the one
// before it and those after it until it does; Pop then reports false
// although Empty does not.
package mpsc

import (
	"runtime"
	"sync/atomic"
)

// Node is the link a value carries while it is in a Queue. A Node is in at
// most one Queue at a time; once popped, it may be pushed again.
type Node[T any] struct {
	next atomic.Pointer[Node[T]]
	val  T
}

// Queue is a first-in, first-out queue of values linked through their own
// Nodes. Push may be called from any goroutine; Pop and Empty from one
// goroutine at a time (the caller serializes them). Init must be called
// before any other method.
type Queue[T any] struct {
	back atomic.Pointer[Node[T]] // the node pushed last, or stub
	_    [56]byte                // keeps the pushers' line apart from the popper's
	// front is the next node to pop, or stub. stub stands in for a node
	// when the queue would otherwise be empty, so that a push never has to
	// update front.
	front *Node[T]
	stub  Node[T]
}

// Init makes q empty.
func (q *Queue[T]) Init() {
	q.stub.next.Store(nil)
	q.front = &q.stub
	q.back.Store(&q.stub)
}

// Push appends v to q through the node n, which must not be in a queue.
func (q *Queue[T]) Push(n *Node[T], v T) {
	n.val = v
	q.link(n)
}

func (q *Queue[T]) link(n *Node[T]) {
	n.next.Store(nil)
	prev := q.back.Swap(n)
	prev.next.Store(n) // until this store, Pop cannot see n or what follows
}

// Pop removes and returns the value pushed first, and clears it from its
// node. It returns false if q is empty, or if a Push has not linked its node
// yet (see Empty).
func (q *Queue[T]) Pop() (T, bool) {
	var zero T
	front := q.front
	next := front.next.Load()
	if front == &q.stub {
		if next == nil {
			return zero, false
		}
		q.front, front = next, next
		next = next.next.Load()
	}
	if next == nil {
		// front may be the last node: push stub behind it, so that front
		// can leave the queue while pushes go on.
		if front != q.back.Load() {
			return zero, false // a push after front has not linked yet
		}
		q.link(&q.stub)
		if next = front.next.Load(); next == nil {
			return zero, false // a push came between: it links soon
		}
	}
	q.front = next
	v := front.val
	front.val = zero
	return v, true
}

// PopWait is Pop, except that it waits for a Push in progress to link its
// node: it returns false only if q is empty.
func (q *Queue[T]) PopWait() (T, bool) {
	for {
		if v, ok := q.Pop(); ok || q.Empty() {
			return v, ok
		}
		runtime.Gosched()
	}
}

// Empty reports whether q holds no value, counting those whose Push has
// not linked its node yet.
func (q *Queue[T]) Empty() bool {
	return q.front == &q.stub && q.back.Load() == &q.stub
}
