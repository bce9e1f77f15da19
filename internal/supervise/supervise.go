// Package supervise starts and stops the worker processes of a ProcessPool:
// each runs with its protocol pipes and a shared page (progress counters and
// a results area) on extra file descriptors, in its own process group, with a parent-death signal, and
// with its stderr forwarded while its tail is kept for crash reports.
//
// It is Linux-specific: the parent-death signal has no portable equivalent.
package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// File descriptors a worker finds its protocol on (exec.Cmd.ExtraFiles
// start at 3).
const (
	FDIn      = 3 // the worker reads requests here
	FDOut     = 4 // the worker writes replies here
	FDCounter = 5 // the shared page
)

// PageSize is the size of the page a worker shares with its pool: 64 KiB,
// so that its results area holds thousands of small results.
const PageSize = 64 << 10

// Page is the page a worker shares with its pool: the id of the call the
// worker started last, the id of the last call whose outcome it recorded,
// then a results area, a word and bytes whose meaning the caller decides.
type Page []byte

// Started returns the word holding the id of the call started last.
func (pg Page) Started() *uint64 { return word(pg, 0) }

// Over returns the word holding the id of the last call whose outcome the
// worker recorded.
func (pg Page) Over() *uint64 { return word(pg, 8) }

// AreaHead returns the word of the results area.
func (pg Page) AreaHead() *uint64 { return word(pg, 16) }

// Area returns the bytes of the results area.
func (pg Page) Area() []byte { return pg[24:] }

func word(b []byte, at int) *uint64 { return (*uint64)(unsafe.Pointer(&b[at])) }

// Config says how to start a worker.
type Config struct {
	Path   string
	Args   []string  // argv, Args[0] included
	Env    []string  // the whole environment
	Stdout io.Writer // where the worker's stdout goes
	Stderr io.Writer // where the worker's stderr goes; its tail is kept too
}

// TailSize is how many bytes of a worker's stderr are kept.
const TailSize = 4 << 10

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

// Exit describes how a worker process ended.
type Exit struct {
	Code   int    // exit status, or -1 if a signal ended it
	Signal string // the signal's name, or ""
	Stderr string // the tail of its stderr
	// Started is the last value the worker stored in Page.Started: the id
	// of the last call it started.
	Started uint64
	// AreaHead and Area are a copy of the results area as the worker left
	// it: of its bytes, as many as the low 32 bits of AreaHead say.
	AreaHead uint64
	Area     []byte
}

// Spawner starts processes from one OS thread that lives as long as it does:
// Linux sends the parent-death signal when the thread that started a child
// exits, not only when the whole parent does.
type Spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	c     Config
	reply chan spawnReply
}

type spawnReply struct {
	p   *Process
	err error
}

// NewSpawner starts the spawning thread. Stop ends it.
func NewSpawner() *Spawner {
	s := &Spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *Spawner) loop() {
	runtime.LockOSThread()
	defer close(s.done)
	for r := range s.reqs {
		p, err := start(r.c)
		r.reply <- spawnReply{p, err}
	}
	// Every child is gone by now; the thread may serve other goroutines.
	runtime.UnlockOSThread()
}

// Start starts a worker as c says.
func (s *Spawner) Start(c Config) (*Process, error) {
	reply := make(chan spawnReply, 1)
	s.reqs <- spawnReq{c, reply}
	r := <-reply
	return r.p, r.err
}

// Stop ends the spawning thread once every Start has returned. Call it only
// after every process it started has been waited for.
func (s *Spawner) Stop() {
	close(s.reqs)
	<-s.done
}

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
	shm, page, err := newPage()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	toClose = append(toClose, shm)

	tail := &Tail{dst: c.Stderr}
	cmd := &exec.Cmd{
		Path:       c.Path,
		Args:       c.Args,
		Env:        c.Env,
		Stdout:     c.Stdout,
		Stderr:     tail,
		ExtraFiles: []*os.File{inR, outW, shm},
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
		WaitDelay: time.Second,
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

// Wait waits for the worker to exit, releases what Start allocated and
// returns how it ended. Out must be closed first, or drained to its end.
func (p *Process) Wait() Exit {
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
		if st.Mode&syscall.S_IFMT != want {
			return nil, nil, nil, fmt.Errorf("file descriptor %d is not what a pool passes", fd)
		}
		syscall.CloseOnExec(fd)
	}
	b, err := syscall.Mmap(FDCounter, 0, PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("mapping the shared page: %w", err)
	}
	syscall.Close(FDCounter)
	return os.NewFile(FDIn, "futures-requests"), os.NewFile(FDOut, "futures-replies"), b, nil
}
