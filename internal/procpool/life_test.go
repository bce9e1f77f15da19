package procpool

import "testing"

func TestProcStateMovesForward(t *testing.T) {
	for _, tc := range []struct {
		name     string
		moves    []procState
		want     procState
		starting int // of the one worker, at the end
	}{
		{"a new worker is starting", nil, procStarting, 1},
		{"ready leaves starting", []procState{procReady}, procReady, 0},
		{"a worker that exits before it is ready leaves starting", []procState{procExited}, procExited, 0},
		{"an aborted worker that says Ready stays aborting", []procState{procAborting, procReady}, procAborting, 0},
		{"a closing worker is not ready again", []procState{procReady, procClosing, procReady}, procClosing, 0},
		{"exited is the end", []procState{procReady, procExited, procAborting, procClosing}, procExited, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Pool[int]{}
			p.starting = 1
			w := &proc[int]{}
			for _, s := range tc.moves {
				p.setStateLocked(w, s)
			}
			if w.state != tc.want || p.starting != tc.starting {
				t.Errorf("state %d with %d starting, want %d with %d", w.state, p.starting, tc.want, tc.starting)
			}
		})
	}
}
