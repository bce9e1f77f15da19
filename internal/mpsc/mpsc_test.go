package mpsc

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQueueMatchesSlice runs random pushes and pops from one goroutine
// against a slice model; popped nodes are pushed again later.
func TestQueueMatchesSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var q Queue[int]
	q.Init()
	var free []*Node[int]
	nodeOf := make(map[int]*Node[int]) // the node each queued value went in
	var model []int
	next := 0
	for step := range 100000 {
		if rng.IntN(2) == 0 {
			var n *Node[int]
			if k := len(free); k > 0 && rng.IntN(2) == 0 {
				n, free = free[k-1], free[:k-1]
			} else {
				n = new(Node[int])
			}
			q.Push(n, next)
			nodeOf[next] = n
			model = append(model, next)
			next++
		} else {
			v, ok := q.Pop()
			if len(model) == 0 {
				if ok {
					t.Fatalf("step %d: Pop on empty returned %d", step, v)
				}
				continue
			}
			if !ok || v != model[0] {
				t.Fatalf("step %d: Pop = %d, %v; want %d, true", step, v, ok, model[0])
			}
			free = append(free, nodeOf[v])
			delete(nodeOf, v)
			model = model[1:]
		}
		if q.Empty() != (len(model) == 0) {
			t.Fatalf("step %d: Empty = %v with %d values", step, q.Empty(), len(model))
		}
	}
}

// TestQueueConcurrentPushes pushes from many goroutines while one pops:
// every value comes out once, and each pusher's values in its order.
func TestQueueConcurrentPushes(t *testing.T) {
	const pushers, each = 8, 20000
	var q Queue[[2]int]
	q.Init()
	var wg sync.WaitGroup
	for g := range pushers {
		wg.Go(func() {
			nodes := make([]Node[[2]int], each)
			for i := range nodes {
				q.Push(&nodes[i], [2]int{g, i})
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	nextOf := make([]int, pushers)
	got, finished := 0, false
	for got < pushers*each {
		v, ok := q.Pop()
		if !ok {
			if finished && q.Empty() {
				t.Fatalf("queue empty after %d of %d values", got, pushers*each)
			}
			select {
			case <-done:
				finished = true
			default:
				runtime.Gosched()
			}
			continue
		}
		if g, i := v[0], v[1]; i != nextOf[g] {
			t.Fatalf("pusher %d: popped value %d, want %d", g, i, nextOf[g])
		}
		nextOf[v[0]]++
		got++
	}
	<-done
	if _, ok := q.Pop(); ok || !q.Empty() {
		t.Fatalf("a value was left after all %d were popped", got)
	}
}

// TestPopWaitsForLink shows the state between a push's swap and its link:
// neither that value nor the one pushed before it is popped, and Empty says
// the queue is not empty.
func TestPopWaitsForLink(t *testing.T) {
	var q Queue[int]
	q.Init()
	var a, b, c Node[int]
	q.Push(&a, 1)
	q.Push(&b, 2)
	c.val = 3
	prev := q.back.Swap(&c) // half of a push of c
	if v, ok := q.Pop(); !ok || v != 1 {
		t.Fatalf("Pop = %d, %v; want 1, true", v, ok)
	}
	if a.val != 0 {
		t.Fatalf("a popped node keeps its value %d", a.val)
	}
	if v, ok := q.Pop(); ok {
		t.Fatalf("Pop returned %d while the push after it has not linked", v)
	}
	if q.Empty() {
		t.Fatal("Empty with a push in progress")
	}
	prev.next.Store(&c)
	for _, want := range []int{2, 3} {
		if v, ok := q.Pop(); !ok || v != want {
			t.Fatalf("Pop = %d, %v; want %d, true", v, ok, want)
		}
	}
	if !q.Empty() {
		t.Fatal("not Empty after the last value was popped")
	}
}

// TestPopWaitWaitsForLink: PopWait returns the value of a push that links
// its node only after PopWait started waiting.
func TestPopWaitWaitsForLink(t *testing.T) {
	var q Queue[int]
	q.Init()
	if _, ok := q.PopWait(); ok {
		t.Fatal("PopWait on an empty queue returned a value")
	}
	var a Node[int]
	a.val = 1
	prev := q.back.Swap(&a) // half of a push of a
	waiting := make(chan struct{})
	go func() {
		<-waiting
		prev.next.Store(&a)
	}()
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop returned a value whose push has not linked it")
	}
	close(waiting)
	if v, ok := q.PopWait(); !ok || v != 1 {
		t.Fatalf("PopWait = %d, %v; want 1, true", v, ok)
	}
}
