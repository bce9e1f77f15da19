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

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/value"
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
	exitTimedOut  = 6 // a call overran TaskTimeout; the pool was told
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
	var page supervise.Page
	err := errors.New("started by hand")
	if isWorker && version == strconv.Itoa(wire.Version) {
		in, out, page, err = supervise.Attach()
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
	os.Exit(serveWorker(in, out, page))
}

// workerProc is the state of a worker process.
//
// Two goroutines share the work: while one runs calls, the other reads the
// request pipe, so that cancellations arrive during a call. The one that
// reads calls while no call runs runs them itself, and the other takes over
// the reading: a call waits for no goroutine to wake up. Results are written
// by whoever runs the last queued call, or, while more calls are queued, by
// a writer goroutine that sends them in batches. Before a call starts, the
// outcomes of the calls before it are written or copied to the results area
// of the page shared with the pool, so that the pool gets them even if the
// call ends the process.
//
// The calls of one TCalls frame are queued together, as a batch, so that the
// locks are taken once per frame, not once per call; batches are reused, so
// that a call allocates nothing in the worker's own code.
type workerProc struct {
	codec   Codec
	rd      *wire.Reader
	out     io.Writer
	started *uint64 // shared with the pool: the id of the call started last
	over    *uint64 // shared with the pool: the id of the last call whose outcome is recorded
	timeout time.Duration
	pid     int
	// reuseBodies says the body of a frame of calls may be reused for
	// another frame once the calls are over.
	reuseBodies bool

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
	reuse   *wbatch   // the batch the next frame is read into, owned by the reading goroutine
	batches sync.Pool // of *wbatch whose calls are over, for reuse

	wmu    sync.Mutex // held by whoever writes results
	frame  []byte     // guarded by wmu
	spare  []byte     // guarded by wmu
	resMu  sync.Mutex
	recs   []byte // result records not yet written
	nrecs  int
	area   resultArea    // guarded by resMu
	wake   chan struct{} // asks the writer goroutine to write
	kicked atomic.Bool   // the writer goroutine was asked and has not started writing

	scratch []byte // the encoded result of the call running now
}

// wbatch is the calls of one TCalls frame, in order. Its call records hold
// no pointers, so that the garbage collector neither scans them nor
// watches writes to them: they refer to their arguments by offsets in the
// frame's body, and to their functions and groups by index.
type wbatch struct {
	body   []byte
	calls  []wcall
	fns    []*registry.Func // nil for a function not registered here
	names  []string         // the names of fns
	groups []*wgroup        // groups[0] is nil: the worker's own context
	next   int              // the first call not started
}

// wcall is a call received by a worker.
type wcall struct {
	id            uint64
	argAt, argEnd uint32 // the argument is body[argAt:argEnd]
	fn            uint32 // index in fns
	group         uint32 // index in groups
	flags         uint8
}

// Flags of a wcall.
const (
	callHasArg    = 1 << iota // the call has an argument
	callCancelled             // the call's context is cancelled from the start
	// callReleases says the call gives back a reference to its group
	// once done: the calls of a batch in a row with one group hold one
	// reference, given back by the last of them.
	callReleases
)

// wgroup is the shared context of the calls of one group (one Map).
type wgroup struct {
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc
	refs   int
}

// serveWorker runs the worker protocol, sharing page with the pool, and
// returns the exit code.
func serveWorker(in io.Reader, out io.Writer, page supervise.Page) int {
	return newWorkerProc(in, out, page).serve()
}

// newWorkerProc returns a worker that reads requests from in, writes
// results to out and shares page with the pool.
func newWorkerProc(in io.Reader, out io.Writer, page supervise.Page) *workerProc {
	return &workerProc{rd: wire.NewReader(in), out: out, started: page.Started(), over: page.Over(), pid: os.Getpid(),
		area: resultArea{head: page.AreaHead(), buf: page.Area()}, groups: map[uint64]*wgroup{}, wake: make(chan struct{}, 1)}
}

// serve runs the worker protocol and returns the exit code.
func (w *workerProc) serve() int {
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
	var init *registry.Func
	switch {
	case err != nil:
	case s.Version != wire.Version:
		err = fmt.Errorf("futures: the pool speaks protocol %d and this worker %d; build both from the same version of futures", s.Version, wire.Version)
	default:
		w.codec = value.ByName(s.Codec)
		w.timeout = time.Duration(s.TaskTimeout)
		// Gob and JSON copy what they decode; another codec may keep
		// parts of the argument's bytes, so each frame gets new ones.
		w.reuseBodies = value.Copies(w.codec)
		if w.codec == nil {
			err = fmt.Errorf("futures: the worker does not know the codec %q; call futures.RegisterCodec in an init function of the worker's program", s.Codec)
		} else if s.Initializer != "" {
			if init = registry.ByName(s.Initializer); init == nil {
				err = &registry.NotRegisteredError{Name: s.Initializer, InWorker: true}
			}
		}
	}
	var r wire.Result
	if err != nil {
		r = wire.Result{Kind: wire.KindFail, Message: err.Error()}
	} else if init != nil {
		r = w.invoke(0, init, init.Name(), w.base, nil)
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
	b := w.reuse
	if b == nil {
		b, _ = w.batches.Get().(*wbatch)
		if b == nil {
			b = new(wbatch)
		}
		w.reuse = b
	}
	buf := b.body
	if !w.reuseBodies {
		buf = nil
	}
	t, body, err := w.rd.ReadInto(buf)
	switch {
	case err == io.EOF:
		w.stop(false, 0)
		return
	case err != nil:
	case t == wire.TCalls:
		b.body = body
		err = w.queueCalls(b)
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

// queueCalls queues the calls of the TCalls frame in b.body as batch b,
// and returns an error, queueing nothing, if the body is malformed. The
// calls in a row with the same group share one lookup and one reference to
// the group.
func (w *workerProc) queueCalls(b *wbatch) error {
	cr := wire.ReadCalls(b.body)
	calls := b.calls[:0]
	if n := min(cr.Len(), maxPrealloc); cap(calls) < n {
		calls = make([]wcall, 0, n)
	}
	b.fns, b.names, b.groups = b.fns[:0], b.names[:0], append(b.groups[:0], nil)
	var g *wgroup // the group of the last call, if it has one
	for cr.Next() {
		c := &cr.Call
		if !cr.SameFunc {
			b.fns = append(b.fns, registry.ByName(c.Func))
			b.names = append(b.names, c.Func)
		}
		wc := wcall{id: c.ID, fn: uint32(len(b.fns) - 1)}
		group := c.Group
		if c.Flags&wire.FlagCancelled != 0 {
			wc.flags |= callCancelled
			group = 0
		}
		if g != nil && g.id != group {
			calls[len(calls)-1].flags |= callReleases
			g = nil
		}
		if g == nil && group != 0 {
			g = w.hold(group)
			b.groups = append(b.groups, g)
		}
		if g != nil {
			wc.group = uint32(len(b.groups) - 1)
		}
		if c.Flags&wire.FlagArg != 0 {
			wc.flags |= callHasArg
			wc.argAt, wc.argEnd = uint32(cr.ArgStart), uint32(cr.ArgStart+len(c.Arg))
		}
		calls = append(calls, wc)
	}
	if g != nil {
		calls[len(calls)-1].flags |= callReleases
	}
	b.calls, b.next = calls, 0
	if err := cr.Err(); err != nil {
		for i := range calls {
			w.release(b, &calls[i])
		}
		return err
	}
	if len(calls) > 0 {
		w.reuse = nil
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
// calls before it are on their way, so that a long call holds none back,
// and that they are written or in the results area, so that a call that
// ends the process loses none.
func (w *workerProc) runQueue() {
	unsent := false // a result was recorded since the writer was last asked
	for {
		b, c := w.next()
		if c == nil {
			w.flush()
			return
		}
		if w.area.full.Load() {
			w.flush()
		} else if unsent && !w.kicked.Load() {
			w.kick()
			unsent = false
		}
		w.run(b, c)
		unsent = true
	}
}

// next returns the next call to run and its batch, or nil if none is
// queued or the pool aborted. It is called by the goroutine running calls
// only.
func (w *workerProc) next() (*wbatch, *wcall) {
	b := w.cur
	if b == nil || b.next == len(b.calls) {
		w.mu.Lock()
		w.cur, _ = w.queue.Pop()
		w.mu.Unlock()
		if b != nil {
			if cap(b.body) > wire.MaxKept {
				b.body = nil
			}
			w.batches.Put(b)
		}
		if b = w.cur; b == nil {
			return nil, nil
		}
	}
	if w.aborted.Load() {
		return nil, nil
	}
	b.next++
	return b, &b.calls[b.next-1]
}

// run runs one call of b and reports its outcome; a call whose context has
// ended already is reported cancelled, not invoked. If the call ends its
// goroutine with runtime.Goexit, a new goroutine takes over the serving.
func (w *workerProc) run(b *wbatch, c *wcall) {
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
		w.release(b, c)
		w.flush()
		w.mu.Lock()
		w.running = false
		w.changed.Broadcast()
		w.mu.Unlock()
		go w.loop()
	}()
	atomic.StoreUint64(w.started, c.id)
	ctx := w.context(b, c)
	var r wire.Result
	if ctx.Err() != nil {
		r = wire.Result{ID: c.id, Kind: wire.KindCancelled}
	} else {
		if w.timeout > 0 {
			t = w.startTimer(c.id)
		}
		var arg []byte
		if c.flags&callHasArg != 0 {
			arg = b.body[c.argAt:c.argEnd:c.argEnd]
		}
		r = w.invoke(c.id, b.fns[c.fn], b.names[c.fn], ctx, arg)
	}
	if t == nil || t.stop() {
		w.record(&r)
	}
	w.release(b, c)
	returned = true
}

// callTimer reports a timeout for a call that overruns TaskTimeout, and
// stops the worker: the pool kills it, and no other call may start in it.
type callTimer struct {
	timer    *time.Timer
	timedOut chan struct{} // closed once the timer reported the timeout
}

// startTimer starts the TaskTimeout timer of the call id.
func (w *workerProc) startTimer(id uint64) *callTimer {
	t := &callTimer{timedOut: make(chan struct{})}
	t.timer = time.AfterFunc(w.timeout, func() {
		w.record(&wire.Result{ID: id, Kind: wire.KindTimeout, Message: w.timeout.String()})
		w.stop(true, exitTimedOut)
		w.flush()
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

// record adds r to the results to write, and to the results area.
func (w *workerProc) record(r *wire.Result) {
	w.resMu.Lock()
	at := len(w.recs)
	w.recs = wire.AppendResult(w.recs, r)
	w.nrecs++
	w.area.add(w.recs[at:])
	if w.timeout > 0 { // for the pool's TaskTimeout watchdog
		atomic.StoreUint64(w.over, r.ID)
	}
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
		return
	}
	if cap(w.frame) > wire.MaxKept {
		w.frame, w.spare = nil, nil
	}
	w.resMu.Lock()
	if w.nrecs == 0 { // every record in the area is written
		w.area.clear()
	}
	w.resMu.Unlock()
}

// release gives back the group reference c of b holds, if any; the
// group's context ends with its last reference.
func (w *workerProc) release(b *wbatch, c *wcall) {
	if c.flags&callReleases != 0 {
		g := b.groups[c.group]
		w.mu.Lock()
		if g.refs--; g.refs == 0 {
			delete(w.groups, g.id)
			g.cancel()
		}
		w.mu.Unlock()
	}
}

// context returns the context c of b runs with.
func (w *workerProc) context(b *wbatch, c *wcall) context.Context {
	switch {
	case c.flags&callCancelled != 0:
		return w.cancelled
	case c.group != 0:
		return b.groups[c.group].ctx
	}
	return w.base
}

// invoke calls fn, registered as name (nil if not registered here), for
// the call id, and returns its outcome. A successful result's Value is in
// w's scratch buffer, valid until the next call.
func (w *workerProc) invoke(id uint64, fn *registry.Func, name string, ctx context.Context, arg []byte) (r wire.Result) {
	r.ID = id
	if fn == nil {
		return wire.Result{ID: id, Kind: wire.KindFail, Type: failNotRegistered, Message: name}
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			r = wire.Result{ID: id, Kind: wire.KindPanic, Message: sprintPanic(v), Stack: string(debug.Stack())}
		}
	}()
	res, err, codecErr := fn.Call(ctx, w.codec, arg, w.scratch[:0])
	returned = true
	switch {
	case codecErr != nil:
		return wire.Result{ID: id, Kind: wire.KindFail, Type: failCodec,
			Message: fmt.Sprintf("futures: the worker cannot %v (function %s, codec %s); use types the codec supports", codecErr, registry.ShortName(name), w.codec.Name())}
	case err != nil:
		return wire.Result{ID: id, Kind: wire.KindError, Type: fmt.Sprintf("%T", err), Message: errorText(err),
			Stack: fmt.Sprintf("%s, in worker process %d", name, w.pid)}
	}
	if cap(res) <= wire.MaxKept {
		w.scratch = res
	}
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
