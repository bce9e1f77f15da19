package futures

import (
	"context"
	"testing"
)

// registrations counts the waiters registered on f.
func registrations[T any](f *Future[T]) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.listeners {
		if l.w != nil {
			n++
		}
	}
	return n
}

func TestBreakingOutRemovesRegistrations(t *testing.T) {
	done, pending := NewPromise[int](), NewPromise[int]()
	if err := done.SetResult(1); err != nil {
		t.Fatal(err)
	}
	for range AsCompleted(context.Background(), done.Future(), pending.Future()) {
		if n := registrations(pending.Future()); n != 1 {
			t.Fatalf("%d registrations while iterating, want 1", n)
		}
		break
	}
	if n := registrations(pending.Future()); n != 0 {
		t.Errorf("%d registrations left after break, want 0", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Wait(ctx, []*Future[int]{pending.Future()}, AllCompleted)
	if n := registrations(pending.Future()); n != 0 {
		t.Errorf("%d registrations left after Wait, want 0", n)
	}
}
