//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// These systems have no /proc: ps and /dev/fd tell what procs_linux_test.go
// reads from /proc there.

// children returns the pids of this process's child processes.
func children(t *testing.T) []int {
	t.Helper()
	ps := exec.Command("ps", "-A", "-o", "pid=", "-o", "ppid=")
	out, err := ps.Output()
	require.NoError(t, err)
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if pid, err := strconv.Atoi(f[0]); err == nil && pid != ps.Process.Pid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether the process pid exists and is not a zombie.
func alive(pid int) bool {
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	state := strings.TrimSpace(string(out))
	return err == nil && state != "" && !strings.HasPrefix(state, "Z")
}

// openFiles returns how many file descriptors the process has open.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/dev/fd")
	require.NoError(t, err)
	return len(fds) - 1 // the directory read itself
}
