package supervise

import "syscall"

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
