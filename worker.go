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
//
// The calls of one TCalls frame are queued together, as a batch, so that the
// locks are taken once per frame, not once per call.
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
	queue   ring.Queue[*wbatch]
	cur     *wbatch     // the batch calls run from; set with mu held, by the running goroutine only
	reading bool        // a goroutine is reading the request pipe
	running bool        // a goroutine is running calls
	eof     bool        // no more requests: the pipe closed, or Abort
	aborted atomic.Bool // the pool asked to stop now; set with mu held
	failure int         // exit code of a protocol failure, or 0
	loops   int         // goroutines in loop
	groups  map[uint64]*wgroup
	batches sync.Pool // of *wbatch whose calls are over, for reuse

	wmu    sync.Mutex // held by whoever writes results
	frame  []byte     // guarded by wmu
	spare  []byte     // guarded by wmu
	resMu  sync.Mutex
	recs   []byte // result records not yet written
	nrecs  int
	wake   chan struct{} // asks the writer goroutine to write
	kicked atomic.Bool   // the writer goroutine was asked and has not started writing

	scratch []byte // the encoded result of the call running now
}

// wbatch is the calls of one TCalls frame, in order.
type wbatch struct {
	calls []wcall
	next  int // the first call not started
}

// wcall is a call received by a worker.
type wcall struct {
	id    uint64
	name  string
	fn    *regFunc // nil if not registered here
	arg   []byte
	group *wgroup // nil for the worker's own context
	// cancelled says the call's context is cancelled from the start.
	cancelled bool
	// release says the call gives back a reference to its group once done:
	// the calls of a batch in a row with one group hold one reference,
	// given back by the last of them.
	release bool
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
			w.kicked.Store(false)
			w.flush()
		}
	}()
	w.mu.Lock()
	w.loops = 2
	go w.loop()
	go w.loop()
	// Once aborted, the worker exits as soon as no call runs, without
	// waiting for a goroutine blocked reading the request pipe.
	for w.loops > 0 && !(w.aborted.Load() && !w.running) {
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
		r = w.invoke(&wcall{name: init.name, fn: init})
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
		case (w.cur != nil || w.queue.Len() > 0) && !w.running && !w.aborted.Load():
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
		err = w.queueCalls(body)
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

// maxPrealloc bounds the calls a batch makes room for before reading them,
// so that a frame announcing more calls than it holds costs no more memory
// than its bytes do.
const maxPrealloc = 1 << 12

// queueCalls queues the calls of a TCalls frame body as one batch, and
// returns an error, queueing nothing, if the body is malformed. The calls in
// a row with the same group share one lookup and one reference to the group.
func (w *workerProc) queueCalls(body []byte) error {
	cr := wire.ReadCalls(body)
	b, _ := w.batches.Get().(*wbatch)
	if b == nil {
		b = &wbatch{calls: make([]wcall, 0, min(cr.Len(), maxPrealloc))}
	}
	calls := b.calls[:0]
	var fn *regFunc
	var g *wgroup // the group of the last call, if it has one
	for cr.Next() {
		c := &cr.Call
		if !cr.SameFunc {
			fn = lookupName(c.Func)
		}
		cancelled := c.Flags&wire.FlagCancelled != 0
		group := c.Group
		if cancelled {
			group = 0
		}
		if g != nil && g.id != group {
			calls[len(calls)-1].release = true
			g = nil
		}
		if g == nil && group != 0 {
			g = w.hold(group)
		}
		calls = append(calls, wcall{id: c.ID, name: c.Func, fn: fn, group: g, cancelled: cancelled})
		if c.Flags&wire.FlagArg != 0 {
			calls[len(calls)-1].arg = c.Arg
		}
	}
	if g != nil {
		calls[len(calls)-1].release = true
	}
	b.calls, b.next = calls, 0
	if err := cr.Err(); err != nil {
		for i := range calls {
			w.release(&calls[i])
		}
		return err
	}
	if len(calls) > 0 {
		w.mu.Lock()
		w.queue.Push(b)
		w.mu.Unlock()
	}
	return nil
}

// hold returns the group id, created if new, and takes a reference to it.
func (w *workerProc) hold(id uint64) *wgroup {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.groups[id]
	if g == nil {
		g = &wgroup{id: id}
		g.ctx, g.cancel = context.WithCancel(w.base)
		w.groups[id] = g
	}
	g.refs++
	return g
}

// stop ends the serving: with abort, queued calls are dropped and running
// ones see their context cancelled.
func (w *workerProc) stop(abort bool, code int) {
	w.mu.Lock()
	w.eof = true
	if abort {
		w.aborted.Store(true)
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
// their results. Before each call it makes sure that the results of the
// calls before it are on their way, so that a long call holds none back.
func (w *workerProc) runQueue() {
	unsent := false // a result was recorded since the writer was last asked
	for {
		c := w.next()
		if c == nil {
			w.flush()
			return
		}
		if unsent && !w.kicked.Load() {
			w.kick()
			unsent = false
		}
		w.run(c)
		unsent = true
	}
}

// next returns the next call to run, or nil if none is queued or the pool
// aborted. It is called by the goroutine running calls only.
func (w *workerProc) next() *wcall {
	b := w.cur
	if b == nil || b.next == len(b.calls) {
		w.mu.Lock()
		w.cur, _ = w.queue.Pop()
		w.mu.Unlock()
		if b != nil {
			w.batches.Put(b)
		}
		if b = w.cur; b == nil {
			return nil
		}
	}
	if w.aborted.Load() {
		return nil
	}
	b.next++
	return &b.calls[b.next-1]
}

// run runs one call and reports its outcome. If the call ends its goroutine
// with runtime.Goexit, a new goroutine takes over the serving.
func (w *workerProc) run(c *wcall) {
	var t *callTimer
	returned := false
	defer func() {
		if returned {
			return
		}
		r := wire.Result{ID: c.id, Kind: wire.KindFail, Message: errGoexit.Error()}
		if t == nil || t.stop() {
			w.record(&r)
		}
		w.release(c)
		w.flush()
		w.mu.Lock()
		w.running = false
		w.changed.Broadcast()
		w.mu.Unlock()
		go w.loop()
	}()
	atomic.StoreUint64(w.counter, c.id)
	if w.timeout > 0 {
		t = w.startTimer(c.id)
	}
	r := w.invoke(c)
	if t == nil || t.stop() {
		w.record(&r)
	}
	w.release(c)
	returned = true
}

// callTimer reports a timeout for a call that overruns TaskTimeout.
type callTimer struct {
	timer    *time.Timer
	timedOut chan struct{} // closed once the timer reported the timeout
}

// startTimer starts the TaskTimeout timer of the call id.
func (w *workerProc) startTimer(id uint64) *callTimer {
	t := &callTimer{timedOut: make(chan struct{})}
	t.timer = time.AfterFunc(w.timeout, func() {
		w.record(&wire.Result{ID: id, Kind: wire.KindTimeout, Message: w.timeout.String()})
		w.kick()
		close(t.timedOut)
	})
	return t
}

// stop stops t and reports whether it did so in time for the call to
// report its own outcome: false if the timer reported a timeout. Once it
// returns, the timer is over.
func (t *callTimer) stop() bool {
	if t.timer.Stop() {
		return true
	}
	<-t.timedOut
	return false
}

// record adds r to the results to write.
func (w *workerProc) record(r *wire.Result) {
	w.resMu.Lock()
	w.recs = wire.AppendResult(w.recs, r)
	w.nrecs++
	w.resMu.Unlock()
}

// kick asks the writer goroutine to write the results recorded so far.
func (w *workerProc) kick() {
	w.kicked.Store(true)
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

// release gives back the group reference c holds, if any; the group's
// context ends with its last reference.
func (w *workerProc) release(c *wcall) {
	if g := c.group; c.release {
		w.mu.Lock()
		if g.refs--; g.refs == 0 {
			delete(w.groups, g.id)
			g.cancel()
		}
		w.mu.Unlock()
	}
}

// context returns the context c runs with.
func (w *workerProc) context(c *wcall) context.Context {
	switch {
	case c.cancelled:
		return w.cancelled
	case c.group != nil:
		return c.group.ctx
	}
	return w.base
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
	res, err, codecErr := c.fn.call(w.context(c), w.codec, c.arg, w.scratch[:0])
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
