package futures

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofutures/futures/internal/registry"
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
// One call and its result take tens of microseconds, and batched calls cost
// well under a microsecond each; bench/README.md has the measurements.
type ProcessPool struct {
	procConfig
	last atomic.Pointer[lastFunc] // of the Map that sent calls last

	mu sync.Mutex
	callQueue
	groupTable
	workerSet
	poolEnd
	st    counters
	wg    sync.WaitGroup // the pool's goroutines
	cb    callbackRunner // runs what completing a call runs of user code
	later func(func())   // cb.add
}

// procConfig is a ProcessPool's configuration, set by NewProcessPool and
// read without the pool's mutex.
type procConfig struct {
	name       string
	maxWorkers int
	codec      Codec
	// argCodec encodes arguments: codec, or with Gob a Stream logging
	// type definitions in types, which each worker gets before the
	// arguments that refer to them.
	argCodec  Codec
	types     *value.Types
	initName  string // registered name of the Initializer, or ""
	maxTasks  int
	timeout   time.Duration
	queueSize int
	logger    *slog.Logger
	path      string // the program a worker runs, with args and env
	args, env []string
	spawner   *supervise.Spawner
}

// callQueue is a ProcessPool's calls not handed to a worker, guarded by the
// pool's mutex. retry goes first: its calls are started already.
type callQueue struct {
	room   *sync.Cond         // signalled when queued calls leave the queue
	queue  ring.Queue[*pcall] // accepted calls not handed to a worker
	queued int                // calls in queue, against QueueSize
	retry  ring.Queue[*pcall] // started calls a dead worker never ran
	runs   []*pcall           // scratch for feedLocked
}

// groupTable is a ProcessPool's pgroups by context, guarded by the pool's
// mutex: a group lives from the first call made with its context until the
// context ends or the pool stops.
type groupTable struct {
	groups    map[context.Context]*pgroup
	lastGroup *pgroup // the group found last, which the next call likely has
	nextGroup uint64  // the id of the last group made
}

// workerSet is a ProcessPool's workers, guarded by the pool's mutex.
type workerSet struct {
	procs      []*proc // every worker alive or starting, in no order
	starting   int     // workers of procs in procStarting
	urgent     []*proc // idle workers just given calls, to write to at once
	startKills int     // workers killed in a row before they were ready
}

// poolEnd is how far a ProcessPool is in stopping, guarded by the pool's
// mutex. broken and forced, once set, stay; they are apart from stage: a
// pool breaks whether or not it is shutting down, and Shutdown gives up
// whether or not it broke.
type poolEnd struct {
	stage    poolStage
	broken   error         // why new calls are refused
	forced   error         // set when Shutdown gave up: the error of the calls still running
	exited   chan struct{} // closed as the stage becomes poolExited
	released chan struct{} // closed once teardown stopped the goroutines and the spawner
}

// poolStage is where a ProcessPool is in stopping. It only moves forward,
// one stage at a time: Shutdown moves it to poolShutdown,
// checkExitedLocked to poolExited and teardown to poolTornDown.
type poolStage uint8

const (
	poolOpen     poolStage = iota // it accepts calls
	poolShutdown                  // Shutdown was called: it refuses calls and runs those it has
	poolExited                    // no worker and no call is left
	poolTornDown                  // teardown stops the pool's goroutines, or did
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
		procConfig: procConfig{
			name:       cfg.name,
			maxWorkers: cfg.maxWorkers,
			codec:      cfg.codec,
			maxTasks:   cfg.maxTasksPerWorker,
			timeout:    cfg.taskTimeout,
			queueSize:  cfg.queueSize,
			logger:     cfg.logger,
		},
		groupTable: groupTable{groups: map[context.Context]*pgroup{}},
		poolEnd:    poolEnd{exited: make(chan struct{}), released: make(chan struct{})},
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
	p.argCodec = p.codec
	if value.Streams(p.codec) {
		p.types = value.NewTypes()
		p.argCodec = value.NewStream(p.types)
	}
	switch c := value.ByName(p.codec.Name()); {
	case c == nil:
		return nil, fmt.Errorf("futures: NewProcessPool: Encoding(%s): workers cannot find this codec; register it with futures.RegisterCodec in an init function", p.codec.Name())
	case reflect.TypeOf(c) != reflect.TypeOf(p.codec):
		return nil, fmt.Errorf("futures: NewProcessPool: Encoding(%s): another codec is registered as %q, which workers would use; give this one a Name of its own and register it with futures.RegisterCodec", p.codec.Name(), p.codec.Name())
	}
	if cfg.initializer != nil {
		rf, err := registry.Lookup(cfg.initializer)
		if err != nil {
			return nil, fmt.Errorf("futures: NewProcessPool: Initializer: %w", err)
		}
		p.initName = rf.Name()
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

// forgetsFinishedTasks makes the pool a taskForgetter: it touches no call
// once it has completed it.
func (p *ProcessPool) forgetsFinishedTasks(ex Executor) bool { return ex == Executor(p) }

// Refusal returns the error Execute would return now for a call of fn: an
// ErrNotRegistered error if fn is not registered, ErrShutdown after
// Shutdown, an ErrBrokenExecutor error once broken; nil if it would accept
// the call. It makes the pool a Refuser.
func (p *ProcessPool) Refusal(fn any) error {
	if _, err := registry.Lookup(fn); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusalLocked()
}

// refusalLocked returns why the pool refuses new calls, or nil.
func (p *ProcessPool) refusalLocked() error {
	if p.stage >= poolShutdown {
		return ErrShutdown
	}
	return p.broken
}

// Close shuts the pool down and waits for every queued and running call, for
// the OnDone callbacks the pool runs, and for every worker process to exit:
// it is Shutdown(context.Background()). It returns nil, except when called
// from such a callback (see Shutdown), and may be called any number of
// times. Python: shutdown(wait=True), or leaving a with block.
func (p *ProcessPool) Close() error { return p.Shutdown(context.Background()) }

// Stats returns a snapshot of the pool's counters; a nil pool has zero
// counts.
func (p *ProcessPool) Stats() Stats {
	if p == nil {
		return Stats{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.stats(len(p.procs))
}

func (p *ProcessPool) log(level slog.Level, msg string, args ...any) {
	if p.logger != nil {
		p.logger.Log(context.Background(), level, msg, append([]any{"pool", p.name}, args...)...)
	}
}
