package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofutures/futures"
)

// sizes are the workload sizes of one run.
type sizes struct {
	Tasks      int // fire, batch, Map and submitters
	RoundTrips int // rtt
	Pending    int // pending futures behind a blocked worker
	Hash       int // hash_all(Hash): tasks hash_one(0..Hash-1)
	Sleeps     int // sleeping batch: this many calls of napTime...
	SleepPool  int // ...on this many workers
	Reps       int // repetitions of each fast workload
	SlowReps   int // repetitions of PBKDF2, sleeping and pending
}

var (
	full = sizes{Tasks: 1_000_000, RoundTrips: 50_000, Pending: 1_000_000, Hash: 20,
		Sleeps: 10_000, SleepPool: 100, Reps: 7, SlowReps: 3}
	quick = sizes{Tasks: 10_000, RoundTrips: 2_000, Pending: 20_000, Hash: 8,
		Sleeps: 200, SleepPool: 100, Reps: 3, SlowReps: 1}
)

// workers is the pool size of the trivial workloads, as in the root
// package's benchmarks.
const workers = 4

// workload is one row of the table.
type workload struct {
	key   string // short name, shared with the Python scripts
	title string // row label
	unit  string
	slow  bool // uses SlowReps
	// process says the row runs on the process pools only.
	process bool
	// run measures one repetition on im; it returns the figure in unit.
	run func(im impl, s sizes) float64
}

var workloads = []workload{
	{key: "fire", title: "fire-and-forget", unit: "ns/task", run: runFire},
	{key: "batch", title: "submit all, then collect", unit: "ns/task", run: runBatch},
	{key: "rtt", title: "round trip", unit: "ns/op", run: runRTT},
	{key: "map", title: "Map, ordered", unit: "ns/item", run: runMap(false)},
	{key: "map_unordered", title: "Map, unordered", unit: "ns/item", run: runMap(true)},
	{key: "submitters", title: "64 submitters", unit: "ns/task", run: runSubmitters},
	{key: "map_proc", title: "Map of an int, process pools", unit: "ns/item", process: true, run: runMapValues(false, 0)},
	{key: "map_proc_c1", title: "Map of an int, Chunksize(1)", unit: "ns/item", process: true, run: runMapValues(false, 1)},
	{key: "map_proc_c1000", title: "Map of an int, Chunksize(1000)", unit: "ns/item", process: true, run: runMapValues(false, 1000)},
	{key: "map_struct", title: "Map of a struct", unit: "ns/item", process: true, run: runMapValues(true, 0)},
	{key: "map_struct_c1", title: "Map of a struct, Chunksize(1)", unit: "ns/item", process: true, run: runMapValues(true, 1)},
	{key: "map_struct_c1000", title: "Map of a struct, Chunksize(1000)", unit: "ns/item", process: true, run: runMapValues(true, 1000)},
	{key: "pending_rss", title: "pending future, RSS", unit: "B/future", slow: true},
	{key: "pending_heap", title: "pending future, heap+stack", unit: "B/future", slow: true},
	{key: "pbkdf2", title: "PBKDF2 hash_all, NumCPU workers", unit: "ms", slow: true, run: runHash},
	{key: "sleep", title: "sleeping batch on 100 workers", unit: "ms", slow: true, run: runSleep},
}

func inc(_ context.Context, x int) (int, error) { return x + 1, nil }

// The functions the workloads run in worker processes.
func init() { futures.Register(inc, hashOne, nap, block) }

// check panics if a handle's result is not inc(x): a harness that measures
// wrong results measures nothing.
func check(h handle, x int) {
	v, err := h.Wait()
	if err != nil || v != x+1 {
		panic(fmt.Sprintf("inc(%d) = %d, %v; want %d, nil", x, v, err, x+1))
	}
}

func perItem(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

// runFire schedules s.Tasks calls that only count, and waits for all.
func runFire(im impl, s sizes) float64 {
	r := im.new(workers, 0)
	defer r.close()
	var wg sync.WaitGroup
	var count atomic.Int64
	f := func() {
		count.Add(1)
		wg.Done()
	}
	wg.Add(s.Tasks)
	start := time.Now()
	for range s.Tasks {
		r.fire(f)
	}
	wg.Wait()
	d := time.Since(start)
	if count.Load() != int64(s.Tasks) {
		panic("fire: calls lost")
	}
	return perItem(d, s.Tasks)
}

// runBatch submits s.Tasks calls, then collects every result in order.
func runBatch(im impl, s sizes) float64 {
	r := im.new(workers, 0)
	defer r.close()
	hs := make([]handle, s.Tasks)
	start := time.Now()
	for i := range hs {
		hs[i] = r.submit(inc, i)
	}
	for i, h := range hs {
		check(h, i)
	}
	return perItem(time.Since(start), s.Tasks)
}

// runRTT submits one call and waits for it, s.RoundTrips times.
func runRTT(im impl, s sizes) float64 {
	r := im.new(workers, 0)
	defer r.close()
	start := time.Now()
	for i := range s.RoundTrips {
		check(r.submit(inc, i), i)
	}
	return perItem(time.Since(start), s.RoundTrips)
}

// mapWindow is how many calls a Map keeps in flight: futures.Map's default
// buffer (sixteen per worker), which the hand-written maps copy.
const mapWindow = 16 * workers

// runMap maps inc over s.Tasks items. futures uses futures.Map with its
// defaults; the others keep mapWindow calls in flight by hand, yielding in
// input order through their futures, or in completion order through a
// channel.
func runMap(unordered bool) func(im impl, s sizes) float64 {
	return func(im impl, s sizes) float64 {
		r := im.new(workers, 0)
		defer r.close()
		items := func(yield func(int) bool) {
			for i := range s.Tasks {
				if !yield(i) {
					return
				}
			}
		}
		start := time.Now()
		sum := 0
		switch er, ok := r.(executorRunner); {
		case ok:
			var opts []futures.MapOption
			if unordered {
				opts = append(opts, futures.Unordered())
			}
			for v, err := range futures.Map(context.Background(), er.executor(), inc, items, opts...) {
				if err != nil {
					panic(err)
				}
				sum += v
			}
		case unordered:
			results := make(chan int, mapWindow)
			inFlight := 0
			for x := range items {
				if inFlight == mapWindow {
					sum += <-results
					inFlight--
				}
				r.fire(func() {
					v, _ := inc(context.Background(), x)
					results <- v
				})
				inFlight++
			}
			for ; inFlight > 0; inFlight-- {
				sum += <-results
			}
		default:
			var window [mapWindow]handle
			for i := range s.Tasks + mapWindow {
				slot := i % mapWindow
				if i >= mapWindow {
					v, err := window[slot].Wait()
					if err != nil {
						panic(err)
					}
					sum += v
				}
				if i < s.Tasks {
					window[slot] = r.submit(inc, i)
				}
			}
		}
		d := time.Since(start)
		if want := s.Tasks * (s.Tasks + 1) / 2; sum != want {
			panic(fmt.Sprintf("map: sum of results %d, want %d", sum, want))
		}
		return perItem(d, s.Tasks)
	}
}

// submitters is how many goroutines submit at once in runSubmitters.
const submitters = 64

// runSubmitters has 64 goroutines each submit their share of s.Tasks calls
// to one pool, then collect their results.
func runSubmitters(im impl, s sizes) float64 {
	return submitThenCollect(im, submitters, s.Tasks)
}

// hashOne is the CPU-bound task of the walk-through: PBKDF2-SHA256 with
// 10,000 × i iterations for i in 1..n-1. Its cost grows as n².
func hashOne(_ context.Context, n int) (int, error) {
	for i := 1; i < n; i++ {
		if _, err := pbkdf2.Key(sha256.New, "password", []byte("salt"), i*10000, 32); err != nil {
			return 0, err
		}
	}
	return n + 1, nil
}

// runHash runs hash_all: hashOne(0..s.Hash-1), submitted in order on one
// worker per CPU, and returns the milliseconds it took.
func runHash(im impl, s sizes) float64 {
	r := im.new(runtime.NumCPU(), 0)
	defer r.close()
	hs := make([]handle, s.Hash)
	start := time.Now()
	for i := range hs {
		hs[i] = r.submit(hashOne, i)
	}
	for i, h := range hs {
		check(h, i)
	}
	return float64(time.Since(start).Microseconds()) / 1000
}

// runHashSequential is hash_all in a plain loop: the baseline of the
// speed-up.
func runHashSequential(s sizes) float64 {
	start := time.Now()
	for i := range s.Hash {
		if v, err := hashOne(context.Background(), i); err != nil || v != i+1 {
			panic(fmt.Sprintf("hashOne(%d) = %d, %v", i, v, err))
		}
	}
	return float64(time.Since(start).Microseconds()) / 1000
}

// napTime is how long nap sleeps.
const napTime = 10 * time.Millisecond

// nap is the I/O-like task: it sleeps napTime.
func nap(_ context.Context, x int) (int, error) {
	time.Sleep(napTime)
	return x + 1, nil
}

// block is the call that keeps the only worker busy in the pending-memory
// workload: it returns when its context is cancelled.
func block(ctx context.Context, x int) (int, error) {
	<-ctx.Done()
	return x + 1, nil
}

// runSleep submits s.Sleeps calls that sleep napTime on s.SleepPool
// workers, then collects them; it returns the milliseconds it took (the
// ideal is Sleeps/SleepPool × napTime).
func runSleep(im impl, s sizes) float64 {
	r := im.new(s.SleepPool, 0)
	defer r.close()
	hs := make([]handle, s.Sleeps)
	start := time.Now()
	for i := range hs {
		hs[i] = r.submit(nap, i)
	}
	for i, h := range hs {
		check(h, i)
	}
	return float64(time.Since(start).Microseconds()) / 1000
}
