package procpool

import (
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func TestGiveUpLadder(t *testing.T) {
	type sent struct {
		sig syscall.Signal
		at  time.Duration
	}
	for _, tc := range []struct {
		name   string
		exitAt time.Duration // when the workers are all reaped
		want   []sent
	}{
		{"workers that stop when asked get no signal", askGrace / 2, nil},
		{"workers that stop on SIGTERM get no SIGKILL", askGrace + termGrace/2, []sent{{syscall.SIGTERM, askGrace}}},
		{"workers that ignore SIGTERM get SIGKILL", time.Hour, []sent{{syscall.SIGTERM, askGrace}, {syscall.SIGKILL, askGrace + termGrace}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				exited := make(chan struct{})
				time.AfterFunc(tc.exitAt, func() { close(exited) })
				var got []sent
				giveUpLadder.climb(exited, func(sig syscall.Signal) {
					got = append(got, sent{sig, time.Since(start)})
				})
				if took := time.Since(start); took != tc.exitAt {
					t.Errorf("climb returned after %v, want %v, when the workers were reaped", took, tc.exitAt)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("signals sent: %v, want %v", got, tc.want)
				}
				for i := range got {
					if got[i] != tc.want[i] {
						t.Errorf("signals sent: %v, want %v", got, tc.want)
					}
				}
			})
		})
	}
}
