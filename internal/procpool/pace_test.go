package procpool

import (
	"testing"
	"time"

	"github.com/gofutures/futures/internal/pace"
	"github.com/gofutures/futures/internal/registry"
)

func TestPacer(t *testing.T) {
	f, g := new(registry.Func), new(registry.Func)
	t0 := time.Unix(0, 0)
	type reply struct {
		n    int           // calls answered
		took time.Duration // since the last reply
	}
	for _, tc := range []struct {
		name    string
		replies []reply
		want    []int // the limit after each reply
	}{
		{"a new function gets one call", nil, []int{}},
		{"trivial calls grow the window twofold per reply", []reply{{1, time.Microsecond}, {2, time.Microsecond}, {4, time.Microsecond}, {8, time.Microsecond}}, []int{2, 4, 8, 16}},
		{"the window stops at pace.MaxWindow", []reply{{1, 0}, {2, 0}, {4, 0}, {8, 0}, {16, 0}, {32, 0}, {64, 0}, {128, 0}, {256, 0}, {512, 0}, {1024, 0}, {2048, 0}, {4096, 0}, {4096, 0}}, []int{2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 4096, 4096}},
		{"calls slower than AheadTarget get one at a time", []reply{{1, 10 * time.Millisecond}, {1, 10 * time.Millisecond}}, []int{1, 1}},
		{"the window follows the speed down", []reply{{1, 10 * time.Microsecond}, {2, 20 * time.Microsecond}, {4, 40 * time.Microsecond}, {4, 40 * time.Millisecond}, {1, 10 * time.Millisecond}}, []int{2, 4, 8, 1, 1}},
		{"the window is what AheadTarget takes", []reply{{1, 500 * time.Microsecond}, {2, time.Millisecond}, {4, 2 * time.Millisecond}}, []int{2, 4, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e pacer
			now := t0
			e.busy(now)
			e.sent(f)
			if got := e.limit(); got != 1 {
				t.Fatalf("limit for a new function = %d, want 1", got)
			}
			for i, r := range tc.replies {
				now = now.Add(r.took)
				e.answered(r.n, now)
				if got := e.limit(); got != tc.want[i] {
					t.Fatalf("limit after reply %d = %d, want %d", i, got, tc.want[i])
				}
				if got := e.limit(); got < 1 || got > pace.MaxWindow {
					t.Fatalf("limit %d out of [1, %d]", got, pace.MaxWindow)
				}
			}
			before := e.limit()
			e.sent(f)
			if got := e.limit(); got != before {
				t.Fatalf("limit after another call of the same function = %d, want %d", got, before)
			}
			e.sent(g)
			if got := e.limit(); got != 1 {
				t.Fatalf("limit after a call of another function = %d, want 1", got)
			}
		})
	}
}
