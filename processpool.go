package futures

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/value"
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
// dies fails only the call it was running, with a *WorkerExitError: the calls
// that returned in it keep their outcomes, and the calls it had not started go
// to another worker, except one that four workers in a row died of just
// before starting it, which fails likewise. A call whose context has ended
// when its turn comes in a worker is not invoked: its future fails with an
// error matching ErrCancelled and it is counted Cancelled. Create one with
// NewProcessPool; all methods are safe for concurrent use.
//
// Measured on two cores (bench/README.md): starting a pool of two workers,
// one call and Close take about 4 ms; one call and its result, about 40 µs;
// trivial calls submitted in a batch, about 2M a second; Map, about 1.7M
// items a second with the default Chunksize and 7M with Chunksize(1000).
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
	last       atomic.Pointer[lastFunc] // of the Map that sent calls last

	mu         sync.Mutex
	room       *sync.Cond         // signalled when queued calls leave the queue
	queue      ring.Queue[*pcall] // accepted calls not handed to a worker
	queued     int                // calls in queue
	retry      ring.Queue[*pcall] // started calls a dead worker never ran; before queue
	runs       []*pcall           // scratch for feedLocked
	procs      []*proc            // every worker alive or starting
	starting   int
	groups     map[context.Context]*pgroup
	lastGroup  *pgroup
	nextGroup  uint64
	shutdown   bool
	broken     error // why new calls are refused
	forced     error // set when Shutdown gave up: the error of the calls still running
	exited     chan struct{}
	released   chan struct{} // closed once the goroutines and the spawner stopped
	isExited   bool
	stopped    bool    // the spawner is being stopped
	urgent     []*proc // idle workers just given calls, to write to at once
	startKills int     // workers killed in a row before they were ready
	st         Stats
	wg         sync.WaitGroup // the pool's goroutines
	cb         callbackRunner // runs what completing a call runs of user code
	later      func(func())   // cb.add
}

// pcall is a run of accepted calls that go to one worker together and get
// consecutive ids there: one call from Execute, or consecutive calls of a
// chunk from ExecuteBatch that have the same function and context. The
// calls of a run share one buffer of encoded arguments.
type pcall struct {
	ts      []Task
	fn      *regFunc
	ctx     context.Context // of every call of ts
	hasArg  bool
	args    []byte // the encoded arguments, back to back
	ends    []int  // with hasArg: where the argument of ts[i] ends in args
	first   int    // with hasArg: where the argument of ts[0] starts
	group   *pgroup
	id      uint64 // the id of ts[0] in the worker it was sent to
	done    int    // calls of ts that worker answered
	started bool   // every call of ts is started
	tries   uint8  // workers that died as ts[0] was the next call to start

	one    [1]Task // ts of a single call
	oneEnd [1]int  // ends of a single call
}

// arg returns the encoded argument of ts[i], or nil without arguments.
func (pc *pcall) arg(i int) []byte {
	if !pc.hasArg {
		return nil
	}
	start := pc.first
	if i > 0 {
		start = pc.ends[i-1]
	}
	return pc.args[start:pc.ends[i]:pc.ends[i]]
}

// slice returns the run of the calls ts[from:to] of pc, started.
func (pc *pcall) slice(from, to int) *pcall {
	r := &pcall{ts: pc.ts[from:to], fn: pc.fn, ctx: pc.ctx, hasArg: pc.hasArg, args: pc.args, group: pc.group, started: true}
	if from == 0 {
		r.tries = pc.tries
	}
	if pc.hasArg {
		r.ends, r.first = pc.ends[from:to], pc.first
		if from > 0 {
			r.first = pc.ends[from-1]
		}
	}
	return r
}

// failure is a call to fail with err.
type failure struct {
	t   Task
	err error
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
	garbled   bool               // it sent a malformed message: its results area is not trusted
	reason    string             // why the pool killed it, for WorkerExitError
	overran   uint64             // the call the pool killed it for, if any
	inflight  ring.Queue[*pcall] // runs sent and not all answered, oldest first
	inflightN int                // calls sent and not answered
	nextID    uint64
	sent      int // calls sent, for MaxTasksPerWorker
	calls     wire.CallsBuilder
	frame     int  // at most the bytes of the records in calls
	full      bool // calls has no room for the next call: it goes first
	cancels   []uint64
	setup     []byte
	wake      chan struct{}
	est       time.Duration // time per call of lastFn, measured; 0 until known
	window    int           // most calls in flight
	lastFn    *regFunc      // the function of the call sent last
	busySince time.Time
	// running is the call the watchdog last saw running in the worker,
	// since runningSince; 0 if none.
	running      uint64
	runningSince time.Time
	// got counts the bytes read from the worker; inRead says the reading
	// goroutine waits for them. The watchdog saw got at stuckAt, since
	// stuckSince, while the worker owed results.
	got        atomic.Uint64
	inRead     atomic.Bool
	stuckAt    uint64
	stuckSince time.Time

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

// maxReusedFrame is the largest buffer the pool keeps to read the next frame
// of results into.
const maxReusedFrame = 1 << 20

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
// worker that did not call WorkerMain. On systems without worker processes
// (Windows; Linux, macOS and the BSDs have them) it returns an error matching
// errors.ErrUnsupported. Python:
// ProcessPoolExecutor(max_workers, initializer, max_tasks_per_child).
func NewProcessPool(opts ...Option) (*ProcessPool, error) {
	cfg, err := readOptions("ProcessPool", true, opts)
	if err != nil {
		return nil, err
	}
	if err := supervise.Available(); err != nil {
		return nil, fmt.Errorf("futures: NewProcessPool: %w", err)
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
		released:   make(chan struct{}),
	}
	p.room = sync.NewCond(&p.mu)
	p.cb.wg = &p.wg
	p.later = p.cb.add
	if p.maxWorkers == 0 {
		p.maxWorkers = runtime.NumCPU()
	}
	if p.codec == nil {
		p.codec = Gob
	}
	if value.ByName(p.codec.Name()) == nil {
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

// refusal returns the error Execute returns for a call of fn now, or nil.
func (p *ProcessPool) refusal(fn any) error {
	if _, err := lookupFunc(fn); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shutdown {
		return ErrShutdown
	}
	return p.broken
}

// Execute queues t to run in a worker process, starting a worker if none
// has room and fewer than MaxWorkers are alive. It returns an error matching
// ErrNotRegistered if t's function is not registered, ErrShutdown after
// Shutdown and an ErrBrokenExecutor error once the pool is broken. An
// argument the codec cannot encode, or too big for a message to a worker
// (about 1 GiB encoded), is accepted and fails t's future with an error
// that says so. With QueueSize it blocks while the queue is full. Most code
// calls Submit, Go or Map instead.
func (p *ProcessPool) Execute(t Task) error {
	if p == nil {
		return errNilExecutor
	}
	if t == nil {
		return errors.New("futures: ProcessPool.Execute: the Task is nil")
	}
	rf, err := p.lookup(t)
	if err != nil {
		return err
	}
	pc := &pcall{fn: rf, ctx: t.Context()}
	pc.one[0] = t
	pc.ts = pc.one[:]
	args, hasArg, err := p.encodeArg(t, rf, nil)
	if err != nil {
		return p.enqueue(pc.ctx, nil, []failure{{t, err}})
	}
	if pc.hasArg, pc.args = hasArg, args; hasArg {
		pc.oneEnd[0] = len(args)
		pc.ends = pc.oneEnd[:]
	}
	return p.enqueue(pc.ctx, []*pcall{pc}, nil)
}

// ExecuteBatch queues ts as one chunk: one worker gets all of them in one
// message, or in several if they do not fit in one, and reports each result
// as soon as it has it. It accepts or
// refuses all of them, as Execute does for one. It keeps ts: the caller must
// not change it afterwards.
func (p *ProcessPool) ExecuteBatch(ts []Task) error {
	if p == nil {
		return errNilExecutor
	}
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
	if err, done := p.executeChunk(ts); done {
		return err
	}
	// The arguments go into one buffer, and consecutive calls of the same
	// function and context into one run.
	var (
		runs []*pcall
		bad  []failure
		args []byte
		cur  *pcall
	)
	ends := make([]int, len(ts))
	for i, t := range ts {
		rf, err := p.lookup(t)
		if err != nil {
			return err
		}
		start := len(args)
		var hasArg bool
		args, hasArg, err = p.encodeArg(t, rf, args)
		ends[i] = len(args)
		if i == 0 { // make room for the others at the size of the first
			args = slices.Grow(args, (len(ts)-1)*(len(args)+len(args)/4))
		}
		if err != nil {
			bad = append(bad, failure{t, err})
			cur = nil
			continue
		}
		if ctx := t.Context(); cur == nil || cur.fn != rf || cur.hasArg != hasArg || cur.ctx != ctx {
			cur = &pcall{ts: ts[i:i], fn: rf, ctx: ctx, hasArg: hasArg, ends: ends[i:i], first: start}
			runs = append(runs, cur)
		}
		cur.ts = cur.ts[:len(cur.ts)+1]
		cur.ends = cur.ends[:len(cur.ends)+1]
	}
	for _, r := range runs {
		if r.args = args; !r.hasArg {
			r.ends = nil
		}
	}
	return p.enqueue(ts[0].Context(), runs, bad)
}

// executeChunk queues ts as one run if they are items of one Map, whose
// arguments the first encodes at once, and reports whether it did. It
// leaves ts to ExecuteBatch's general path otherwise, and when an argument
// cannot be encoded.
func (p *ProcessPool) executeChunk(ts []Task) (err error, done bool) {
	ce, ok := ts[0].(chunkEncoder)
	if !ok {
		return nil, false
	}
	rf, err := p.lookup(ts[0])
	if err != nil {
		return err, true
	}
	ends := make([]int, len(ts))
	args, ok := ce.encodeChunk(ts, p.codec, ends)
	if !ok {
		return nil, false
	}
	for i, start := 0, 0; i < len(ends); i++ {
		if ends[i]-start > maxArg(rf) {
			return nil, false // fails that item alone
		}
		start = ends[i]
	}
	pc := &pcall{ts: ts, fn: rf, ctx: ts[0].Context(), hasArg: true, args: args, ends: ends}
	return p.enqueue(pc.ctx, []*pcall{pc}, nil), true
}

// chunkEncoder is implemented by Map's items: encodeChunk encodes the
// arguments of ts back to back, recording where each ends in ends, if every
// task of ts is an item of the same Map and every argument can be encoded.
type chunkEncoder interface {
	encodeChunk(ts []Task, c Codec, ends []int) ([]byte, bool)
}

// encodeArg appends t's argument, if it has one, encoded, to buf. It
// returns buf as it was and an error saying so if the codec cannot encode
// it.
func (p *ProcessPool) encodeArg(t Task, rf *regFunc, buf []byte) (out []byte, hasArg bool, err error) {
	start := len(buf)
	if e, ok := t.(argEncoder); ok {
		hasArg = true
		out, err = e.appendArg(buf, p.codec)
	} else if a, ok := t.Arg(); ok {
		hasArg = true
		out, err = value.Append(buf, p.codec, a)
	} else {
		out = buf
	}
	if err != nil {
		return buf[:start], hasArg, fmt.Errorf("futures: cannot encode the argument of %s with %s: %w; pass a type the codec supports", shortName(rf.name), p.codec.Name(), err)
	}
	if n := len(out) - start; n > maxArg(rf) {
		return buf[:start], hasArg, fmt.Errorf("futures: the argument of %s is %d bytes encoded, more than the %d bytes a call to a worker process can carry (a message holds at most %d bytes); pass the data another way, such as a file", shortName(rf.name), n, maxArg(rf), wire.MaxFrame)
	}
	return out, hasArg, nil
}

// resultDecoder is implemented by the tasks of this package that decode a
// result themselves: completeFrom decodes data and completes the task with
// it, or returns the error decoding gave, leaving the task as it is.
type resultDecoder interface {
	completeFrom(c Codec, data []byte) error
}

// funcKeyer is implemented by tasks that share their function with others:
// tasks with the same funcKey have the same function.
type funcKeyer interface {
	funcKey() any
}

// lastFunc is the function of the tasks with funcKey key.
type lastFunc struct {
	key any
	rf  *regFunc
}

// lookup returns the registration of t's function, or an error matching
// ErrNotRegistered. The items of one Map look it up once.
func (p *ProcessPool) lookup(t Task) (*regFunc, error) {
	fk, shared := t.(funcKeyer)
	if shared {
		if last := p.last.Load(); last != nil && last.key == fk.funcKey() {
			return last.rf, nil
		}
	}
	rf, err := lookupFunc(t.Func())
	if err == nil && shared {
		p.last.Store(&lastFunc{fk.funcKey(), rf})
	}
	return rf, err
}

// argEncoder is implemented by the tasks of this package whose function
// takes an argument: it encodes the argument without boxing it.
type argEncoder interface {
	appendArg(dst []byte, c Codec) ([]byte, error)
}

// enqueue queues runs and fails the calls of bad, whose arguments could not
// be encoded, unless the pool refuses them all.
func (p *ProcessPool) enqueue(ctx context.Context, runs []*pcall, bad []failure) error {
	n := len(bad)
	for _, r := range runs {
		n += len(r.ts)
	}
	p.mu.Lock()
	if err := p.waitRoomLocked(ctx, n); err != nil {
		p.mu.Unlock()
		return err
	}
	p.st.Submitted += int64(n)
	p.st.Failed += int64(len(bad))
	for _, r := range runs {
		r.group = p.groupLocked(r.ctx)
		p.queue.Push(r)
		p.admitLocked(r)
	}
	if len(runs) > 0 {
		p.dispatchLocked()
	}
	p.unlockAndFlush()
	for _, f := range bad {
		f.t.Complete(nil, f.err)
	}
	return nil
}

// Counting queued calls. A call is Queued, and takes room in the queue
// (queued), from enqueue until it is taken from the queue (takeLocked), or
// until it is cancelled there: the pool owns the calls of this package it
// queues, which tell it of their cancellation (noteCancelled), so that the
// counters are exact and the room is free the moment Cancel returns.

// admitLocked counts the calls of r, just queued.
func (p *ProcessPool) admitLocked(r *pcall) {
	for _, t := range r.ts {
		if o, ok := t.(ownedTask); ok && !o.setOwner(p) {
			p.countEndedLocked(t) // cancelled or failed before it got here
			continue
		}
		p.queued++
		p.st.Queued++
	}
}

// noteCancelled counts a queued call of this package that was cancelled,
// and frees its room in the queue.
func (p *ProcessPool) noteCancelled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queued--
	p.st.Queued--
	p.st.Cancelled++
	if p.queueSize > 0 {
		p.room.Broadcast()
	}
}

// takeLocked starts t, taken from the queue, and reports whether it
// started. A call that did not start was cancelled, or failed, in the
// queue: it is counted here unless it is a call of this package, counted
// already by admitLocked or noteCancelled.
func (p *ProcessPool) takeLocked(t Task) bool {
	if t.Start() {
		p.queued--
		p.st.Queued--
		return true
	}
	if _, owned := t.(ownedTask); !owned {
		p.queued--
		p.st.Queued--
		p.countEndedLocked(t)
	}
	return false
}

// countEndedLocked counts a call that ended without running.
func (p *ProcessPool) countEndedLocked(t Task) {
	if t.State() == Cancelled {
		p.st.Cancelled++
	} else {
		p.st.Failed++
	}
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
				if best == nil || w.inflightN < best.inflightN {
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
	room := max(w.window, 1) - w.inflightN
	if w.full {
		return 0
	}
	if p.maxTasks > 0 {
		room = min(room, p.maxTasks-w.sent)
	}
	return room
}

// feedLocked sends w queued calls until it has no room left or got share
// calls. A chunk goes whole, even past the window, but never past
// MaxTasksPerWorker.
func (p *ProcessPool) feedLocked(w *proc, share int) {
	idle := w.inflight.Len() == 0
	if idle {
		w.busySince = time.Now()
	}
	freed := false
	for fed := 0; fed < max(share, 1) && p.roomLocked(w) > 0; {
		pc, ok := p.retry.Pop()
		if !ok {
			if pc, ok = p.queue.Pop(); !ok {
				break
			}
			freed = true
		}
		p.runs = p.runs[:0]
		if pc.started {
			p.runs = append(p.runs, pc)
		} else {
			p.startLocked(pc)
		}
		for i, r := range p.runs {
			if w.full { // fitLocked queued the rest again
				break
			}
			if left := p.maxTasks - w.sent; p.maxTasks > 0 && len(r.ts) > left {
				// The worker is recycled after MaxTasksPerWorker calls:
				// what does not fit waits for another worker.
				if left <= 0 {
					p.retry.Push(r)
					continue
				}
				p.retry.Push(r.slice(left, len(r.ts)))
				r = r.slice(0, left)
			}
			if r = p.fitLocked(w, r, p.runs[i+1:]); r == nil {
				break
			}
			r.id, r.done = w.nextID+1, 0
			w.nextID += uint64(len(r.ts))
			w.inflight.Push(r)
			w.inflightN += len(r.ts)
			c := wire.Call{Func: r.fn.name}
			if r.hasArg {
				c.Flags |= wire.FlagArg
			}
			if g := r.group; g != nil {
				c.Group = g.id
				if g.ctx.Err() != nil {
					c.Flags |= wire.FlagCancelled
				}
			}
			c.ID = r.id
			w.calls.AddRun(&c, len(r.ts), r.arg)
			w.sent += len(r.ts)
			fed += len(r.ts)
			if r.fn != w.lastFn {
				// A new function: its speed is not known yet, so the
				// worker gets no more until its first result.
				w.lastFn, w.est, w.window = r.fn, 0, 1
			}
		}
		clear(p.runs)
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

// startLocked starts the calls of the queued run pc and appends the runs of
// those that started to p.runs: the others were cancelled in the queue.
func (p *ProcessPool) startLocked(pc *pcall) {
	from := 0
	for i, t := range pc.ts {
		if p.takeLocked(t) {
			p.st.Running++
			continue
		}
		if i > from {
			p.runs = append(p.runs, pc.slice(from, i))
		}
		from = i + 1
	}
	switch {
	case from == 0:
		pc.started = true
		p.runs = append(p.runs, pc)
	case from < len(pc.ts):
		p.runs = append(p.runs, pc.slice(from, len(pc.ts)))
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

	rd := wire.NewReader(countingReader{sp.Out, &w.got})
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
	p.takeArea(w, exit.AreaHead, exit.Area)
	p.mu.Lock()
	reason := w.reason
	p.mu.Unlock()
	if startErr != nil && !errors.Is(startErr, ErrBrokenExecutor) {
		if exit.Signal != "" && reason == "" && p.retryStart() {
			// Killed from outside before it was ready (kill, the OOM
			// killer): start another, as for a worker killed later.
			startErr = nil
		} else {
			startErr = p.startError(sp.PID, exit, reason)
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

// watchTimeouts kills the workers whose running call has run past
// TaskTimeout without the worker reporting it (a worker stopped, or stuck
// where its own timer cannot fire), until the pool has exited. A call runs
// from the moment its worker starts it to the moment the worker records its
// outcome, as the worker's progress words show: neither the time its
// argument takes to arrive nor the time the pool takes to read its result
// counts.
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
			var late, stuck []*proc
			for _, w := range p.procs {
				if w.sp == nil || w.killed || w.dead {
					continue
				}
				started, over := w.sp.Progress()
				if pc, ok := w.inflight.Peek(); !ok || over < pc.id+uint64(pc.done) || !w.inRead.Load() {
					w.stuckSince = time.Time{}
				} else if got := w.got.Load(); w.stuckSince.IsZero() || got != w.stuckAt {
					w.stuckAt, w.stuckSince = got, now
				} else if now.Sub(w.stuckSince) > limit {
					// The worker recorded the outcome the pool waits for,
					// and its bytes stopped coming, in the middle of a
					// frame or before it.
					stuck = append(stuck, w)
				}
				switch {
				case started <= over:
					w.running = 0
				case started != w.running:
					w.running, w.runningSince = started, now
				case now.Sub(w.runningSince) > limit:
					late = append(late, w)
					if w.overran == 0 {
						w.overran = started
					}
				}
			}
			p.mu.Unlock()
			for _, w := range late {
				p.kill(w, "a call overran TaskTimeout without the worker reporting it")
			}
			for _, w := range stuck {
				p.kill(w, "it stopped sending the results of calls that had returned")
			}
		}
	}
}

// countingReader counts the bytes read from r in n.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(b []byte) (int, error) {
	k, err := c.r.Read(b)
	c.n.Add(uint64(k))
	return k, err
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
		w.frame, w.full = 0, false
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
	if cap(buf) > wire.MaxKept {
		w.buf = nil
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
	var a answers
	// Gob and JSON copy what they decode, and so does value.Decode, so the
	// buffer of a frame is reused for the next one; another codec might
	// keep the bytes it decodes.
	reuse := value.Copies(p.codec)
	var buf []byte
	for {
		w.inRead.Store(true)
		t, body, err := rd.ReadInto(buf)
		w.inRead.Store(false)
		if reuse && cap(body) <= maxReusedFrame {
			buf = body
		}
		if err == nil && t != wire.TResults {
			err = fmt.Errorf("%w: frame type %d", wire.ErrFrame, t)
		}
		if err == nil {
			err = p.take(w, body, &a)
		}
		if len(a.recs) > 0 {
			p.finish(&a)
		}
		a.reset()
		if err != nil {
			if err != io.EOF {
				p.mu.Lock()
				w.garbled = true
				p.mu.Unlock()
				p.kill(w, fmt.Sprintf("it sent a malformed message: %v", err))
			}
			return
		}
	}
}

// answers is what a frame of results answers: the calls, as spans of runs,
// and an outcome for each.
type answers struct {
	spans []span
	recs  []outcome
	errs  []error // of the outcomes that are not successes
}

// span is the calls ts[from:to] of a run, answered by consecutive records.
type span struct {
	pc       *pcall
	from, to int
}

// outcome is one result record: the encoded value of a success, a part of
// the frame, or errs[err] for a failure.
type outcome struct {
	val []byte
	err int // -1 for a success
}

func (a *answers) reset() {
	clear(a.spans)
	clear(a.recs)
	clear(a.errs)
	a.spans, a.recs, a.errs = a.spans[:0], a.recs[:0], a.errs[:0]
}

// take finds the calls that the result records of body answer in w's
// in-flight runs, drops the runs answered in full, counts the outcomes, and
// refills w. It fills a with the calls answered and their outcomes. If a
// record is malformed or answers a call that is not the next one, it stops
// there and returns an error, leaving in a the calls answered before. It
// kills w when a record says a call overran TaskTimeout.
func (p *ProcessPool) take(w *proc, body []byte, a *answers) error {
	p.mu.Lock()
	defer p.unlockAndFlush()
	if w.abort { // Shutdown gave up and failed these calls already
		return nil
	}
	var wrong *wire.Result
	cancelled := 0 // of the records, those of calls that were not invoked
	err := wire.ParseResults(body, func(r *wire.Result) bool {
		pc, ok := w.inflight.Peek()
		if !ok || r.ID != pc.id+uint64(pc.done) {
			wrong = r
			return false
		}
		if k := len(a.spans) - 1; k >= 0 && a.spans[k].pc == pc {
			a.spans[k].to++
		} else {
			a.spans = append(a.spans, span{pc, pc.done, pc.done + 1})
		}
		if pc.done++; pc.done == len(pc.ts) {
			w.inflight.Pop()
		}
		if r.Kind == wire.KindOK {
			a.recs = append(a.recs, outcome{val: r.Value, err: -1})
			return true
		}
		a.recs = append(a.recs, outcome{err: len(a.errs)})
		if r.Kind == wire.KindCancelled {
			cancelled++
			a.errs = append(a.errs, notStartedError(pc.ctx))
			return true
		}
		a.errs = append(a.errs, p.remoteErr(r, pc.fn.name))
		if r.Kind == wire.KindTimeout && !w.killed && !w.dead {
			w.closing, w.killed = true, true
			p.st.WorkerKills++
			w.sp.Signal(syscall.SIGKILL)
			p.log(slog.LevelWarn, "futures: worker process killed: a call overran TaskTimeout", "pid", w.sp.PID, "func", pc.fn.name)
		}
		return true
	})
	if err == nil && wrong != nil {
		err = fmt.Errorf("%w: a result for call %d, which is not the next one", wire.ErrFrame, wrong.ID)
	}
	if n := len(a.recs); n > 0 {
		now := time.Now()
		w.est = (w.est + now.Sub(w.busySince)/time.Duration(n)) / 2
		if w.est == 0 {
			w.est = 1
		}
		// The window grows at most twofold per reply, so that the quick
		// first calls of a workload do not open it wide for slow later
		// ones.
		w.window = min(max(int(min(aheadTarget/w.est, maxWindow)), 1), 2*max(w.window, 1))
		w.busySince = now
		w.inflightN -= n
		p.st.Running -= int64(n)
		p.st.Succeeded += int64(n - len(a.errs))
		p.st.Failed += int64(len(a.errs) - cancelled)
		p.st.Cancelled += int64(cancelled)
	}
	if err == nil && !w.closing {
		p.dispatchLocked()
	}
	return err
}

// finish completes the calls of a with their outcomes, which take counted
// already.
func (p *ProcessPool) finish(a *answers) {
	k := 0
	for _, sp := range a.spans {
		for _, t := range sp.pc.ts[sp.from:sp.to] {
			o := a.recs[k]
			k++
			switch _, ours := t.(laterCompleter); {
			case o.err >= 0:
				p.end(t, nil, a.errs[o.err])
			case ours:
				p.deliver(t, sp.pc.fn.name, o.val)
			default: // NewResult and Complete are code of the task's package
				fn, val := sp.pc.fn.name, slices.Clone(o.val)
				p.cb.add(func() { p.deliver(t, fn, val) })
			}
		}
	}
}

// deliver decodes val, the result of t's call of fn, and completes t with
// it, or with the error decoding gave.
func (p *ProcessPool) deliver(t Task, fn string, val []byte) {
	var v any
	var err error
	d, decodes := t.(resultDecoder)
	if decodes {
		err = d.completeFrom(p.codec, val)
	} else {
		v = t.NewResult()
		err = value.Decode(p.codec, val, v)
	}
	if err != nil {
		p.mu.Lock()
		p.st.Succeeded--
		p.st.Failed++
		p.mu.Unlock()
		p.end(t, nil, fmt.Errorf("futures: cannot decode the result of %s with %s: %w", shortName(fn), p.codec.Name(), err))
		return
	}
	if !decodes {
		p.end(t, v, nil)
	}
}

// end completes t with the value result points to, or with err, for a
// goroutine of the pool: the user code that runs then (OnDone callbacks, or
// the Complete of a task from another package) runs on p.cb.
func (p *ProcessPool) end(t Task, result any, err error) {
	if lc, ok := t.(laterCompleter); ok {
		lc.completeLater(result, err, p.later)
		return
	}
	p.cb.add(func() { t.Complete(result, err) })
}

// notStartedError is the error of a call that a worker did not invoke
// because ctx, its context, had ended when its turn came: it matches
// ErrCancelled and the context's error.
func notStartedError(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = context.Canceled
	}
	return &waitError{what: "the call was not started: its context ended before its turn in the worker process", sentinel: ErrCancelled, cause: cause}
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
	var fails []failure
	workers := len(p.procs)
	left := w.inflight.Drain()
	w.inflightN = 0
	var exitErr *WorkerExitError
	if len(left) > 0 && p.forced == nil {
		exitErr = exitError(w.sp.PID, exit, w.reason)
	}
	// A worker that died running no call died of the next call it was to
	// start (a message it could not read), which is sent again only
	// maxCallRetries times.
	idle := len(left) > 0 && left[0].id+uint64(left[0].done) > exit.Started
	for _, pc := range left {
		for i := pc.done; i < len(pc.ts); i++ {
			id := pc.id + uint64(i)
			switch {
			case p.forced != nil:
				fails = append(fails, failure{pc.ts[i], p.forced})
			case id > exit.Started: // never started: another worker runs it
				rest := pc.slice(i, len(pc.ts))
				if idle && id == exit.Started+1 {
					if rest.tries++; rest.tries > maxCallRetries {
						fails = append(fails, failure{pc.ts[i], gaveUpError(exitErr)})
						rest = rest.slice(1, len(rest.ts))
					}
				}
				if len(rest.ts) > 0 {
					p.retry.Push(rest)
				}
				i = len(pc.ts)
			case id == w.overran:
				fails = append(fails, failure{pc.ts[i], &timeoutError{fn: shortName(pc.fn.name), limit: p.timeout.String()}})
			default:
				fails = append(fails, failure{pc.ts[i], exitErr})
			}
		}
	}
	p.st.Running -= int64(len(fails))
	p.st.Failed += int64(len(fails))
	var dropped []Task
	if startErr != nil {
		dropped = p.breakLocked(startErr)
	}
	p.dispatchLocked()
	if exitErr != nil {
		exitErr.then = p.afterExitLocked(len(p.procs) > workers)
	}
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
	for _, f := range fails {
		p.end(f.t, nil, f.err)
	}
	for _, t := range dropped {
		p.end(t, nil, broken)
	}
}

// breakLocked marks the pool broken by cause and returns the calls it had
// queued, already counted as failed, for the caller to fail.
func (p *ProcessPool) breakLocked(cause error) []Task {
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

// drainLocked empties the queues and returns their calls, counted as
// failed, for the caller to fail. The queued ones are started first, so
// that no Cancel ends them before their failure.
func (p *ProcessPool) drainLocked() []Task {
	var out []Task
	for _, pc := range p.retry.Drain() {
		p.st.Running -= int64(len(pc.ts))
		out = append(out, pc.ts...)
	}
	for _, pc := range p.queue.Drain() {
		for _, t := range pc.ts {
			if p.takeLocked(t) {
				out = append(out, t)
			}
		}
	}
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
// called any number of times, also at once: each call that returns nil
// returns once every worker was reaped and the pool's goroutines stopped,
// and a call on a pool that stopped already returns nil even if ctx ended.
//
// Called from an OnDone callback of one of the pool's futures, which the
// pool runs and so could never wait for, Shutdown stops the pool from
// accepting calls and returns at once an error matching ErrDeadlock.
func (p *ProcessPool) Shutdown(ctx context.Context, opts ...ShutdownOption) error {
	if ctx == nil {
		return errors.New("futures: ProcessPool.Shutdown: the context is nil; use context.Background()")
	}
	cfg := ReadShutdownOptions(opts...)
	inside := p.cb.inside()
	p.mu.Lock()
	p.shutdown = true
	var cancelled []*pcall
	if cfg.CancelPending {
		cancelled = p.queue.Drain()
		for _, pc := range cancelled {
			for _, t := range pc.ts {
				if _, owned := t.(ownedTask); !owned { // else counted by noteCancelled
					p.queued--
					p.st.Queued--
					p.st.Cancelled++
				}
			}
		}
	}
	p.room.Broadcast()
	p.dispatchLocked()
	p.checkExitedLocked()
	p.unlockAndFlush()
	for _, pc := range cancelled {
		for _, t := range pc.ts {
			t.Cancel()
		}
	}
	if inside {
		return errShutdownInCallback
	}
	var err error
	select {
	case <-p.exited: // nothing left to wait for, whatever ctx says
	default:
		select {
		case <-p.exited:
		case <-ctx.Done():
			p.abandon(ctx)
			err = ctx.Err()
		}
	}
	if rerr := p.release(ctx); err == nil {
		err = rerr
	}
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
	var running []Task
	for _, w := range p.procs {
		w.abort = true
		for _, pc := range w.inflight.Drain() {
			running = append(running, pc.ts[pc.done:]...)
		}
		w.inflightN = 0
		w.signal()
	}
	p.st.Running -= int64(len(running))
	p.st.Failed += int64(len(running))
	p.checkExitedLocked()
	p.mu.Unlock()
	err := &brokenError{msg: "futures: the pool was shut down before the call ran", cause: cause}
	for _, t := range queued {
		t.Complete(nil, err)
	}
	for _, t := range running {
		t.Complete(nil, p.forced)
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
// stops the spawning thread. A call that finds another doing so waits for
// it to finish, or for ctx to end, and then returns ctx.Err().
func (p *ProcessPool) release(ctx context.Context) error {
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
		close(p.released)
		return nil
	}
	select {
	case <-p.released:
		return nil
	default:
	}
	select {
	case <-p.released:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errShutdownInCallback is returned by Shutdown called from a callback the
// pool runs, which it cannot wait for.
var errShutdownInCallback = fmt.Errorf("%w: Shutdown was called from an OnDone callback of a future of the same ProcessPool, which runs that callback and cannot wait for it; the pool stopped accepting calls and finishes the others: call Shutdown or Close outside the callback to wait", ErrDeadlock)

// Close shuts the pool down and waits for every queued and running call, for
// the OnDone callbacks the pool runs, and for every worker process to exit:
// it is Shutdown(context.Background()). It returns nil, except when called
// from such a callback (see Shutdown), and may be called any number of
// times. Python: shutdown(wait=True), or leaving a with block.
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
