package futures_test

import (
	"testing"

	"github.com/gofutures/futures"
)

var (
	_ futures.TaskForgetter = (*futures.ThreadPool)(nil)
	_ futures.TaskForgetter = (*futures.ProcessPool)(nil)
)

// embeddingPool is a type that embeds a pool, which may touch tasks in
// ways of its own.
type embeddingPool struct{ *futures.ThreadPool }

// TestForgetsFinishedTasksOnlyItself: Map reuses its items on the pool
// itself, never on a type that embeds it.
func TestForgetsFinishedTasksOnlyItself(t *testing.T) {
	tp, pp := &futures.ThreadPool{}, &futures.ProcessPool{}
	for _, c := range []struct {
		name string
		f    futures.TaskForgetter
		ex   futures.Executor
		want bool
	}{
		{"a ThreadPool itself", tp, tp, true},
		{"a type embedding the ThreadPool", tp, embeddingPool{tp}, false},
		{"a ProcessPool itself", pp, pp, true},
		{"another executor", pp, tp, false},
	} {
		if got := c.f.ForgetsFinishedTasks(c.ex); got != c.want {
			t.Errorf("%s: ForgetsFinishedTasks = %v, want %v", c.name, got, c.want)
		}
	}
}
