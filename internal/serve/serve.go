package serve

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Exit codes of a worker that stops on its own.
const (
	ExitByHand    = 2 // started without a pool
	ExitSetup     = 3 // setup or the Initializer failed; the pool was told
	ExitProtocol  = 4 // the pool sent something unreadable
	ExitWriteFail = 5 // the pool stopped reading
	ExitTimedOut  = 6 // a call overran TaskTimeout; the pool was told
)

// server serves the calls a pool sends a worker process over pipes.
//
// Two goroutines share the work: while one runs calls, the other reads the
// request pipe, so that cancellations arrive during a call. The one that
// reads calls while no call runs runs them itself, and the other takes over
// the reading: at once before several calls, and before a lone call once it
// has run for handoffAfter, so that a short round trip wakes no other
// goroutine, which on a machine with idle cores costs more than the call.
// The main goroutine waits apart, for the end, so that it wakes for none of
// these hand-offs. Results are written by whoever runs the last queued call,
// or, while more calls are queued, by a writer goroutine that sends them in
// batches. Before a call starts, the outcomes of the calls before it are
// written or copied to the results area of the page shared with the pool,
// so that the pool gets them even if the call ends the process.
//
// The calls of one TCalls frame are queued together, as a batch, so that the
// locks are taken once per frame, not once per call; batches are reused, so
// that a call allocates nothing in the worker's own code.
type server struct {
	runner  Runner // set up by setup, used by the goroutine running calls
	rd      *wire.Reader
	out     io.Writer
	started *uint64 // shared with the pool: the id of the call started last
	over    *uint64 // shared with the pool: the id of the last call whose outcome is recorded
	// reuseBodies says the body of a frame of calls may be reused for
	// another frame once the calls are over.
	reuseBodies bool

	base       context.Context // context of calls without a group
	cancelBase context.CancelFunc
	cancelled  context.Context // an already cancelled context

	mu      sync.Mutex
	changed *sync.Cond // the state below changed
	ended   *sync.Cond // loops fell, or the pool aborted and running may have
	queue   ring.Queue[*batch]
	cur     *batch      // the batch calls run from; set with mu held, by the running goroutine only
	reading bool        // a goroutine is reading the request pipe
	running bool        // a goroutine is running calls
	eof     bool        // no more requests: the pipe closed, or Abort
	aborted atomic.Bool // the pool asked to stop now; set with mu held
	failure int         // exit code of a protocol failure, or 0
	loops   int         // goroutines in loop
	groups  map[uint64]*group
	reuse   *batch    // the batch the next frame is read into, owned by the reading goroutine
	batches sync.Pool // of *batch whose calls are over, for reuse

	// With Gob, the runner's codec is a Stream encoding with types, whose
	// definitions from typesSent on the pool has not been sent yet.
	types     *value.Types
	typesSent atomic.Int64 // changed with wmu held

	wmu    sync.Mutex // held by whoever writes results
	frame  wire.Out   // guarded by wmu
	spare  wire.Out   // guarded by wmu: the records' buffer to use next, empty
	resMu  sync.Mutex
	recs   wire.Out // result records not yet written
	nrecs  int
	area   resultArea    // guarded by resMu
	wake   chan struct{} // asks the writer goroutine to write
	kicked atomic.Bool   // the writer goroutine was asked and has not started writing

	handoff *time.Timer // wakes the goroutine that does not run calls, to read
}

// handoffAfter is how long a lone call runs before the goroutine that does
// not run it takes over reading the request pipe; until then, a frame the
// pool sends waits in the pipe.
const handoffAfter = 20 * time.Microsecond

// Serve serves the calls of a pool that sends requests to in and reads
// results from out, sharing page with it, until the pool closes in or
// aborts; it returns the exit code of the worker process.
func Serve(in io.Reader, out io.Writer, page supervise.Page) int {
	return newServer(in, out, page).serve()
}

// newServer returns a server that reads requests from in, writes results
// to out and shares page with the pool.
func newServer(in io.Reader, out io.Writer, page supervise.Page) *server {
	return &server{runner: Runner{pid: os.Getpid()}, rd: wire.NewReader(in), out: out, started: page.Started(), over: page.Over(),
		area: resultArea{head: page.AreaHead(), buf: page.Area()}, groups: map[uint64]*group{}, wake: make(chan struct{}, 1)}
}

// serve runs the worker protocol and returns the exit code.
func (s *server) serve() int {
	s.changed, s.ended = sync.NewCond(&s.mu), sync.NewCond(&s.mu)
	s.handoff = time.AfterFunc(time.Hour, func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	s.handoff.Stop()
	s.base, s.cancelBase = context.WithCancel(context.Background())
	c, cancel := context.WithCancel(context.Background())
	cancel()
	s.cancelled = c

	if code := s.setup(); code != 0 {
		return code
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range s.wake {
			s.kicked.Store(false)
			s.flush()
		}
	}()
	s.mu.Lock()
	s.loops = 2
	go s.loop()
	go s.loop()
	// Once aborted, the worker exits as soon as no call runs, without
	// waiting for a goroutine blocked reading the request pipe.
	for s.loops > 0 && !(s.aborted.Load() && !s.running) {
		s.ended.Wait()
	}
	code := s.failure
	s.mu.Unlock()
	close(s.wake)
	<-writerDone
	return code
}

// setup reads the Setup frame, runs the Initializer and says Ready. It
// returns a non-zero exit code if the worker cannot serve.
func (s *server) setup() int {
	t, body, err := s.rd.Read()
	if err != nil || t != wire.TSetup {
		fmt.Fprintf(os.Stderr, "futures: worker %d: no setup from the pool (%v)\n", s.runner.pid, err)
		return ExitProtocol
	}
	st, err := wire.ParseSetup(body)
	var init *registry.Func
	switch {
	case err != nil:
	case st.Version != wire.Version:
		err = fmt.Errorf("futures: the pool speaks protocol %d and this worker %d; build both from the same version of futures", st.Version, wire.Version)
	default:
		r := &s.runner
		r.codec, r.timeout = value.ByName(st.Codec), time.Duration(st.TaskTimeout)
		r.onTimeout, r.onGoexit, r.onStart = s.timedOut, s.record, s.markStarted
		r.started = r.start
		// Gob and JSON copy what they decode; another codec may keep
		// parts of the argument's bytes, so each frame gets new ones.
		s.reuseBodies = value.Copies(r.codec)
		if value.Streams(r.codec) {
			s.types = value.NewTypes()
			r.codec = value.NewStream(s.types)
		}
		if r.codec == nil {
			err = fmt.Errorf("futures: the worker does not know the codec %q; call futures.RegisterCodec in an init function of the worker's program", st.Codec)
		} else if st.Initializer != "" {
			if init = registry.ByName(st.Initializer); init == nil {
				err = &registry.NotRegisteredError{Name: st.Initializer, InWorker: true}
			}
		}
	}
	var r wire.Result
	if err != nil {
		r = wire.Result{Kind: wire.KindFail, Message: err.Error()}
	} else if init != nil {
		s.runner.invoke(s.base, &r, 0, init, init.Name(), nil, nil)
	}
	if r.Kind != wire.KindOK {
		s.sendTypes() // of the values in the error
		s.write(wire.AppendResults(nil, wire.TInitErr, 1, wire.AppendResult(nil, &r)))
		return ExitSetup
	}
	if !s.write(wire.AppendReady(nil, s.runner.pid)) {
		return ExitWriteFail
	}
	return 0
}

// write writes frame to the pool, and reports whether it could.
func (s *server) write(frame []byte) bool {
	_, err := s.out.Write(frame)
	return err == nil
}

// loop is the body of the two serving goroutines: each runs the queued
// calls if no one does, else reads the pipe if no one does, else waits.
// Whoever stops running or reading goes on with what is left itself, so
// neither wakes the other for nothing: the one that starts running wakes the
// other to read the pipe meanwhile, at once before several calls, and
// before a lone call only once it has run for handoffAfter.
func (s *server) loop() {
	s.mu.Lock()
	for {
		switch {
		case (s.cur != nil || s.queue.Len() > 0) && !s.running && !s.aborted.Load():
			s.running = true
			if s.lone() {
				s.mu.Unlock()
				s.handoff.Reset(handoffAfter)
			} else {
				s.changed.Broadcast()
				s.mu.Unlock()
			}
			s.runQueue()
			s.handoff.Stop()
			s.mu.Lock()
			s.running = false
			if s.aborted.Load() {
				s.ended.Broadcast()
			}
		case !s.reading && !s.eof:
			s.reading = true
			s.mu.Unlock()
			s.readFrame()
			s.mu.Lock()
			s.reading = false
		case s.eof && !s.reading:
			s.loops--
			s.changed.Broadcast()
			s.ended.Broadcast()
			s.mu.Unlock()
			return
		default:
			s.changed.Wait()
		}
	}
}

// lone reports whether the one call queued is all there is to run, as in
// a round trip; the other goroutine then reads only once it has run for
// handoffAfter. Before more calls it reads at once, for the frames that
// follow them. It is called with mu held.
func (s *server) lone() bool {
	if s.cur != nil || s.queue.Len() != 1 {
		return false
	}
	b, _ := s.queue.Peek()
	return len(b.calls) == 1
}

// readFrame reads and handles one frame from the pool.
func (s *server) readFrame() {
	b := s.reuse
	if b == nil {
		b, _ = s.batches.Get().(*batch)
		if b == nil {
			b = new(batch)
		}
		s.reuse = b
	}
	buf := b.body
	if !s.reuseBodies {
		buf = nil
	}
	t, body, err := s.rd.ReadInto(buf)
	switch {
	case err == io.EOF:
		s.stop(false, 0)
		return
	case err != nil:
	case t == wire.TCalls:
		b.body = body
		err = s.queueCalls(b)
	case t == wire.TTypes && s.types != nil:
		s.runner.codec.(*value.Stream).AddTypes(body)
	case t == wire.TCancel:
		var gs []uint64
		gs, err = wire.ParseCancel(body)
		s.mu.Lock()
		for _, id := range gs {
			if g := s.groups[id]; g != nil {
				g.cancel()
			}
		}
		s.mu.Unlock()
	case t == wire.TAbort:
		s.stop(true, 0)
		return
	default:
		err = fmt.Errorf("unexpected frame type %d", t)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "futures: worker %d: reading from the pool: %v\n", s.runner.pid, err)
		s.stop(true, ExitProtocol)
	}
}

// stop ends the serving: with abort, queued calls are dropped and running
// ones see their context cancelled.
func (s *server) stop(abort bool, code int) {
	s.mu.Lock()
	s.eof = true
	if abort {
		s.aborted.Store(true)
		s.queue.Drain()
	}
	if s.failure == 0 {
		s.failure = code
	}
	s.changed.Broadcast()
	s.ended.Broadcast()
	s.mu.Unlock()
	if abort {
		s.cancelBase()
	}
}
