package cluster

import (
	"testing"

	"github.com/gofutures/futures"
)

var _ futures.TaskForgetter = (*Pool)(nil)

// embedded is a type that embeds a pool, which may touch tasks in ways of
// its own.
type embedded struct{ *Pool }

// TestForgetsFinishedTasksOnlyItself: Map reuses its items on the pool
// itself, never on a type that embeds it.
func TestForgetsFinishedTasksOnlyItself(t *testing.T) {
	p := &Pool{}
	for _, c := range []struct {
		name string
		ex   futures.Executor
		want bool
	}{
		{"the pool", p, true},
		{"a type embedding it", embedded{p}, false},
		{"another pool", &Pool{}, false},
	} {
		if got := p.ForgetsFinishedTasks(c.ex); got != c.want {
			t.Errorf("%s: ForgetsFinishedTasks = %v, want %v", c.name, got, c.want)
		}
	}
}
