package cluster

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/supervise"
)

// localWorkers are the worker processes a pool starts (LocalWorkers): each
// is kept running, started again when it exits, until the pool stops.
type localWorkers struct {
	p       *Pool
	spawner *supervise.Spawner
	cmd     supervise.Config

	mu       sync.Mutex
	procs    map[*supervise.Process]struct{} // alive
	stopping bool                            // no worker is started again
	wg       sync.WaitGroup
}

// startsBeforeBroken is how many local workers in a row may exit before
// they said they serve, before the pool breaks: the program cannot serve.
const startsBeforeBroken = 3

// startLocalWorkers starts the pool's local workers, without waiting for
// them to connect.
func (p *Pool) startLocalWorkers() (*localWorkers, error) {
	if err := supervise.Available(); err != nil {
		return nil, fmt.Errorf("futures/cluster: LocalWorkers(%d): %w; use LocalWorkers(0) and Serve", p.cfg.localWorkers, err)
	}
	var path string
	var args []string
	if wc := p.cfg.workerCommand; wc != nil {
		path, args = wc[0], append([]string(nil), wc...)
	} else {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("futures/cluster: cannot find this program to start local workers from (%w); use the WorkerCommand option", err)
		}
		path, args = exe, []string{exe}
	}
	env := append(os.Environ(), envWorkerURL+"="+p.WorkerURL())
	if _, set := os.LookupEnv("GORACE"); !set {
		// A program built with -race otherwise sleeps a second at exit.
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	lw := &localWorkers{
		p:       p,
		spawner: supervise.NewSpawner(),
		cmd:     supervise.Config{Path: path, Args: append(args, workerArg+p.cfg.name), Env: env, Stdout: os.Stdout, Stderr: os.Stderr},
		procs:   map[*supervise.Process]struct{}{},
	}
	for range p.cfg.localWorkers {
		lw.wg.Add(1)
		go lw.keep()
	}
	return lw, nil
}

// keep runs one local worker after another until the pool stops.
func (lw *localWorkers) keep() {
	defer lw.wg.Done()
	failures := 0
	for {
		lw.mu.Lock()
		if lw.stopping {
			lw.mu.Unlock()
			return
		}
		proc, err := lw.spawner.Start(lw.cmd)
		if err == nil {
			lw.procs[proc] = struct{}{}
		}
		lw.mu.Unlock()
		if err != nil {
			lw.p.breakPool(fmt.Errorf("futures/cluster: starting a local worker: %w", err))
			return
		}
		lw.p.count(func(c *counters) { c.workerStarts++ })
		var b [1]byte
		n, _ := io.ReadFull(proc.Out, b[:])
		io.Copy(io.Discard, proc.Out)
		exit := proc.Wait()
		lw.p.forgetLocal(proc.PID)
		proc.In.Close()
		proc.Out.Close()
		lw.mu.Lock()
		delete(lw.procs, proc)
		stopping := lw.stopping
		lw.mu.Unlock()
		lw.p.count(func(c *counters) { c.workerExits++ })
		if stopping {
			return
		}
		if n == 1 {
			failures = 0
			continue
		}
		if failures++; failures >= startsBeforeBroken {
			lw.p.breakPool(fmt.Errorf("futures/cluster: %d local workers in a row exited before serving (the last with status %d%s): %w; does the program call cluster.WorkerMain first thing in main?",
				failures, exit.Code, stderrTail(exit.Stderr), futures.ErrBrokenExecutor))
			return
		}
		time.Sleep(time.Duration(failures) * 50 * time.Millisecond)
	}
}

// stderrTail formats the end of a worker's stderr for an error message.
func stderrTail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return ", stderr: " + s
}

// alive returns the number of local workers running.
func (lw *localWorkers) alive() int {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return len(lw.procs)
}

// pids returns the process ids of the local workers running.
func (lw *localWorkers) pids() []int {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	var ps []int
	for p := range lw.procs {
		ps = append(ps, p.PID)
	}
	return ps
}

// stop asks every local worker to stop, by closing its pipe, and waits for
// them to exit.
func (lw *localWorkers) stop() {
	lw.mu.Lock()
	lw.stopping = true
	for p := range lw.procs {
		p.In.Close()
	}
	lw.mu.Unlock()
	lw.wg.Wait()
	lw.spawner.Stop()
}

// kill kills every local worker and starts none again.
func (lw *localWorkers) kill() {
	lw.mu.Lock()
	lw.stopping = true
	var n int64
	for p := range lw.procs {
		if p.Signal(syscall.SIGKILL) == nil {
			n++
		}
	}
	lw.mu.Unlock()
	lw.p.count(func(c *counters) { c.workerKills += n })
}

// count changes the pool's counters with f.
func (p *Pool) count(f func(*counters)) {
	p.mu.Lock()
	f(&p.st)
	p.mu.Unlock()
}

// breakPool makes the pool refuse new calls with err, an error matching
// futures.ErrBrokenExecutor; the calls it has are left to other workers.
func (p *Pool) breakPool(err error) {
	if !errors.Is(err, futures.ErrBrokenExecutor) {
		err = fmt.Errorf("%w: %w", futures.ErrBrokenExecutor, err)
	}
	p.mu.Lock()
	if p.broken == nil {
		p.broken = err
	}
	p.room.Broadcast()
	p.mu.Unlock()
}
