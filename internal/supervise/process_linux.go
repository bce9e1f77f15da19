package supervise

import (
	"os"
	"syscall"
	"unsafe"
)

// sysProcAttr starts a worker in its own process group, and has the kernel
// kill it when the thread that started it exits (the Spawner's thread,
// which lives as long as the pool).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
}

// guardParent, in a worker, does nothing on Linux: the parent-death signal
// of sysProcAttr kills a worker whose parent died.
func guardParent() {}

// waitExited waits until the child pid has exited, without reaping it, and
// reports whether it has; it returns false if waitid fails.
func waitExited(pid int) bool {
	const pPID = 1     // P_PID
	var info [128]byte // a siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return errno == 0
		}
	}
}

// pipeSize is the buffer size asked for the protocol pipes: a large
// argument or result crosses in writes of that size instead of the default
// 64 KiB, with fewer wake-ups of the reading process.
const pipeSize = 1 << 20

// growPipe asks for a buffer of pipeSize for the pipe f is an end of. It
// is best effort: past the system's limits (fs.pipe-max-size,
// fs.pipe-user-pages-soft) the pipe keeps its size.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETPIPE_SZ, pipeSize)
		})
	}
}
