package goroutine

import "testing"

func TestID(t *testing.T) {
	here := ID()
	there := make(chan uint64)
	go func() { there <- ID() }()
	if other := <-there; here == 0 || other == 0 || here == other || ID() != here {
		t.Errorf("ID() = %d here, %d in another goroutine; want two different non-zero ids, stable", here, other)
	}
}
