package futures

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"
)

// Option configures NewThreadPool or NewProcessPool. An option that is out
// of range, or that does not apply to the executor it is given to, makes the
// constructor return an error; nothing is silently adjusted.
type Option struct {
	name        string // for error messages, such as "MaxWorkers(0)"
	processOnly bool
	apply       func(*config) error
}

// config is what the options of a pool ask for.
type config struct {
	maxWorkers        int // 0: the executor's default
	initializer       func(context.Context) error
	name              string
	queueSize         int // 0: unbounded
	maxTasksPerWorker int // 0: unlimited
	taskTimeout       time.Duration
	workerCommand     []string // path, args...; nil: os.Executable()
	codec             Codec
	logger            *slog.Logger // nil: silent
}

// readOptions applies opts for the executor named kind ("ThreadPool" or
// "ProcessPool"); process tells whether process-only options are allowed.
func readOptions(kind string, process bool, opts []Option) (config, error) {
	var c config
	for _, o := range opts {
		if o.apply == nil {
			return c, fmt.Errorf("futures: New%s: the zero Option is not an option; use MaxWorkers, Name, ...", kind)
		}
		if o.processOnly && !process {
			return c, fmt.Errorf("futures: New%s: %s applies only to a ProcessPool; remove it or use NewProcessPool", kind, o.name)
		}
		if err := o.apply(&c); err != nil {
			return c, fmt.Errorf("futures: New%s: %s: %w", kind, o.name, err)
		}
	}
	return c, nil
}

// DefaultThreadWorkers is the number of workers of a ThreadPool without the
// MaxWorkers option: min(32, runtime.NumCPU()+4), Python's formula.
func DefaultThreadWorkers() int { return min(32, runtime.NumCPU()+4) }

// MaxWorkers sets the most workers alive at once: goroutines for a
// ThreadPool, processes for a ProcessPool. Workers start lazily, one per
// submission that finds none idle, up to n; idle ones are reused first. The
// default is DefaultThreadWorkers() for a ThreadPool and runtime.NumCPU() for
// a ProcessPool. n < 1 is an error. Python: max_workers.
func MaxWorkers(n int) Option {
	return Option{name: fmt.Sprintf("MaxWorkers(%d)", n), apply: func(c *config) error {
		if n < 1 {
			return fmt.Errorf("must be at least 1")
		}
		c.maxWorkers = n
		return nil
	}}
}

// Initializer sets a function every worker runs once, before its first call.
// If it returns an error (or panics, or on a ThreadPool calls
// runtime.Goexit) the executor is broken: queued and later calls fail with
// an error matching ErrBrokenExecutor that carries it. A
// ProcessPool runs it in each worker process, so it must be registered with
// Register. A nil fn is an error. Python: initializer.
func Initializer(fn func(context.Context) error) Option {
	return Option{name: "Initializer", apply: func(c *config) error {
		if fn == nil {
			return fmt.Errorf("the function is nil")
		}
		c.initializer = fn
		return nil
	}}
}

// Name sets the name of the pool: goroutine workers carry it as the pprof
// label "futures.pool" (with "futures.worker", their index), worker processes
// in their arguments and environment. An empty name is an error. Python:
// thread_name_prefix.
func Name(prefix string) Option {
	return Option{name: fmt.Sprintf("Name(%q)", prefix), apply: func(c *config) error {
		if prefix == "" {
			return fmt.Errorf("the name is empty")
		}
		c.name = prefix
		return nil
	}}
}

// QueueSize bounds the calls queued and not yet running to n: Submit and Go
// block while the queue is full, and Map waits for room (or its context). A
// queued call that is cancelled frees its room at once.
// Calls waiting for room fail with ErrShutdown if the pool shuts down. The
// default is unbounded. n < 1 is an error.
func QueueSize(n int) Option {
	return Option{name: fmt.Sprintf("QueueSize(%d)", n), apply: func(c *config) error {
		if n < 1 {
			return fmt.Errorf("must be at least 1")
		}
		c.queueSize = n
		return nil
	}}
}

// MaxTasksPerWorker makes a ProcessPool replace a worker process after it has
// run n calls; a Map chunk is split so that no worker gets more. The default
// is unlimited. n < 1 is an error. Python: max_tasks_per_child.
func MaxTasksPerWorker(n int) Option {
	return Option{name: fmt.Sprintf("MaxTasksPerWorker(%d)", n), processOnly: true, apply: func(c *config) error {
		if n < 1 {
			return fmt.Errorf("must be at least 1")
		}
		c.maxTasksPerWorker = n
		return nil
	}}
}

// TaskTimeout is a hard limit on each call of a ProcessPool: the worker
// process running a call longer than d is killed and replaced, and the call
// fails with an error matching ErrTimeout. The limit counts from the moment
// the worker starts the call's function, once its argument is decoded:
// neither the time the argument takes to reach the worker and be decoded
// nor the time the pool takes to read results counts. A worker
// starts no other call once one overran; the calls sent to it after that one
// go to another worker. The default is no limit. d <= 0 is an error.
func TaskTimeout(d time.Duration) Option {
	return Option{name: fmt.Sprintf("TaskTimeout(%v)", d), processOnly: true, apply: func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("must be positive")
		}
		c.taskTimeout = d
		return nil
	}}
}

// WorkerCommand makes a ProcessPool start its workers as path with args
// instead of re-executing the current program. The program at path must call
// WorkerMain first thing in main and register the same functions. An empty
// path is an error.
func WorkerCommand(path string, args ...string) Option {
	return Option{name: fmt.Sprintf("WorkerCommand(%q)", path), processOnly: true, apply: func(c *config) error {
		if path == "" {
			return fmt.Errorf("the path is empty")
		}
		c.workerCommand = append([]string{path}, args...)
		return nil
	}}
}

// Encoding sets how a ProcessPool encodes arguments and results: Gob (the
// default) or JSON, or any Codec. A nil codec is an error.
func Encoding(codec Codec) Option {
	name := "Encoding(nil)"
	if codec != nil {
		name = fmt.Sprintf("Encoding(%s)", codec.Name())
	}
	return Option{name: name, processOnly: true, apply: func(c *config) error {
		if codec == nil {
			return fmt.Errorf("the codec is nil")
		}
		c.codec = codec
		return nil
	}}
}

// Logger makes the pool report worker lifecycle events to l: a worker
// started, exited (with its exit code or signal), was recycled or killed, an
// Initializer failed. Each record carries the pool's name as the attribute
// "pool". The default is silent. A nil l is an error.
func Logger(l *slog.Logger) Option {
	return Option{name: "Logger", apply: func(c *config) error {
		if l == nil {
			return fmt.Errorf("the logger is nil")
		}
		c.logger = l
		return nil
	}}
}
