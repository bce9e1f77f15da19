package ring

import (
	"math/rand/v2"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQueueMatchesSlice runs random pushes and pops against a slice model,
// across growth, wrap-around and the release of a large emptied buffer.
func TestQueueMatchesSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q Queue[int]
	var model []int
	next := 0
	for step := range 200000 {
		switch {
		case rng.IntN(3) > 0 || step%50000 < 3000: // bursts grow the buffer
			q.Push(next)
			model = append(model, next)
			next++
		default:
			v, ok := q.Pop()
			if len(model) == 0 {
				if ok {
					t.Fatalf("step %d: Pop on empty returned %d", step, v)
				}
				continue
			}
			if !ok || v != model[0] {
				t.Fatalf("step %d: Pop = %d, %v; want %d", step, v, ok, model[0])
			}
			model = model[1:]
		}
		if q.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, want %d", step, q.Len(), len(model))
		}
		if v, ok := q.Peek(); ok != (len(model) > 0) || ok && v != model[0] {
			t.Fatalf("step %d: Peek = %d, %v; want the front of %d items", step, v, ok, len(model))
		}
	}
	var seen []int
	q.Each(func(v int) { seen = append(seen, v) })
	if !slices.Equal(seen, model) {
		t.Fatalf("Each saw %d items, want %d", len(seen), len(model))
	}
	if got := q.Drain(); !slices.Equal(got, model) {
		t.Fatalf("Drain returned %d items, want %d", len(got), len(model))
	}
	if q.Len() != 0 {
		t.Fatalf("Len after Drain = %d", q.Len())
	}
}

func TestEmptiedQueueKeepsOneBlock(t *testing.T) {
	var q Queue[int]
	for i := range 5000 {
		q.Push(i)
	}
	for i := range 5000 {
		if v, ok := q.Pop(); !ok || v != i {
			t.Fatalf("Pop = %d, %v; want %d", v, ok, i)
		}
	}
	blocks := 0
	for b := q.head; b != nil; b = b.next {
		blocks++
	}
	if q.spare != nil {
		blocks++
	}
	if blocks > 2 {
		t.Errorf("an emptied queue keeps %d blocks", blocks)
	}
	q.Push(1)
	if v, ok := q.Pop(); !ok || v != 1 {
		t.Errorf("Pop after reuse = %d, %v", v, ok)
	}
}

func TestPopClearsSlot(t *testing.T) {
	var q Queue[*int]
	x := 1
	q.Push(&x)
	q.Push(&x)
	q.Pop()
	if q.head.items[0] != nil {
		t.Error("a popped slot still holds its item, keeping it alive")
	}
}
