// Package procpool is the machinery of package futures' ProcessPool: the
// queue of calls, the client of each worker process (dispatch and
// pipelining, the pacing estimator, frames of calls, result matching, the
// results area), reaping, the watchdog of TaskTimeout and the escalation
// ladder of a Shutdown that gives up. The ProcessPool is a thin wrapper over
// a Pool.
//
// The tasks a Pool runs are package futures' Task values, whose optional
// methods this package cannot name: a Pool reaches them through the Tasks
// its creator gives it, and through internal/remote, which encodes their
// arguments and completes them with their results for every executor of
// registered calls; it makes the errors of package futures through its
// Errors. The worker side is internal/serve; the processes are started and
// watched by internal/supervise.
package procpool

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/value"
)

// Config is what a Pool is made with. Name, MaxWorkers, Flag, Guard and
// WaitRoom are required.
type Config struct {
	Name        string
	MaxWorkers  int
	Codec       value.Codec                 // nil: Gob
	Initializer func(context.Context) error // a registered function, or nil
	MaxTasks    int                         // MaxTasksPerWorker; 0: no limit
	Timeout     time.Duration
	QueueSize   int
	Logger      *slog.Logger
	// Command is the program a worker runs, with its arguments: this
	// program when nil. Flag, followed by Name, is appended to them, and
	// Env to the environment: they make the program a worker.
	Command []string
	Flag    string
	Env     []string
	// Guard runs body, then settle with nil, or, if body panicked or
	// called runtime.Goexit, with the error that says so before the
	// goroutine goes on exiting; the Pool runs the jobs that complete its
	// calls (OnDone callbacks, the Complete of tasks from other packages)
	// under it.
	Guard func(body func(), settle func(error))
	// WaitRoom waits on room, whose lock is held, until check returns an
	// error or true, or until ctx ends, and returns check's error or the
	// error of a wait that gave up.
	WaitRoom func(ctx context.Context, room *sync.Cond, check func() (bool, error)) error
}

// Pool runs calls in a pool of worker processes, queued until a worker has
// room. T is futures.Task (see internal/remote). Its methods are safe for
// concurrent use.
type Pool[T any] struct {
	cfg[T]
	last atomic.Pointer[lastFunc] // of the Map that sent calls last

	mu sync.Mutex
	callQueue[T]
	groupTable
	workerSet[T]
	poolEnd
	st    counts.Counters
	wg    sync.WaitGroup // the pool's goroutines
	cb    callbackRunner // runs what completing a call runs of user code
	later func(func())   // cb.add
	// undecodable is countUndecodable, bound once rather than per result.
	undecodable func()
}

// cfg is a Pool's configuration, set by New and read without the pool's
// mutex.
type cfg[T any] struct {
	name       string
	maxWorkers int
	codec      value.Codec
	// argCodec encodes arguments: codec, or with Gob a Stream logging
	// type definitions in types, which each worker gets before the
	// arguments that refer to them.
	argCodec  value.Codec
	types     *value.Types
	initName  string // registered name of the Initializer, or ""
	maxTasks  int
	timeout   time.Duration
	queueSize int
	logger    *slog.Logger
	path      string // the program a worker runs, with args and env
	args, env []string
	flag      string // the argument that makes the program a worker, without its value
	spawner   *supervise.Spawner
	waitRoom  func(ctx context.Context, room *sync.Cond, check func() (bool, error)) error
	tasks     Tasks[T]
	errs      Errors
}

// callQueue is a Pool's calls not handed to a worker, guarded by the pool's
// mutex. retry goes first: its calls are started already.
type callQueue[T any] struct {
	room   *sync.Cond            // signalled when queued calls leave the queue
	queue  ring.Queue[*pcall[T]] // accepted calls not handed to a worker
	queued int                   // calls in queue, against QueueSize
	retry  ring.Queue[*pcall[T]] // started calls a dead worker never ran
	runs   []*pcall[T]           // scratch for feedLocked
}

// groupTable is a Pool's pgroups by context, guarded by the pool's mutex: a
// group lives from the first call made with its context until the context
// ends or the pool stops.
type groupTable struct {
	groups    map[context.Context]*pgroup
	lastGroup *pgroup // the group found last, which the next call likely has
	nextGroup uint64  // the id of the last group made
}

// workerSet is a Pool's workers, guarded by the pool's mutex.
type workerSet[T any] struct {
	procs      []*proc[T] // every worker alive or starting, in no order
	starting   int        // workers of procs in procStarting
	urgent     []*proc[T] // idle workers just given calls, to write to at once
	startKills int        // workers killed in a row before they were ready
}

// poolEnd is how far a Pool is in stopping, guarded by the pool's mutex.
// broken and forced, once set, stay; they are apart from stage: a pool
// breaks whether or not it is shutting down, and Wait gives up whether or
// not it broke.
type poolEnd struct {
	stage    poolStage
	broken   error         // why new calls are refused
	forced   error         // set when Wait gave up: the error of the calls still running
	exited   chan struct{} // closed as the stage becomes poolExited
	released chan struct{} // closed once teardown stopped the goroutines and the spawner
}

// poolStage is where a Pool is in stopping. It only moves forward, one
// stage at a time: Stop moves it to poolShutdown, checkExitedLocked to
// poolExited and teardown to poolTornDown.
type poolStage uint8

const (
	poolOpen     poolStage = iota // it accepts calls
	poolShutdown                  // Stop was called: it refuses calls and runs those it has
	poolExited                    // no worker and no call is left
	poolTornDown                  // teardown stops the pool's goroutines, or did
)

// New returns a Pool configured by c, whose tasks it handles with tasks and
// whose errors it makes with errs. It starts no process until the first
// call. It returns an error, and no pool, if the codec is not registered
// under its name, the Initializer is not registered, or this program
// cannot be located.
func New[T any](c Config, tasks Tasks[T], errs Errors) (*Pool[T], error) {
	p := &Pool[T]{
		cfg: cfg[T]{
			name: c.Name, maxWorkers: c.MaxWorkers, codec: c.Codec,
			maxTasks: c.MaxTasks, timeout: c.Timeout, queueSize: c.QueueSize, logger: c.Logger,
			flag: c.Flag, waitRoom: c.WaitRoom, tasks: tasks, errs: errs,
		},
		groupTable: groupTable{groups: map[context.Context]*pgroup{}},
		poolEnd:    poolEnd{exited: make(chan struct{}), released: make(chan struct{})},
	}
	p.room = sync.NewCond(&p.mu)
	p.cb.wg, p.cb.guard = &p.wg, c.Guard
	p.later, p.undecodable = p.cb.add, p.countUndecodable
	if p.codec == nil {
		p.codec = value.Gob
	}
	p.argCodec = p.codec
	if value.Streams(p.codec) {
		p.types = value.NewTypes()
		p.argCodec = value.NewStream(p.types)
	}
	switch rc := value.ByName(p.codec.Name()); {
	case rc == nil:
		return nil, fmt.Errorf("futures: NewProcessPool: Encoding(%s): workers cannot find this codec; register it with futures.RegisterCodec in an init function", p.codec.Name())
	case reflect.TypeOf(rc) != reflect.TypeOf(p.codec):
		return nil, fmt.Errorf("futures: NewProcessPool: Encoding(%s): another codec is registered as %q, which workers would use; give this one a Name of its own and register it with futures.RegisterCodec", p.codec.Name(), p.codec.Name())
	}
	if c.Initializer != nil {
		rf, err := registry.Lookup(c.Initializer)
		if err != nil {
			return nil, fmt.Errorf("futures: NewProcessPool: Initializer: %w", err)
		}
		p.initName = rf.Name()
	}
	if c.Command != nil {
		p.path = c.Command[0]
		p.args = append(p.args, c.Command...)
	} else {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("futures: NewProcessPool: cannot find this program to start workers from (%w); use the WorkerCommand option", err)
		}
		p.path = exe
		p.args = append(p.args, exe)
	}
	p.args = append(p.args, c.Flag+p.name)
	p.env = append(os.Environ(), c.Env...)
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

// Name returns the pool's name.
func (p *Pool[T]) Name() string { return p.name }

// MaxWorkers returns the most worker processes the pool runs at once.
func (p *Pool[T]) MaxWorkers() int { return p.maxWorkers }

// Refusal returns why the pool refuses new calls now: Errors.Shutdown after
// Stop, the error that broke it; nil if it accepts them.
func (p *Pool[T]) Refusal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusalLocked()
}

// refusalLocked returns why the pool refuses new calls, or nil.
func (p *Pool[T]) refusalLocked() error {
	if p.stage >= poolShutdown {
		return p.errs.Shutdown()
	}
	return p.broken
}

// Stats returns the pool's counts and the number of workers alive.
func (p *Pool[T]) Stats() (counts.Counters, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st, len(p.procs)
}

func (p *Pool[T]) log(level slog.Level, msg string, args ...any) {
	if p.logger != nil {
		p.logger.Log(context.Background(), level, msg, append([]any{"pool", p.name}, args...)...)
	}
}

// Kept returns the bytes the pool keeps to write the next calls to its
// workers.
func (p *Pool[T]) Kept() int {
	p.mu.Lock()
	procs := append([]*proc[T](nil), p.procs...)
	p.mu.Unlock()
	n := 0
	for _, w := range procs {
		w.wmu.Lock()
		n += cap(w.buf.Buf)
		w.wmu.Unlock()
	}
	return n
}

// BytesRead returns the bytes read so far from the workers alive.
func (p *Pool[T]) BytesRead() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n uint64
	for _, w := range p.procs {
		n += w.watch.got.Load()
	}
	return n
}
