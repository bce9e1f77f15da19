package futures

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/wire"
)

// ProcessPool runs registered functions in a pool of worker processes:
// Python's ProcessPoolExecutor. Workers are the program itself, re-executed
// (or the WorkerCommand program), which must call WorkerMain first thing in
// main. They start lazily, up to MaxWorkers, and are reused; arguments and
// results cross over pipes, encoded with the pool's Codec.
//
// A call is Running once it is handed to a worker; until then Cancel stops
// it. Calls are pipelined: each worker has several in flight and many go in
// one message, so trivial calls do not pay a round trip each. A worker that
// dies fails only the call it was running, with a *WorkerExitError; the calls
// it had not started go to another worker. Create one with NewProcessPool;
// all methods are safe for concurrent use.
type ProcessPool struct {
	name       string
	maxWorkers int
	codec      Codec
	initName   string // registered name of the Initializer, or ""
	maxTasks   int
	timeout    time.Duration
	queueSize  int
	logger     *slog.Logger
	path       string
	args, env  []string
	spawner    *supervise.Spawner

	mu         sync.Mutex
	room       *sync.Cond         // signalled when queued calls leave the queue
	queue      ring.Queue[punit]  // accepted calls not handed to a worker
	queued     int                // calls in queue
	retry      ring.Queue[*pcall] // started calls a dead worker never ran; before queue
	procs      []*proc            // every worker alive or starting
	starting   int
	groups     map[context.Context]*pgroup
	lastGroup  *pgroup
	nextGroup  uint64
	shutdown   bool
	broken     error // why new calls are refused
	forced     error // set when Shutdown gave up: the error of the calls still running
	exited     chan struct{}
	isExited   bool
	stopped    bool    // the spawner was stopped
	urgent     []*proc // idle workers just given calls, to write to at once
	startKills int     // workers killed in a row before they were ready
	st         Stats
	wg         sync.WaitGroup // the pool's goroutines
}

// punit is what the queue holds: one call, or a chunk that goes to one
// worker in one message.
type punit struct {
	one  *pcall
	many []*pcall
}

func (u punit) calls() []*pcall {
	if u.one != nil {
		return []*pcall{u.one}
	}
	return u.many
}

func (u punit) len() int {
	if u.one != nil {
		return 1
	}
	return len(u.many)
}

// pcall is one accepted call.
type pcall struct {
	t       Task
	fn      *regFunc
	arg     []byte
	hasArg  bool
	err     error // the argument could not be encoded
	group   *pgroup
	id      uint64 // its number in the worker it was sent to
	started bool
}

// pgroup is the context shared by calls, usually those of one Map: when it
// ends, the workers cancel the context of the calls they run for it.
type pgroup struct {
	id   uint64
	ctx  context.Context
	stop func() bool
}

// proc is the pool's side of a worker process. Fields are guarded by the
// pool's mutex, except sp, set once before the worker's goroutines use it.
type proc struct {
	sp        *supervise.Process
	ready     bool // the worker said Ready
	closing   bool // no more calls: its request pipe closes once written
	abort     bool // Shutdown gave up: tell the worker to stop now
	dead      bool
	killed    bool               // the pool sent it a signal
	reason    string             // why the pool killed it, for WorkerExitError
	overran   uint64             // the call the pool killed it for, if any
	inflight  ring.Queue[*pcall] // sent and not answered, oldest first
	nextID    uint64
	sent      int // calls sent, for MaxTasksPerWorker
	calls     wire.CallsBuilder
	cancels   []uint64
	setup     []byte
	wake      chan struct{}
	est       time.Duration // time per call of lastFn, measured; 0 until known
	window    int           // most calls in flight
	lastFn    *regFunc      // the function of the call sent last
	busySince time.Time

	wmu    sync.Mutex // held while writing to the worker
	buf    []byte     // guarded by wmu
	closed bool       // the request pipe is closed; guarded by wmu
}

// Pipelining: each worker gets calls for about aheadTarget of work at its
// measured speed, at least one call and at most maxWindow; the window
// starts at one call for each new function.
const (
	aheadTarget = 2 * time.Millisecond
	maxWindow   = 4096
)

// Escalation when Shutdown gives up: the workers are asked to stop, then
// sent SIGTERM after askGrace, then SIGKILL after termGrace.
const (
	askGrace  = 200 * time.Millisecond
	termGrace = 200 * time.Millisecond
)

// exitGrace is how long a worker may take to exit after its reply pipe
// closed; timeoutGrace is how long past TaskTimeout the pool waits for the
// worker's own report before it kills the worker itself.
const (
	exitGrace    = time.Second
	startLimit   = 10 * time.Second // for a worker without Initializer to say it is ready
	timeoutGrace = 250 * time.Millisecond
)

// NewProcessPool returns a pool of worker processes configured by opts:
// MaxWorkers (default runtime.NumCPU()), Initializer (registered), Name,
// QueueSize, MaxTasksPerWorker, TaskTimeout, WorkerCommand, Encoding (default
// Gob) and Logger apply. It starts no process until the first call. It
// returns an error, and no pool, if an option is invalid, the Initializer is
// not registered, the program cannot be located, or the process is itself a
// worker that did not call WorkerMain. Python:
// ProcessPoolExecutor(max_workers, initializer, max_tasks_per_child).
func NewProcessPool(opts ...Option) (*ProcessPool, error) {
	cfg, err := readOptions("ProcessPool", true, opts)
	if err != nil {
		return nil, err
	}
	if os.Getenv(envWorker) != "" {
		return nil, errors.New("futures: NewProcessPool: this process was started as a worker of a ProcessPool but did not call futures.WorkerMain(); call it first thing in main (and in TestMain)")
	}
	p := &ProcessPool{
		name:       cfg.name,
		maxWorkers: cfg.maxWorkers,
		codec:      cfg.codec,
		maxTasks:   cfg.maxTasksPerWorker,
		timeout:    cfg.taskTimeout,
		queueSize:  cfg.queueSize,
		logger:     cfg.logger,
		groups:     map[context.Context]*pgroup{},
		exited:     make(chan struct{}),
	}
	p.room = sync.NewCond(&p.mu)
	if p.maxWorkers == 0 {
		p.maxWorkers = runtime.NumCPU()
	}
	if p.codec == nil {
		p.codec = Gob
	}
	if codecByName(p.codec.Name()) == nil {
		return nil, fmt.Errorf("futures: NewProcessPool: Encoding(%s): workers cannot find this codec; register it with futures.RegisterCodec in an init function", p.codec.Name())
	}
	if cfg.initializer != nil {
		rf, err := lookupFunc(cfg.initializer)
		if err != nil {
			return nil, fmt.Errorf("futures: NewProcessPool: Initializer: %w", err)
		}
		p.initName = rf.name
	}
	if p.name == "" {
		p.name = "ProcessPool-" + strconv.FormatInt(poolCount.Add(1), 10)
	}
	if cfg.workerCommand != nil {
		p.path = cfg.workerCommand[0]
		p.args = append(p.args, cfg.workerCommand...)
	} else {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("futures: NewProcessPool: cannot find this program to start workers from (%w); use the WorkerCommand option", err)
		}
		p.path = exe
		p.args = append(p.args, exe)
	}
	p.args = append(p.args, workerArg+p.name)
	p.env = append(os.Environ(), envWorker+"="+strconv.Itoa(wire.Version), envPool+"="+p.name)
	if _, set := os.LookupEnv("GORACE"); !set {
		// A program built with -race otherwise sleeps a second at exit,
		// which Close would wait for in every worker.
		p.env = append(p.env, "GORACE=atexit_sleep_ms=0")
	}
	p.spawner = supervise.NewSpawner()
	if p.timeout > 0 {
		p.wg.Add(1)
		go p.watchTimeouts()
	}
	return p, nil
}

// MaxWorkers returns the most worker processes the pool runs at once.
func (p *ProcessPool) MaxWorkers() int { return p.maxWorkers }

// MapBuffer returns the Buffer Map uses by default with chunksize: enough
// chunks to keep about 2,048 calls in flight per worker, so that small
// calls are batched, and at least four chunks per worker.
func (p *ProcessPool) MapBuffer(chunksize int) int {
	return p.maxWorkers * max(4, 2048/max(chunksize, 1))
}

// String returns the pool's name, as set by the Name option.
func (p *ProcessPool) String() string { return p.name }

// Execute queues t to run in a worker process, starting a worker if none
// has room and fewer than MaxWorkers are alive. It returns an error matching
// ErrNotRegistered if t's function is not registered, ErrShutdown after
// Shutdown and an ErrBrokenExecutor error once the pool is broken. An
// argument the codec cannot encode is accepted and fails t's future. With
// QueueSize it blocks while the queue is full. Most code calls Submit, Go or
// Map instead.
func (p *ProcessPool) Execute(t Task) error {
	if t == nil {
		return errors.New("futures: ProcessPool.Execute: the Task is nil")
	}
	rf, err := lookupFunc(t.Func())
	if err != nil {
		return err
	}
	pc := new(pcall)
	p.prepare(t, rf, pc, nil)
	return p.enqueue(punit{one: pc}, t.Context())
}

// ExecuteBatch queues ts as one chunk: one worker gets all of them in one
// message and reports each result as soon as it has it. It accepts or
// refuses all of them, as Execute does for one.
func (p *ProcessPool) ExecuteBatch(ts []Task) error {
	for _, t := range ts {
		if t == nil {
			return errors.New("futures: ProcessPool.ExecuteBatch: a Task is nil")
		}
	}
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return p.Execute(ts[0])
	}
	// One allocation for the calls and one for their arguments; the
	// function is looked up once while it stays the same.
	slab := make([]pcall, len(ts))
	pcs := make([]*pcall, len(ts))
	var args []byte
	var last funcKey
	var rf *regFunc
	for i, t := range ts {
		fn := t.Func()
		if k := keyOf(fn); rf == nil || k != last {
			var err error
			if rf, err = lookupFunc(fn); err != nil {
				return err
			}
			last = k
		}
		args = p.prepare(t, rf, &slab[i], args)
		pcs[i] = &slab[i]
	}
	return p.enqueue(punit{many: pcs}, ts[0].Context())
}

// prepare fills pc with t, its function rf and its argument, encoded at the
// end of buf, and returns the grown buf. An argument the codec cannot encode
// is pc's error.
func (p *ProcessPool) prepare(t Task, rf *regFunc, pc *pcall, buf []byte) []byte {
	*pc = pcall{t: t, fn: rf}
	var err error
	start := len(buf)
	if e, ok := t.(argEncoder); ok {
		pc.hasArg = true
		buf, err = e.appendArg(buf, p.codec)
	} else if a, ok := t.Arg(); ok {
		pc.hasArg = true
		buf, err = appendValue(buf, p.codec, a)
	}
	if err != nil {
		pc.err = fmt.Errorf("futures: cannot encode the argument of %s with %s: %w; pass a type the codec supports", shortName(rf.name), p.codec.Name(), err)
	}
	if pc.hasArg {
		pc.arg = buf[start:len(buf):len(buf)]
	}
	return buf
}

// argEncoder is implemented by the tasks of this package whose function
// takes an argument: it encodes the argument without boxing it.
type argEncoder interface {
	appendArg(dst []byte, c Codec) ([]byte, error)
}

func (p *ProcessPool) enqueue(u punit, ctx context.Context) error {
	n := u.len()
	p.mu.Lock()
	if err := p.waitRoomLocked(ctx, n); err != nil {
		p.mu.Unlock()
		return err
	}
	p.st.Submitted += int64(n)
	var bad []*pcall
	if u.one != nil && u.one.err != nil {
		bad, u.one = append(bad, u.one), nil
	} else if u.many != nil {
		ok := u.many[:0:0]
		for _, pc := range u.many {
			if pc.err != nil {
				bad = append(bad, pc)
			} else {
				ok = append(ok, pc)
			}
		}
		u.many = ok
	}
	p.st.Failed += int64(len(bad))
	if m := u.len(); m > 0 {
		for _, pc := range u.calls() {
			pc.group = p.groupLocked(pc.t.Context())
		}
		p.queue.Push(u)
		p.queued += m
		p.st.Queued += int64(m)
		p.dispatchLocked()
	}
	p.unlockAndFlush()
	for _, pc := range bad {
		pc.t.Complete(nil, pc.err)
	}
	return nil
}

// waitRoomLocked returns why the pool refuses n more calls, after waiting
// for room in the queue with QueueSize.
func (p *ProcessPool) waitRoomLocked(ctx context.Context, n int) error {
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		if p.shutdown {
			return ErrShutdown
		}
		if p.broken != nil {
			return p.broken
		}
		if p.queueSize == 0 || p.queued == 0 || p.queued+n <= p.queueSize {
			return nil
		}
		if ctx.Err() != nil {
			return stopError("gave up waiting for room in the ProcessPool's queue", ctx, ErrCancelled)
		}
		if stop == nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, func() {
				p.mu.Lock()
				p.room.Broadcast()
				p.mu.Unlock()
			})
		}
		p.room.Wait()
	}
}

// groupLocked returns the group of calls made with ctx, or nil for a
// context that never ends.
func (p *ProcessPool) groupLocked(ctx context.Context) *pgroup {
	if ctx.Done() == nil {
		return nil
	}
	if g := p.lastGroup; g != nil && g.ctx == ctx {
		return g
	}
	g := p.groups[ctx]
	if g == nil {
		p.nextGroup++
		g = &pgroup{id: p.nextGroup, ctx: ctx}
		p.groups[ctx] = g
		g.stop = context.AfterFunc(ctx, func() { p.cancelGroup(g) })
	}
	p.lastGroup = g
	return g
}

// cancelGroup tells every worker to cancel the context of g's calls.
func (p *ProcessPool) cancelGroup(g *pgroup) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.groups, g.ctx)
	if p.lastGroup == g {
		p.lastGroup = nil
	}
	for _, w := range p.procs {
		if w.ready && !w.closing && !w.dead {
			w.cancels = append(w.cancels, g.id)
			w.signal()
		}
	}
}

func (w *proc) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// dispatchLocked hands queued calls to workers with room, starts workers
// for what is left, and lets idle workers go once nothing more will come.
func (p *ProcessPool) dispatchLocked() {
	for p.queue.Len()+p.retry.Len() > 0 {
		var best *proc
		open := 0
		for _, w := range p.procs {
			if w.ready && !w.closing && !w.dead && p.roomLocked(w) > 0 {
				open++
				if best == nil || w.inflight.Len() < best.inflight.Len() {
					best = w
				}
			}
		}
		if best == nil {
			break
		}
		// The least busy worker gets its share of what is queued, so that
		// one worker does not take everything while another idles.
		p.feedLocked(best, (p.queued+p.retry.Len()+open-1)/open)
	}
	if p.broken == nil && p.forced == nil {
		for p.queue.Len()+p.retry.Len() > p.starting && len(p.procs) < p.maxWorkers {
			p.spawnLocked()
		}
	}
	if p.queue.Len()+p.retry.Len() == 0 && (p.shutdown || p.broken != nil) {
		for _, w := range p.procs {
			if w.ready && w.inflight.Len() == 0 && !w.closing {
				w.closing = true
				w.signal()
			}
		}
	}
}

// roomLocked returns how many more calls w may take now.
func (p *ProcessPool) roomLocked(w *proc) int {
	room := max(w.window, 1) - w.inflight.Len()
	if p.maxTasks > 0 {
		room = min(room, p.maxTasks-w.sent)
	}
	return room
}

// feedLocked sends w queued calls until it has no room left or got share
// calls. A chunk goes whole, even past the window.
func (p *ProcessPool) feedLocked(w *proc, share int) {
	idle := w.inflight.Len() == 0
	if idle {
		w.busySince = time.Now()
	}
	freed := false
	for fed := 0; fed < max(share, 1) && p.roomLocked(w) > 0; {
		var u punit
		if pc, ok := p.retry.Pop(); ok {
			u.one = pc
		} else if u, ok = p.queue.Pop(); ok {
			p.queued -= u.len()
			freed = true
		} else {
			break
		}
		for _, pc := range u.calls() {
			if !pc.started {
				p.st.Queued--
				if !pc.t.Start() {
					p.st.Cancelled++
					continue
				}
				pc.started = true
				p.st.Running++
			}
			w.nextID++
			pc.id = w.nextID
			w.inflight.Push(pc)
			c := wire.Call{ID: pc.id, Func: pc.fn.name, Arg: pc.arg}
			if pc.hasArg {
				c.Flags |= wire.FlagArg
			}
			if g := pc.group; g != nil {
				c.Group = g.id
				if g.ctx.Err() != nil {
					c.Flags |= wire.FlagCancelled
				}
			}
			w.calls.Add(&c)
			w.sent++
			fed++
			if pc.fn != w.lastFn {
				// A new function: its speed is not known yet, so the
				// worker gets no more until its first result.
				w.lastFn, w.est, w.window = pc.fn, 0, 1
			}
		}
	}
	if p.maxTasks > 0 && w.sent >= p.maxTasks && !w.closing {
		w.closing = true
		p.log(slog.LevelInfo, "futures: worker process recycled after MaxTasksPerWorker calls", "pid", w.sp.PID, "calls", w.sent)
	}
	if freed && p.queueSize > 0 {
		p.room.Broadcast()
	}
	if idle {
		p.urgent = append(p.urgent, w)
	} else {
		w.signal()
	}
}

// unlockAndFlush unlocks the pool, then writes to the workers that were
// idle and just got calls, in the calling goroutine: a call to an idle
// worker waits for no goroutine to wake up.
func (p *ProcessPool) unlockAndFlush() {
	urgent := p.urgent
	p.urgent = nil
	p.mu.Unlock()
	for _, w := range urgent {
		p.flush(w)
	}
}

// spawnLocked starts a worker process in the background.
func (p *ProcessPool) spawnLocked() {
	w := &proc{wake: make(chan struct{}, 1)}
	p.procs = append(p.procs, w)
	p.starting++
	p.wg.Add(1)
	go p.run(w)
}

// run starts w's process and serves it until it exits.
func (p *ProcessPool) run(w *proc) {
	defer p.wg.Done()
	sp, err := p.spawner.Start(supervise.Config{Path: p.path, Args: p.args, Env: p.env, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		p.reap(w, supervise.Exit{}, &brokenError{
			msg:   fmt.Sprintf("futures: ProcessPool %q cannot start a worker process from %s; check the program path and the WorkerCommand option", p.name, p.path),
			cause: err})
		return
	}
	p.mu.Lock()
	w.sp = sp
	w.setup = wire.AppendSetup(nil, wire.Setup{Version: wire.Version, Codec: p.codec.Name(), Initializer: p.initName, TaskTimeout: int64(p.timeout)})
	w.abort = p.forced != nil
	p.st.WorkerStarts++
	p.mu.Unlock()
	p.log(slog.LevelInfo, "futures: worker process started", "pid", sp.PID)
	p.wg.Add(1)
	go p.writer(w)
	w.signal()

	rd := wire.NewReader(sp.Out)
	// A worker says it is ready once its Initializer has run, which may
	// take as long as it needs; without one, it must answer in startLimit.
	stopSlow := func() bool { return false }
	if p.initName == "" {
		stopSlow = time.AfterFunc(startLimit, func() {
			p.kill(w, fmt.Sprintf("it did not say it was ready within %v", startLimit))
		}).Stop
	}
	startErr := p.handshake(w, rd)
	stopSlow()
	if startErr != nil && startErr != io.EOF && !errors.Is(startErr, ErrBrokenExecutor) {
		p.kill(w, fmt.Sprintf("it sent a malformed message before it was ready: %v", startErr))
	}
	if startErr == nil {
		p.serve(w, rd)
	}
	sp.Out.Close()
	// The reply pipe closes when the worker exits; a worker that closed it
	// otherwise, or sent garbage, is killed after a grace period.
	kill := time.AfterFunc(exitGrace, func() { p.kill(w, "it closed its reply pipe without exiting") })
	exit := sp.Wait()
	kill.Stop()
	p.mu.Lock()
	reason := w.reason
	p.mu.Unlock()
	if startErr != nil && !errors.Is(startErr, ErrBrokenExecutor) {
		if exit.Signal != "" && reason == "" && p.retryStart() {
			// Killed from outside before it was ready (kill, the OOM
			// killer): start another, as for a worker killed later.
			startErr = nil
		} else {
			startErr = &brokenError{msg: fmt.Sprintf("futures: a worker process of ProcessPool %q could not start; check that the program calls futures.WorkerMain() first thing in main", p.name),
				cause: exitError(sp.PID, exit, reason)}
		}
	}
	p.reap(w, exit, startErr)
}

// kill sends SIGKILL to w's process group, once.
func (p *ProcessPool) kill(w *proc, why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.killed || w.sp == nil {
		return
	}
	w.killed = true
	w.reason = why
	p.st.WorkerKills++
	w.sp.Signal(syscall.SIGKILL)
	p.log(slog.LevelWarn, "futures: worker process killed", "pid", w.sp.PID, "reason", why)
}

// watchTimeouts kills the workers whose oldest call has run past TaskTimeout
// without the worker reporting it (a worker stopped, or stuck where its own
// timer cannot fire), until the pool has exited.
func (p *ProcessPool) watchTimeouts() {
	defer p.wg.Done()
	limit := p.timeout + timeoutGrace
	tick := time.NewTicker(max(p.timeout/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			return
		case now := <-tick.C:
			p.mu.Lock()
			var late []*proc
			for _, w := range p.procs {
				if w.sp != nil && !w.killed && w.inflight.Len() > 0 && now.Sub(w.busySince) > limit {
					late = append(late, w)
					w.inflight.Each(func(pc *pcall) {
						if w.overran == 0 {
							w.overran = pc.id
						}
					})
				}
			}
			p.mu.Unlock()
			for _, w := range late {
				p.kill(w, "a call overran TaskTimeout without the worker reporting it")
			}
		}
	}
}

// maxStartRetries is how many workers in a row may be killed before they
// are ready before the pool gives up and breaks.
const maxStartRetries = 3

// retryStart reports whether another worker may be started after one was
// killed before it was ready.
func (p *ProcessPool) retryStart() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startKills++
	return p.startKills <= maxStartRetries
}

// handshake waits for the worker to say Ready. It returns an error that
// breaks the pool if the worker does not.
func (p *ProcessPool) handshake(w *proc, rd *wire.Reader) error {
	t, body, err := rd.Read()
	switch {
	case err != nil:
		return err
	case t == wire.TReady:
		if _, err := wire.ParseReady(body); err != nil {
			return err
		}
		p.mu.Lock()
		w.ready = true
		p.starting--
		p.startKills = 0
		p.dispatchLocked()
		p.unlockAndFlush()
		return nil
	case t == wire.TInitErr:
		var cause error = errors.New("futures: the worker sent an empty report")
		err = wire.ParseResults(body, func(r *wire.Result) bool {
			cause = p.remoteErr(r, p.initName)
			return false
		})
		if err != nil {
			return err
		}
		p.log(slog.LevelError, "futures: worker initialization failed", "pid", w.sp.PID, "err", cause)
		return &brokenError{msg: fmt.Sprintf("futures: the Initializer of ProcessPool %q failed in a worker process; the pool cannot run calls", p.name), cause: cause}
	}
	return fmt.Errorf("%w: frame type %d before Ready", wire.ErrFrame, t)
}

// writer sends w what the pool queued for it whenever woken, until w's
// request pipe is closed.
func (p *ProcessPool) writer(w *proc) {
	defer p.wg.Done()
	for range w.wake {
		if !p.flush(w) {
			return
		}
	}
}

// flush writes everything queued for w in one write, and closes w's request
// pipe once nothing more will come. It returns false once the pipe is
// closed.
func (p *ProcessPool) flush(w *proc) bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.closed {
		return false
	}
	p.mu.Lock()
	buf := append(w.buf[:0], w.setup...)
	w.setup = nil
	if w.calls.Len() > 0 {
		buf = w.calls.AppendTo(buf)
	}
	if len(w.cancels) > 0 {
		buf = wire.AppendCancel(buf, w.cancels)
		w.cancels = w.cancels[:0]
	}
	if w.abort {
		buf = wire.AppendEmpty(buf, wire.TAbort)
	}
	done := w.closing || w.abort || w.dead
	p.mu.Unlock()
	w.buf = buf
	if len(buf) > 0 {
		if _, err := w.sp.In.Write(buf); err != nil {
			done = true
		}
	}
	if done {
		w.sp.In.Close()
		w.closed = true
		w.signal() // for the writer goroutine to see it
	}
	return !done
}

// serve reads w's results until it exits.
func (p *ProcessPool) serve(w *proc, rd *wire.Reader) {
	var recs []wire.Result
	var pcs []*pcall
	for {
		t, body, err := rd.Read()
		if err == nil && t != wire.TResults {
			err = fmt.Errorf("%w: frame type %d", wire.ErrFrame, t)
		}
		if err == nil {
			recs = recs[:0]
			err = wire.ParseResults(body, func(r *wire.Result) bool {
				recs = append(recs, *r)
				return true
			})
		}
		if err == nil {
			pcs, err = p.take(w, recs, pcs[:0])
		}
		if err != nil {
			if err != io.EOF {
				p.kill(w, fmt.Sprintf("it sent a malformed message: %v", err))
			}
			return
		}
		p.finish(pcs, recs)
	}
}

// take pops the calls the records answer from w's in-flight list and
// refills w. It kills w when a record says a call overran TaskTimeout.
func (p *ProcessPool) take(w *proc, recs []wire.Result, pcs []*pcall) ([]*pcall, error) {
	p.mu.Lock()
	defer p.unlockAndFlush()
	if w.abort { // Shutdown gave up and failed these calls already
		return pcs, nil
	}
	now := time.Now()
	sample := now.Sub(w.busySince) / time.Duration(len(recs))
	w.est = (w.est + sample) / 2
	if w.est == 0 {
		w.est = 1
	}
	// The window grows at most twofold per reply, so that the quick first
	// calls of a workload do not open it wide for slow later ones.
	w.window = min(max(int(min(aheadTarget/w.est, maxWindow)), 1), 2*max(w.window, 1))
	w.busySince = now
	for i := range recs {
		pc, ok := w.inflight.Pop()
		if !ok || pc.id != recs[i].ID {
			return pcs, fmt.Errorf("%w: a result for call %d, which is not the next one", wire.ErrFrame, recs[i].ID)
		}
		pcs = append(pcs, pc)
		if recs[i].Kind == wire.KindTimeout && !w.killed {
			w.closing, w.killed = true, true
			p.st.WorkerKills++
			w.sp.Signal(syscall.SIGKILL)
			p.log(slog.LevelWarn, "futures: worker process killed: a call overran TaskTimeout", "pid", w.sp.PID, "func", pc.fn.name)
		}
	}
	if !w.closing {
		p.dispatchLocked()
	}
	return pcs, nil
}

// finish completes the calls of pcs with the outcomes in recs.
func (p *ProcessPool) finish(pcs []*pcall, recs []wire.Result) {
	// Decode first and count, so that the counters are up to date by the
	// time a future is seen done.
	vals := make([]any, len(pcs))
	errs := make([]error, len(pcs))
	var ok, failed int64
	for i, pc := range pcs {
		if r := &recs[i]; r.Kind != wire.KindOK {
			errs[i] = p.remoteErr(r, pc.fn.name)
		} else {
			vals[i] = pc.t.NewResult()
			if err := decodeValue(p.codec, r.Value, vals[i]); err != nil {
				errs[i] = fmt.Errorf("futures: cannot decode the result of %s with %s: %w", shortName(pc.fn.name), p.codec.Name(), err)
				vals[i] = nil
			}
		}
		if errs[i] == nil {
			ok++
		} else {
			failed++
		}
	}
	p.mu.Lock()
	p.st.Running -= ok + failed
	p.st.Succeeded += ok
	p.st.Failed += failed
	p.mu.Unlock()
	for i, pc := range pcs {
		pc.t.Complete(vals[i], errs[i])
	}
}

// remoteErr turns a failure record from a worker into the call's error.
func (p *ProcessPool) remoteErr(r *wire.Result, fn string) error {
	switch r.Kind {
	case wire.KindError:
		return &RemoteError{Type: r.Type, Message: r.Message, Stack: r.Stack}
	case wire.KindPanic:
		return &PanicError{Value: r.Message, Stack: []byte(r.Stack)}
	case wire.KindTimeout:
		return &timeoutError{fn: shortName(fn), limit: r.Message}
	case wire.KindFail:
		if r.Type == failNotRegistered {
			return &notRegisteredError{name: r.Message, inChild: true}
		}
		return errors.New(r.Message)
	}
	return errors.New("futures: the worker reported a call as successful without a value")
}

// reap accounts for a worker that exited: the call it was running fails with
// a *WorkerExitError, the calls it had not started go back to the queue,
// and a replacement starts if calls are waiting. A worker that never became
// ready breaks the pool with startErr.
func (p *ProcessPool) reap(w *proc, exit supervise.Exit, startErr error) {
	p.mu.Lock()
	w.dead = true
	if w.sp != nil {
		w.signal()
		p.st.WorkerExits++
	}
	for i, x := range p.procs {
		if x == w {
			p.procs = append(p.procs[:i], p.procs[i+1:]...)
			break
		}
	}
	if !w.ready {
		p.starting--
	}
	var fails []*pcall
	var failErr error
	left := w.inflight.Drain()
	switch {
	case p.forced != nil:
		fails, failErr = left, p.forced
	case len(left) > 0:
		failErr = exitError(w.sp.PID, exit, w.reason)
		started := exit.Started
		for _, pc := range left {
			if pc.id > started {
				p.retry.Push(pc)
			} else {
				fails = append(fails, pc)
			}
		}
	}
	p.st.Running -= int64(len(fails))
	p.st.Failed += int64(len(fails))
	var dropped []*pcall
	if startErr != nil {
		dropped = p.breakLocked(startErr)
	}
	p.dispatchLocked()
	p.checkExitedLocked()
	broken := p.broken
	p.unlockAndFlush()

	if w.sp != nil {
		level := slog.LevelInfo
		if exit.Code != 0 || exit.Signal != "" {
			level = slog.LevelWarn
		}
		p.log(level, "futures: worker process exited", "pid", w.sp.PID, "code", exit.Code, "signal", exit.Signal)
	}
	for _, pc := range fails {
		if pc.id == w.overran {
			pc.t.Complete(nil, &timeoutError{fn: shortName(pc.fn.name), limit: p.timeout.String()})
		} else {
			pc.t.Complete(nil, failErr)
		}
	}
	for _, pc := range dropped {
		pc.t.Complete(nil, broken)
	}
}

// breakLocked marks the pool broken by cause and returns the calls it had
// queued, already counted as failed, for the caller to fail.
func (p *ProcessPool) breakLocked(cause error) []*pcall {
	if p.broken != nil {
		return nil
	}
	var ok bool
	if p.broken, ok = cause.(*brokenError); !ok {
		p.broken = &brokenError{msg: fmt.Sprintf("futures: ProcessPool %q is broken", p.name), cause: cause}
	}
	p.room.Broadcast()
	return p.drainLocked()
}

// drainLocked empties the queues and counts their calls as failed.
func (p *ProcessPool) drainLocked() []*pcall {
	var out []*pcall
	for _, pc := range p.retry.Drain() {
		p.st.Running--
		out = append(out, pc)
	}
	for _, u := range p.queue.Drain() {
		p.st.Queued -= int64(u.len())
		out = append(out, u.calls()...)
	}
	p.queued = 0
	p.st.Failed += int64(len(out))
	return out
}

func (p *ProcessPool) checkExitedLocked() {
	if p.shutdown && !p.isExited && len(p.procs) == 0 && p.queue.Len()+p.retry.Len() == 0 {
		p.isExited = true
		close(p.exited)
	}
}

// Shutdown stops the pool from accepting calls (they then fail with
// ErrShutdown), then waits until every queued and running call has finished
// and every worker process has exited and been reaped, or until ctx ends.
// Python: shutdown(wait=True, cancel_futures).
//
// With CancelPending, queued calls are cancelled first. If ctx ends first,
// Shutdown fails every queued call with an error matching ErrBrokenExecutor,
// asks the workers to cancel the context of their calls and exit, sends
// them SIGTERM, then SIGKILL, if they do not; the futures of the calls they
// were running fail likewise. It then waits for the workers to be reaped and
// returns ctx.Err(). Python 3.14: terminate_workers, kill_workers. It may be
// called any number of times.
func (p *ProcessPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if ctx == nil {
		return errors.New("futures: ProcessPool.Shutdown: the context is nil; use context.Background()")
	}
	cfg := ReadShutdownOptions(opts...)
	p.mu.Lock()
	p.shutdown = true
	var cancelled []punit
	if cfg.CancelPending {
		cancelled = p.queue.Drain()
		for _, u := range cancelled {
			p.st.Queued -= int64(u.len())
			p.st.Cancelled += int64(u.len())
		}
		p.queued = 0
	}
	p.room.Broadcast()
	p.dispatchLocked()
	p.checkExitedLocked()
	p.unlockAndFlush()
	for _, u := range cancelled {
		for _, pc := range u.calls() {
			pc.t.Cancel()
		}
	}
	var err error
	select {
	case <-p.exited:
	case <-ctx.Done():
		p.abandon(ctx)
		err = ctx.Err()
	}
	p.release()
	return err
}

// abandon stops everything because Shutdown's ctx ended, escalating from a
// request to SIGTERM to SIGKILL, and waits for the workers to be reaped.
func (p *ProcessPool) abandon(ctx context.Context) {
	cause := ctx.Err()
	p.mu.Lock()
	if p.forced == nil {
		p.forced = &brokenError{msg: "futures: Shutdown gave up waiting for the call and stopped its worker process", cause: cause}
	}
	queued := p.drainLocked()
	var running []*pcall
	for _, w := range p.procs {
		w.abort = true
		running = append(running, w.inflight.Drain()...)
		w.signal()
	}
	p.st.Running -= int64(len(running))
	p.st.Failed += int64(len(running))
	p.checkExitedLocked()
	p.mu.Unlock()
	err := &brokenError{msg: "futures: the pool was shut down before the call ran", cause: cause}
	for _, pc := range queued {
		pc.t.Complete(nil, err)
	}
	for _, pc := range running {
		pc.t.Complete(nil, p.forced)
	}
	for _, sig := range []syscall.Signal{0, syscall.SIGTERM, syscall.SIGKILL} {
		if sig != 0 {
			p.signalAll(sig)
		}
		grace := askGrace
		if sig == syscall.SIGTERM {
			grace = termGrace
		}
		t := time.NewTimer(grace)
		select {
		case <-p.exited:
			t.Stop()
			return
		case <-t.C:
		}
	}
	<-p.exited
}

// signalAll sends sig to every worker process still alive.
func (p *ProcessPool) signalAll(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.procs {
		if w.sp != nil && !w.dead {
			if !w.killed {
				w.killed = true
				p.st.WorkerKills++
			}
			w.sp.Signal(sig)
			p.log(slog.LevelWarn, "futures: worker process signalled by Shutdown", "pid", w.sp.PID, "signal", sig.String())
		}
	}
}

// release waits for the pool's goroutines once every worker is gone, and
// stops the spawning thread.
func (p *ProcessPool) release() {
	p.mu.Lock()
	stop := p.isExited && !p.stopped
	if stop {
		p.stopped = true
		for _, g := range p.groups {
			g.stop()
		}
		clear(p.groups)
		p.lastGroup = nil
	}
	p.mu.Unlock()
	if stop {
		p.wg.Wait()
		p.spawner.Stop()
	}
}

// Close shuts the pool down and waits for every queued and running call and
// for every worker process to exit: it is Shutdown(context.Background()). It
// always returns nil, and may be called any number of times. Python:
// shutdown(wait=True), or leaving a with block.
func (p *ProcessPool) Close() error { return p.Shutdown(context.Background()) }

// Stats returns a snapshot of the pool's counters.
func (p *ProcessPool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.st
	s.Workers = len(p.procs)
	return s
}

func (p *ProcessPool) log(level slog.Level, msg string, args ...any) {
	if p.logger != nil {
		p.logger.Log(context.Background(), level, msg, append([]any{"pool", p.name}, args...)...)
	}
}

// timeoutError is the error of a call that overran TaskTimeout.
type timeoutError struct {
	fn    string
	limit string
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("futures: %s ran longer than TaskTimeout(%s); its worker process was killed and replaced (raise the limit if the call needs more time)", e.fn, e.limit)
}

func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

// exitError describes how the worker with pid ended, for the calls it had;
// reason is why the pool killed it, if it did.
func exitError(pid int, exit supervise.Exit, reason string) *WorkerExitError {
	return &WorkerExitError{PID: pid, ExitCode: exit.Code, Signal: exit.Signal, Stderr: exit.Stderr, Reason: reason}
}
