package cluster

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/gofutures/futures/internal/goroutine"
)

// completer runs, one at a time and in order, the completions of the
// pool's futures, with the OnDone callbacks they run, in a goroutine of its
// own that exists while it has work: the goroutines of the NATS client that
// deliver results never run user code, so that a callback may block, wait
// on another future or submit to the pool without stalling the results.
type completer struct {
	mu      sync.Mutex
	jobs    []func()
	running bool
	idle    *sync.Cond    // signalled when running becomes false; made lazily
	gid     atomic.Uint64 // the goroutine that runs the jobs, or ran them last
}

// add queues job and starts the goroutine if it does not run.
func (c *completer) add(job func()) {
	c.mu.Lock()
	c.jobs = append(c.jobs, job)
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.run()
	}
}

// run runs the jobs until none is left. A job that calls runtime.Goexit or
// panics ends the goroutine; another one takes over the rest.
func (c *completer) run() {
	c.gid.Store(goroutine.ID())
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			slog.Error("futures/cluster: completing a call panicked; the pool goes on", "panic", v)
		}
		go c.run()
	}()
	for {
		c.mu.Lock()
		if len(c.jobs) == 0 {
			c.running = false
			c.jobs = nil
			if c.idle != nil {
				c.idle.Broadcast()
			}
			c.mu.Unlock()
			returned = true
			return
		}
		job := c.jobs[0]
		c.jobs[0] = nil
		c.jobs = c.jobs[1:]
		c.mu.Unlock()
		job()
	}
}

// wait returns once no job is queued or running.
func (c *completer) wait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle == nil {
		c.idle = sync.NewCond(&c.mu)
	}
	for c.running {
		c.idle.Wait()
	}
}

// inside reports whether the calling goroutine runs a job of c.
func (c *completer) inside() bool {
	g := c.gid.Load()
	return g != 0 && g == goroutine.ID()
}
