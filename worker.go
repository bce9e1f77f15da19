package futures

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/wire"
)

// How a process learns it is a worker: the pool sets envWorker to the
// protocol version, envPool to its name, and appends workerArg and the name
// to the arguments, so that ps shows which pool a worker serves.
const (
	envWorker = "GOFUTURES_WORKER"
	envPool   = "GOFUTURES_POOL"
	workerArg = "-futures.worker="
)

// Exit codes of a worker that stops on its own.
const (
	exitByHand    = 2 // started without a pool
	exitSetup     = 3 // setup or the Initializer failed; the pool was told
	exitProtocol  = 4 // the pool sent something unreadable
	exitWriteFail = 5 // the pool stopped reading
)

// WorkerMain turns the process into a ProcessPool worker if a pool started
// it, and returns at once otherwise. Call it first thing in main, and in
// TestMain for test binaries: a worker re-executes the program, registers
// its functions through the package init functions, then runs WorkerMain,
// which serves calls and exits, never returning.
//
// A worker started by hand (with the worker argument but without the pool's
// pipes) prints what it is and exits with status 2. A worker exits by itself
// when its pool closes the pipes or its parent process dies. Python has no
// equivalent: multiprocessing guards the main module with
// `if __name__ == "__main__"`, which WorkerMain replaces.
func WorkerMain() {
	version, isWorker := os.LookupEnv(envWorker)
	byHand := !isWorker && slices.ContainsFunc(os.Args[1:], func(a string) bool { return strings.HasPrefix(a, workerArg) })
	if !isWorker && !byHand {
		return
	}
	var in, out *os.File
	var counter *uint64
	err := errors.New("started by hand")
	if isWorker && version == strconv.Itoa(wire.Version) {
		in, out, counter, err = supervise.Attach()
	} else if isWorker {
		err = fmt.Errorf("protocol version %q, want %d (the pool's program and this one are built from different versions of futures)", version, wire.Version)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "futures: this program was started as a worker process of ProcessPool %q, but %v. "+
			"Workers are started by their pool, which talks to them over pipes; run the program without %s to use it normally.\n",
			os.Getenv(envPool), err, workerArg)
		os.Exit(exitByHand)
	}
	os.Unsetenv(envWorker) // a pool created by a call is a pool of its own
	os.Exit(serveWorker(in, out, counter))
}

// workerProc is the state of a worker process.
//
// Two goroutines share the work: while one runs calls, the other reads the
// request pipe, so that cancellations arrive during a call. The one that
// reads calls while no call runs runs them itself, and the other takes over
// the reading: a call waits for no goroutine to wake up. Results are written
// by whoever runs the last queued call, or, while more calls are queued, by
// a writer goroutine that sends them in batches.
type workerProc struct {
	codec   Codec
	rd      *wire.Reader
	out     io.Writer
	counter *uint64 // shared with the pool: the id of the call started last
	timeout time.Duration
	pid     int

	base       context.Context // context of calls without a group
	cancelBase context.CancelFunc
	cancelled  context.Context // an already cancelled context

	mu      sync.Mutex
	changed *sync.Cond // the state below changed
	queue   ring.Queue[*wcall]
	reading bool // a goroutine is reading the request pipe
	running bool // a goroutine is running calls
	eof     bool // no more requests: the pipe closed, or Abort
	aborted bool // the pool asked to stop now
	failure int  // exit code of a protocol failure, or 0
	loops   int  // goroutines in loop
	groups  map[uint64]*wgroup

	wmu   sync.Mutex // held by whoever writes results
	frame []byte     // guarded by wmu
	spare []byte     // guarded by wmu
	resMu sync.Mutex
	recs  []byte // result records not yet written
	nrecs int
	wake  chan struct{} // asks the writer goroutine to write

	scratch []byte // the encoded result of the call running now
}

// wcall is a call received by a worker.
type wcall struct {
	id    uint64
	name  string
	fn    *regFunc // nil if not registered here
	arg   []byte
	ctx   context.Context
	group *wgroup

	claimed  atomic.Bool   // the outcome was reported, by the call or its timer
	timedOut chan struct{} // closed once the timer reported a timeout
}

// wgroup is the shared context of the calls of one group (one Map).
type wgroup struct {
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	refs   int
}

// serveWorker runs the worker protocol and returns the exit code.
func serveWorker(in io.Reader, out io.Writer, counter *uint64) int {
	w := &workerProc{rd: wire.NewReader(in), out: out, counter: counter, pid: os.Getpid(),
		groups: map[uint64]*wgroup{}, wake: make(chan struct{}, 1)}
	w.changed = sync.NewCond(&w.mu)
	w.base, w.cancelBase = context.WithCancel(context.Background())
	c, cancel := context.WithCancel(context.Background())
	cancel()
	w.cancelled = c

	if code := w.setup(); code != 0 {
		return code
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range w.wake {
			w.flush()
		}
	}()
	w.mu.Lock()
	w.loops = 2
	go w.loop()
	go w.loop()
	// Once aborted, the worker exits as soon as no call runs, without
	// waiting for a goroutine blocked reading the request pipe.
	for w.loops > 0 && !(w.aborted && !w.running) {
		w.changed.Wait()
	}
	code := w.failure
	w.mu.Unlock()
	close(w.wake)
	<-writerDone
	return code
}

// setup reads the Setup frame, runs the Initializer and says Ready. It
// returns a non-zero exit code if the worker cannot serve.
func (w *workerProc) setup() int {
	t, body, err := w.rd.Read()
	if err != nil || t != wire.TSetup {
		fmt.Fprintf(os.Stderr, "futures: worker %d: no setup from the pool (%v)\n", w.pid, err)
		return exitProtocol
	}
	s, err := wire.ParseSetup(body)
	var init *regFunc
	switch {
	case err != nil:
	case s.Version != wire.Version:
		err = fmt.Errorf("futures: the pool speaks protocol %d and this worker %d; build both from the same version of futures", s.Version, wire.Version)
	default:
		w.codec = codecByName(s.Codec)
		w.timeout = time.Duration(s.TaskTimeout)
		if w.codec == nil {
			err = fmt.Errorf("futures: the worker does not know the codec %q; call futures.RegisterCodec in an init function of the worker's program", s.Codec)
		} else if s.Initializer != "" {
			if init = lookupName(s.Initializer); init == nil {
				err = &notRegisteredError{name: s.Initializer, inChild: true}
			}
		}
	}
	var r wire.Result
	if err != nil {
		r = wire.Result{Kind: wire.KindFail, Message: err.Error()}
	} else if init != nil {
		r = w.invoke(&wcall{name: init.name, fn: init, ctx: w.base})
	}
	if r.Kind != wire.KindOK {
		w.write(wire.AppendResults(nil, wire.TInitErr, 1, wire.AppendResult(nil, &r)))
		return exitSetup
	}
	if !w.write(wire.AppendReady(nil, w.pid)) {
		return exitWriteFail
	}
	return 0
}

func (w *workerProc) write(frame []byte) bool {
	_, err := w.out.Write(frame)
	return err == nil
}

// loop is the body of the two serving goroutines: each runs the queued
// calls if no one does, else reads the pipe if no one does, else waits.
func (w *workerProc) loop() {
	w.mu.Lock()
	for {
		switch {
		case w.queue.Len() > 0 && !w.running && !w.aborted:
			w.running = true
			w.mu.Unlock()
			w.runQueue()
			w.mu.Lock()
			w.running = false
			w.changed.Broadcast()
		case !w.reading && !w.eof:
			w.reading = true
			w.mu.Unlock()
			w.readFrame()
			w.mu.Lock()
			w.reading = false
			w.changed.Broadcast() // the other goroutine takes over the reading
		case w.eof && !w.reading:
			w.loops--
			w.changed.Broadcast()
			w.mu.Unlock()
			return
		default:
			w.changed.Wait()
		}
	}
}

// readFrame reads and handles one frame from the pool.
func (w *workerProc) readFrame() {
	t, body, err := w.rd.Read()
	switch {
	case err == io.EOF:
		w.stop(false, 0)
		return
	case err != nil:
	case t == wire.TCalls:
		var batch []*wcall
		var last *regFunc
		err = wire.ParseCalls(body, func(c *wire.Call) {
			if last == nil || last.name != c.Func {
				last = lookupName(c.Func)
			}
			wc := &wcall{id: c.ID, name: c.Func, fn: last, arg: c.Arg}
			batch = append(batch, wc)
			w.bind(wc, c)
		})
		w.mu.Lock()
		for _, c := range batch {
			w.queue.Push(c)
		}
		w.mu.Unlock()
	case t == wire.TCancel:
		var gs []uint64
		gs, err = wire.ParseCancel(body)
		w.mu.Lock()
		for _, id := range gs {
			if g := w.groups[id]; g != nil {
				g.cancel()
			}
		}
		w.mu.Unlock()
	case t == wire.TAbort:
		w.stop(true, 0)
		return
	default:
		err = fmt.Errorf("unexpected frame type %d", t)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "futures: worker %d: reading from the pool: %v\n", w.pid, err)
		w.stop(true, exitProtocol)
	}
}

// bind gives wc its context.
func (w *workerProc) bind(wc *wcall, c *wire.Call) {
	switch {
	case c.Flags&wire.FlagCancelled != 0:
		wc.ctx = w.cancelled
	case c.Group == 0:
		wc.ctx = w.base
	default:
		w.mu.Lock()
		g := w.groups[c.Group]
		if g == nil {
			g = &wgroup{id: c.Group}
			g.ctx, g.cancel = context.WithCancel(w.base)
			w.groups[c.Group] = g
		}
		g.refs++
		w.mu.Unlock()
		wc.ctx, wc.group = g.ctx, g
	}
	if c.Flags&wire.FlagArg == 0 {
		wc.arg = nil
	}
}

// stop ends the serving: with abort, queued calls are dropped and running
// ones see their context cancelled.
func (w *workerProc) stop(abort bool, code int) {
	w.mu.Lock()
	w.eof = true
	if abort {
		w.aborted = true
		w.queue.Drain()
	}
	if w.failure == 0 {
		w.failure = code
	}
	w.changed.Broadcast()
	w.mu.Unlock()
	if abort {
		w.cancelBase()
	}
}

// runQueue runs queued calls, in order, until none is left, then writes
// their results.
func (w *workerProc) runQueue() {
	for {
		w.mu.Lock()
		c, ok := w.queue.Pop()
		if w.aborted {
			ok = false
		}
		more := w.queue.Len() > 0
		w.mu.Unlock()
		if !ok {
			w.flush()
			return
		}
		w.run(c)
		if more {
			w.kick()
		}
	}
}

// run runs one call and reports its outcome. If the call ends its goroutine
// with runtime.Goexit, a new goroutine takes over the serving.
func (w *workerProc) run(c *wcall) {
	returned := false
	defer func() {
		if returned {
			return
		}
		w.report(c, &wire.Result{ID: c.id, Kind: wire.KindFail, Message: errGoexit.Error()})
		w.release(c)
		w.flush()
		w.mu.Lock()
		w.running = false
		w.changed.Broadcast()
		w.mu.Unlock()
		go w.loop()
	}()
	atomic.StoreUint64(w.counter, c.id)
	var timer *time.Timer
	if w.timeout > 0 {
		c.timedOut = make(chan struct{})
		timer = time.AfterFunc(w.timeout, func() {
			w.report(c, &wire.Result{ID: c.id, Kind: wire.KindTimeout, Message: w.timeout.String()})
			w.kick()
			close(c.timedOut)
		})
	}
	r := w.invoke(c)
	if timer != nil && !timer.Stop() {
		<-c.timedOut
	}
	w.report(c, &r)
	w.release(c)
	returned = true
}

// report records the outcome of c unless one was recorded already.
func (w *workerProc) report(c *wcall, r *wire.Result) {
	if !c.claimed.CompareAndSwap(false, true) {
		return
	}
	w.resMu.Lock()
	w.recs = wire.AppendResult(w.recs, r)
	w.nrecs++
	w.resMu.Unlock()
}

// kick asks the writer goroutine to write the results recorded so far.
func (w *workerProc) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// flush writes the results recorded so far in one frame.
func (w *workerProc) flush() {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.resMu.Lock()
	recs, n := w.recs, w.nrecs
	if n == 0 {
		w.resMu.Unlock()
		return
	}
	w.recs, w.nrecs = w.spare[:0], 0
	w.resMu.Unlock()
	w.frame = wire.AppendResults(w.frame[:0], wire.TResults, n, recs)
	w.spare = recs
	if !w.write(w.frame) {
		w.stop(true, exitWriteFail)
	}
}

func (w *workerProc) release(c *wcall) {
	if g := c.group; g != nil {
		w.mu.Lock()
		if g.refs--; g.refs == 0 {
			delete(w.groups, g.id)
			g.cancel()
		}
		w.mu.Unlock()
	}
}

// invoke calls c's function and returns its outcome. A successful result's
// Value is in w's scratch buffer, valid until the next call.
func (w *workerProc) invoke(c *wcall) (r wire.Result) {
	r.ID = c.id
	if c.fn == nil {
		return wire.Result{ID: c.id, Kind: wire.KindFail, Type: failNotRegistered, Message: c.name}
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			r = wire.Result{ID: c.id, Kind: wire.KindPanic, Message: sprintPanic(v), Stack: string(debug.Stack())}
		}
	}()
	res, err, codecErr := c.fn.call(c.ctx, w.codec, c.arg, w.scratch[:0])
	returned = true
	switch {
	case codecErr != nil:
		return wire.Result{ID: c.id, Kind: wire.KindFail, Type: failCodec,
			Message: fmt.Sprintf("futures: the worker cannot %v (function %s, codec %s); use types the codec supports", codecErr, shortName(c.name), w.codec.Name())}
	case err != nil:
		return wire.Result{ID: c.id, Kind: wire.KindError, Type: fmt.Sprintf("%T", err), Message: errorText(err),
			Stack: fmt.Sprintf("%s, in worker process %d", c.name, w.pid)}
	}
	w.scratch = res
	r.Kind, r.Value = wire.KindOK, res
	return r
}

// Kinds of KindFail results, in Result.Type.
const (
	failNotRegistered = "not-registered"
	failCodec         = "codec"
)

// errorText returns err.Error(), or a description if that panics (an Error
// method with a bug, a typed nil pointer whose Error reads its receiver).
func errorText(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%T value (its Error method panicked: %s)", err, sprintPanic(r))
		}
	}()
	return err.Error()
}

// sprintPanic renders a panic value as text, even if its String method
// panics too.
func sprintPanic(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%T value (printing it panicked)", v)
		}
	}()
	return fmt.Sprint(v)
}
