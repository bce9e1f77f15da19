package main

import (
	"context"
	"sync"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/gofutures/futures"
)

// fn is the shape of every call a workload submits.
type fn = func(context.Context, int) (int, error)

// handle is what a submission gives back: a way to wait for the result.
type handle interface {
	Wait() (int, error)
}

// runner is one implementation under test, sized for a workload.
type runner interface {
	// fire schedules f and returns at once, or when the implementation
	// makes room for it; nothing waits for f through the runner.
	fire(f func())
	// submit schedules f(x) and returns a handle on its result.
	submit(f fn, x int) handle
	// close stops the runner and waits for its goroutines.
	close()
}

// impl names an implementation and makes runners of it.
type impl struct {
	name string
	// parks tells whether submit blocks while every worker is busy, so that
	// a pending call costs a parked goroutine (a submitter) rather than a
	// queue slot.
	parks bool
	// process tells that calls run in worker processes: only registered
	// functions, so no fire-and-forget closures.
	process bool
	// new makes a runner with at most workers calls running at once. queue
	// is the most calls the workload will have pending; only the floor uses
	// it, to size its channel.
	new func(workers, queue int) runner
}

// impls lists every implementation, futures first.
var impls = []impl{
	{name: "futures", new: newFutures},
	{name: "futures-proc", process: true, new: newFuturesProc},
	{name: "floor", new: newFloor},
	{name: "ants", parks: true, new: newAnts},
	{name: "pond", new: newPond},
	{name: "conc", parks: true, new: newConc},
	{name: "errgroup", parks: true, new: newErrgroup},
	{name: "goroutines", new: newGoroutines},
}

func implByName(name string) (impl, bool) {
	for _, im := range impls {
		if im.name == name {
			return im, true
		}
	}
	return impl{}, false
}

// boltFuture is the minimal future bolted onto pools that have none: a
// result and a channel closed once it is set, as their users would write.
type boltFuture struct {
	done chan struct{}
	val  int
	err  error
}

func (f *boltFuture) Wait() (int, error) {
	<-f.done
	return f.val, f.err
}

// bolt returns a future for f(x) and the closure that completes it.
func bolt(f fn, x int) (*boltFuture, func()) {
	bf := &boltFuture{done: make(chan struct{})}
	return bf, func() {
		bf.val, bf.err = f(context.Background(), x)
		close(bf.done)
	}
}

// executorRunner is a runner backed by a futures.Executor, which Map
// drives directly.
type executorRunner interface {
	runner
	executor() futures.Executor
}

// futuresRunner is the library under test: a ThreadPool with MaxWorkers.
type futuresRunner struct{ p *futures.ThreadPool }

func newFutures(workers, _ int) runner {
	p, err := futures.NewThreadPool(futures.MaxWorkers(workers))
	if err != nil {
		panic(err)
	}
	return futuresRunner{p}
}

// futureHandle adapts a Future to handle; being one pointer wide, it
// converts to an interface without allocating.
type futureHandle struct{ f *futures.Future[int] }

func (h futureHandle) Wait() (int, error) { return h.f.Result(context.Background()) }

func (r futuresRunner) fire(f func()) {
	futures.Go(r.p, func(context.Context) (struct{}, error) {
		f()
		return struct{}{}, nil
	})
}

func (r futuresRunner) submit(f fn, x int) handle  { return futureHandle{futures.Submit(r.p, f, x)} }
func (r futuresRunner) close()                     { r.p.Close() }
func (r futuresRunner) executor() futures.Executor { return r.p }

// procRunner is the library's ProcessPool: workers are copies of this
// program, so every function it runs is registered in init.
type procRunner struct{ p *futures.ProcessPool }

// newFuturesProc returns a ProcessPool with every worker started: workers
// concurrent naps make it start them all, so that the workloads measure
// calls, not process start-up (the Python pools are warmed likewise).
func newFuturesProc(workers, _ int) runner {
	p, err := futures.NewProcessPool(futures.MaxWorkers(workers))
	if err != nil {
		panic(err)
	}
	r := procRunner{p}
	hs := make([]handle, workers)
	for i := range hs {
		hs[i] = r.submit(nap, i)
	}
	for i, h := range hs {
		check(h, i)
	}
	return r
}

func (r procRunner) fire(func()) { panic("a ProcessPool runs registered functions, not closures") }

func (r procRunner) submit(f fn, x int) handle  { return futureHandle{futures.Submit(r.p, f, x)} }
func (r procRunner) close()                     { r.p.Close() }
func (r procRunner) executor() futures.Executor { return r.p }

// floorRunner is the hand-written floor: workers goroutines reading a
// buffered chan func() (1024 slots, or room for every pending call).
type floorRunner struct {
	tasks chan func()
	wg    sync.WaitGroup
}

func newFloor(workers, queue int) runner {
	r := &floorRunner{tasks: make(chan func(), max(1024, queue))}
	r.wg.Add(workers)
	for range workers {
		go func() {
			defer r.wg.Done()
			for f := range r.tasks {
				f()
			}
		}()
	}
	return r
}

func (r *floorRunner) fire(f func()) { r.tasks <- f }

func (r *floorRunner) submit(f fn, x int) handle {
	bf, run := bolt(f, x)
	r.tasks <- run
	return bf
}

func (r *floorRunner) close() {
	close(r.tasks)
	r.wg.Wait()
}

type antsRunner struct{ p *ants.Pool }

func newAnts(workers, _ int) runner {
	p, err := ants.NewPool(workers)
	if err != nil {
		panic(err)
	}
	return antsRunner{p}
}

func (r antsRunner) fire(f func()) {
	if err := r.p.Submit(f); err != nil {
		panic(err)
	}
}

func (r antsRunner) submit(f fn, x int) handle {
	bf, run := bolt(f, x)
	r.fire(run)
	return bf
}

func (r antsRunner) close() { r.p.Release() }

// pondRunner uses a pond Pool for fire and its ResultPool, which has
// futures of its own, for submit.
type pondRunner struct {
	p  pond.Pool
	rp pond.ResultPool[int]
}

func newPond(workers, _ int) runner {
	return pondRunner{pond.NewPool(workers), pond.NewResultPool[int](workers)}
}

func (r pondRunner) fire(f func()) {
	if err := r.p.Go(f); err != nil {
		panic(err)
	}
}

func (r pondRunner) submit(f fn, x int) handle {
	return r.rp.SubmitErr(func() (int, error) { return f(context.Background(), x) })
}

func (r pondRunner) close() {
	r.p.StopAndWait()
	r.rp.StopAndWait()
}

type concRunner struct{ p *pool.Pool }

func newConc(workers, _ int) runner { return concRunner{pool.New().WithMaxGoroutines(workers)} }

func (r concRunner) fire(f func()) { r.p.Go(f) }

func (r concRunner) submit(f fn, x int) handle {
	bf, run := bolt(f, x)
	r.p.Go(run)
	return bf
}

func (r concRunner) close() { r.p.Wait() }

type errgroupRunner struct{ g *errgroup.Group }

func newErrgroup(workers, _ int) runner {
	g := new(errgroup.Group)
	g.SetLimit(workers)
	return errgroupRunner{g}
}

func (r errgroupRunner) fire(f func()) {
	r.g.Go(func() error {
		f()
		return nil
	})
}

func (r errgroupRunner) submit(f fn, x int) handle {
	bf, run := bolt(f, x)
	r.fire(run)
	return bf
}

func (r errgroupRunner) close() {
	if err := r.g.Wait(); err != nil {
		panic(err)
	}
}

// goroutinesRunner starts a goroutine per call with the go statement; a
// channel semaphore inside each goroutine holds concurrency to the same
// number of workers as the pools, and a WaitGroup tracks them.
type goroutinesRunner struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

func newGoroutines(workers, _ int) runner {
	return &goroutinesRunner{sem: make(chan struct{}, workers)}
}

func (r *goroutinesRunner) fire(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.sem <- struct{}{}
		f()
		<-r.sem
	}()
}

func (r *goroutinesRunner) submit(f fn, x int) handle {
	bf, run := bolt(f, x)
	r.fire(run)
	return bf
}

func (r *goroutinesRunner) close() { r.wg.Wait() }
