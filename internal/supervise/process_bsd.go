//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package supervise

import (
	"os"
	"syscall"
	"time"
)

// parentPoll is how often a worker looks whether its parent died.
const parentPoll = 50 * time.Millisecond

// sysProcAttr starts a worker in its own process group. These systems have
// no parent-death signal; guardParent stands in for it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// guardParent, in a worker, kills the worker's process group once its
// parent has died. An idle worker already stops when the request pipe
// reaches its end, which it does when the parent dies; watching the
// parent's pid also stops a worker in the middle of a long call.
func guardParent() {
	go watchParent(os.Getppid(), parentPoll)
}
