// Package supervise starts and stops the worker processes of a ProcessPool:
// each runs with its protocol pipes and a shared page (progress counters and
// a results area) on extra file descriptors, in its own process group, and with its stderr forwarded
// while its tail is kept for crash reports.
//
// A worker never outlives its parent: on Linux the kernel kills it with a
// parent-death signal; on the BSDs and macOS it sees its request pipe close
// and watches its parent's pid (process_bsd.go). On other systems, Windows
// among them, Available reports that workers are not supported and Start
// fails.
package supervise

import (
	"io"
	"runtime"
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
