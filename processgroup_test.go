//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

func init() { futures.Register(procSleeper) }

// sleeper says what procSleeper does.
type sleeper struct {
	Path  string // where it writes the pid of the process it starts
	Crash bool   // it then exits the worker
}

// procSleeper starts a process that sleeps five minutes holding the
// worker's stderr, writes its pid to s.Path, and exits the worker if s.Crash.
func procSleeper(_ context.Context, s sleeper) (int, error) {
	cmd := exec.Command("sleep", "300")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	if err := os.WriteFile(s.Path, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		return 0, err
	}
	if s.Crash {
		os.Exit(7)
	}
	return cmd.Process.Pid, nil
}

// TestProcessPoolLeavesNoGrandchild starts, from a call, a process that
// holds the worker's stderr and would sleep five minutes: once the worker
// has exited (Close, or a crash), it is gone, and Close does not wait for
// the stderr it holds.
func TestProcessPoolLeavesNoGrandchild(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run("crash="+strconv.FormatBool(crash), func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(1))
			path := filepath.Join(t.TempDir(), "pid")
			_, err := futures.Submit(p, procSleeper, sleeper{Path: path, Crash: crash}).Result(bg)
			if crash {
				require.ErrorIs(t, err, futures.ErrWorkerExited)
			} else {
				require.NoError(t, err)
			}
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			pid, err := strconv.Atoi(string(b))
			require.NoError(t, err)
			start := time.Now()
			require.NoError(t, p.Close())
			// Waiting for the stderr of the sleeper took a second.
			assert.Less(t, time.Since(start), 900*time.Millisecond, "Close waited for the grandchild's stderr")
			deadline := time.Now().Add(10 * time.Second)
			for alive(pid) {
				if time.Now().After(deadline) {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Fatalf("process %d, started by a call, outlived the pool", pid)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
