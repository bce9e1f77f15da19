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

// waitExited waits until the child pid has exited, without reaping it, and
// reports whether it has; it returns false if kqueue fails.
func waitExited(pid int) bool {
	kq, err := syscall.Kqueue()
	if err != nil {
		return false
	}
	defer syscall.Close(kq)
	ev := make([]syscall.Kevent_t, 1)
	syscall.SetKevent(&ev[0], pid, syscall.EVFILT_PROC, syscall.EV_ADD|syscall.EV_ONESHOT)
	ev[0].Fflags = syscall.NOTE_EXIT
	if _, err := syscall.Kevent(kq, ev, nil, nil); err != nil {
		// A child that is not reaped exists: it has exited already.
		return err == syscall.ESRCH
	}
	for {
		n, err := syscall.Kevent(kq, nil, ev, nil)
		if err != syscall.EINTR {
			return err == nil && n == 1
		}
	}
}

// growPipe does nothing: the pipes of these systems grow on their own.
func growPipe(*os.File) {}
