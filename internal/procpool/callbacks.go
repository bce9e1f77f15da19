package procpool

import (
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/goroutine"
	"github.com/gofutures/futures/internal/ring"
)

// callbackRunner runs, one at a time and in order, the jobs the goroutines
// of a Pool hand it: the OnDone callbacks of the futures they
// complete, and the completion of tasks from other packages. It runs them in
// a goroutine of its own, started when a job comes and gone once none is
// left, so that the goroutines that read results never run user code: a
// callback may block, wait on another future, submit to the pool, close it
// or call runtime.Goexit without stalling the pool.
type callbackRunner struct {
	wg    *sync.WaitGroup // the pool's goroutines, which the runner counts among
	guard func(body func(), settle func(error))

	mu      sync.Mutex
	jobs    ring.Queue[func()]
	running bool          // a goroutine runs the jobs
	gid     atomic.Uint64 // the goroutine that runs them, or ran them last
}

// add queues job and starts a goroutine to run it if none runs. It must be
// called by a goroutine counted in wg, or by the runner itself.
func (c *callbackRunner) add(job func()) {
	c.mu.Lock()
	c.jobs.Push(job)
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		c.wg.Add(1)
		go c.run()
	}
}

// run runs the queued jobs until none is left, under Config.Guard. A job
// that calls runtime.Goexit ends the goroutine, and one that panics (the
// completion of a task from another package; the callbacks have guards of
// their own) is logged by the guard: either way another goroutine carries on
// with the next job.
func (c *callbackRunner) run() {
	c.gid.Store(goroutine.ID())
	c.guard(c.runJobs, c.stopped)
}

// runJobs runs the queued jobs until none is left.
func (c *callbackRunner) runJobs() {
	for {
		c.mu.Lock()
		job, ok := c.jobs.Pop()
		if !ok {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		job()
	}
}

// stopped ends the goroutine that ran the jobs, with the error of runJobs.
func (c *callbackRunner) stopped(err error) {
	if err == nil {
		c.wg.Done()
		return
	}
	go c.run() // it takes over this goroutine's count in wg
}

// InCallback reports whether the calling goroutine is running a job of the
// pool's: completing one of its calls, or an OnDone callback that runs.
func (p *Pool[T]) InCallback() bool {
	g := p.cb.gid.Load()
	return g != 0 && g == goroutine.ID()
}
