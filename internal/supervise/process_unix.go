//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is a started worker. In and Out are the parent's ends of the
// protocol pipes.
type Process struct {
	PID int
	In  *os.File // the parent writes requests here
	Out *os.File // the parent reads replies here

	cmd  *exec.Cmd
	mu   sync.Mutex // guards page
	page Page       // shared with the worker; nil once Wait unmapped it
	tail *Tail
}

// Available returns nil: worker processes are supported on this system.
func Available() error { return nil }

func start(c Config) (p *Process, err error) {
	var toClose []*os.File
	defer func() {
		for _, f := range toClose {
			f.Close()
		}
	}()
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	toClose = append(toClose, inR)
	outR, outW, err := os.Pipe()
	if err != nil {
		inW.Close()
		return nil, err
	}
	toClose = append(toClose, outW)
	growPipe(inW)
	growPipe(outW)
	shm, page, err := newPage()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	toClose = append(toClose, shm)

	tail := &Tail{dst: c.Stderr}
	cmd := &exec.Cmd{
		Path:        c.Path,
		Args:        c.Args,
		Env:         c.Env,
		Stdout:      c.Stdout,
		Stderr:      tail,
		ExtraFiles:  []*os.File{inR, outW, shm},
		SysProcAttr: sysProcAttr(),
		WaitDelay:   time.Second,
	}
	if err := cmd.Start(); err != nil {
		inW.Close()
		outR.Close()
		syscall.Munmap(page)
		return nil, err
	}
	return &Process{PID: cmd.Process.Pid, In: inW, Out: outR, cmd: cmd, page: page, tail: tail}, nil
}

// newPage returns an unlinked file of one page, mapped shared.
func newPage() (*os.File, Page, error) {
	dir := "/dev/shm"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "futures-worker-")
	if err != nil {
		return nil, nil, err
	}
	os.Remove(f.Name())
	if err := f.Truncate(PageSize); err != nil {
		f.Close()
		return nil, nil, err
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, b, nil
}

// Progress returns what the worker last stored in Page.Started and
// Page.Over, or zeros once Wait returned.
func (p *Process) Progress() (started, over uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.page == nil {
		return 0, 0
	}
	return atomic.LoadUint64(p.page.Started()), atomic.LoadUint64(p.page.Over())
}

// Signal sends sig to the worker's process group.
func (p *Process) Signal(sig syscall.Signal) error {
	return syscall.Kill(-p.PID, sig)
}

// Wait waits for the worker to exit, kills what is left of its process
// group (processes a call started), releases what Start allocated and
// returns how it ended. Out must be closed first, or drained to its end.
func (p *Process) Wait() Exit {
	// Until the worker is reaped its pid, the group's id, cannot be reused,
	// so the group is killed in between; the processes of the group then
	// release the worker's stderr, which cmd.Wait reads to its end.
	if waitExited(p.PID) {
		syscall.Kill(-p.PID, syscall.SIGKILL)
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	e := Exit{Code: p.cmd.ProcessState.ExitCode(), Stderr: p.tail.String(), Started: atomic.LoadUint64(p.page.Started()),
		AreaHead: atomic.LoadUint64(p.page.AreaHead())}
	if n := min(int(e.AreaHead&(1<<32-1)), len(p.page.Area())); n > 0 {
		e.Area = append([]byte(nil), p.page.Area()[:n]...)
	}
	syscall.Munmap(p.page)
	p.page = nil
	p.mu.Unlock()
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal().String()
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && e.Stderr == "" {
		e.Stderr = fmt.Sprint(err)
	}
	return e
}

// Attach, in a worker, opens its protocol pipes and maps the shared page.
// It fails if the descriptors are not what a pool passes.
func Attach() (in, out *os.File, page Page, err error) {
	for _, fd := range []int{FDIn, FDOut, FDCounter} {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return nil, nil, nil, fmt.Errorf("file descriptor %d: %w", fd, err)
		}
		want := uint32(syscall.S_IFIFO)
		if fd == FDCounter {
			want = syscall.S_IFREG
		}
		if uint32(st.Mode)&syscall.S_IFMT != want {
			return nil, nil, nil, fmt.Errorf("file descriptor %d is not what a pool passes", fd)
		}
		syscall.CloseOnExec(fd)
	}
	b, err := syscall.Mmap(FDCounter, 0, PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mapping the shared page: %w", err)
	}
	syscall.Close(FDCounter)
	guardParent()
	return os.NewFile(FDIn, "futures-requests"), os.NewFile(FDOut, "futures-replies"), b, nil
}

// watchParent kills the process's own process group, itself included, once
// its parent is no longer ppid: the parent died and the process was handed
// to another. It looks every interval and never returns.
func watchParent(ppid int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			syscall.Kill(0, syscall.SIGKILL)
		}
	}
}
