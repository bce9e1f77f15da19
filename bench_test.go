package futures_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gofutures/futures"
)

// The benchmarks below each run beside a hand-written floor: benchWorkers
// goroutines reading a buffered chan func(), with a struct-and-channel
// future. The floor has no cancellation, no panic recovery and no callbacks;
// it is the least any pool with futures can cost. Compare with benchstat:
//
//	go test -run '^$' -bench . -count 6 | tee new.txt && benchstat new.txt
//
// bench/ holds the same workloads against other Go pools and Python.

const (
	benchWorkers = 4
	benchBatch   = 1000  // tasks per batch in BenchmarkSubmitResult
	benchMapLen  = 1000  // items per Map in BenchmarkMap
	benchWaitLen = 10000 // futures per call in BenchmarkAsCompleted and BenchmarkWait
)

func inc(_ context.Context, x int) (int, error) { return x + 1, nil }

// floorPool is the floor: a fixed set of goroutines on a buffered channel.
type floorPool struct {
	tasks chan func()
	wg    sync.WaitGroup
}

func newFloorPool(workers int) *floorPool {
	p := &floorPool{tasks: make(chan func(), 1024)}
	p.wg.Add(workers)
	for range workers {
		go func() {
			defer p.wg.Done()
			for fn := range p.tasks {
				fn()
			}
		}()
	}
	return p
}

func (p *floorPool) close() {
	close(p.tasks)
	p.wg.Wait()
}

// floorFuture is the least a future can be: a result and a channel closed
// once it is set.
type floorFuture struct {
	done chan struct{}
	val  int
	err  error
}

func (f *floorFuture) result() (int, error) {
	<-f.done
	return f.val, f.err
}

func (p *floorPool) submit(fn func(context.Context, int) (int, error), x int) *floorFuture {
	f := &floorFuture{done: make(chan struct{})}
	p.tasks <- func() {
		f.val, f.err = fn(context.Background(), x)
		close(f.done)
	}
	return f
}

func newBenchPool(b *testing.B) *futures.ThreadPool {
	b.Helper()
	p, err := futures.NewThreadPool(futures.MaxWorkers(benchWorkers))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func newBenchFloor(b *testing.B) *floorPool {
	b.Helper()
	p := newFloorPool(benchWorkers)
	b.Cleanup(p.close)
	return p
}

// check fails the benchmark if a result is not what inc returns.
func check(b *testing.B, x, got int, err error) {
	if err != nil || got != x+1 {
		b.Fatalf("inc(%d) = %d, %v; want %d, nil", x, got, err, x+1)
	}
}

// BenchmarkSubmitResult submits batches of benchBatch trivial calls, then
// collects their results in order. One op is one call.
func BenchmarkSubmitResult(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		p := newBenchPool(b)
		fs := make([]*futures.Future[int], benchBatch)
		b.ReportAllocs()
		for i := 0; i < b.N; i += benchBatch {
			n := min(benchBatch, b.N-i)
			for j := range n {
				fs[j] = futures.Submit(p, inc, j)
			}
			for j := range n {
				v, err := fs[j].Result(ctx)
				check(b, j, v, err)
			}
		}
	})
	b.Run("impl=floor", func(b *testing.B) {
		p := newBenchFloor(b)
		fs := make([]*floorFuture, benchBatch)
		b.ReportAllocs()
		for i := 0; i < b.N; i += benchBatch {
			n := min(benchBatch, b.N-i)
			for j := range n {
				fs[j] = p.submit(inc, j)
			}
			for j := range n {
				v, err := fs[j].result()
				check(b, j, v, err)
			}
		}
	})
}

// BenchmarkRoundTrip submits one trivial call and waits for its result. One
// op is one round trip.
func BenchmarkRoundTrip(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		p := newBenchPool(b)
		b.ReportAllocs()
		for i := range b.N {
			v, err := futures.Submit(p, inc, i).Result(ctx)
			check(b, i, v, err)
		}
	})
	b.Run("impl=floor", func(b *testing.B) {
		p := newBenchFloor(b)
		b.ReportAllocs()
		for i := range b.N {
			v, err := p.submit(inc, i).result()
			check(b, i, v, err)
		}
	})
}

// benchSubmitters is how many goroutines submit at once in
// BenchmarkSubmitters.
const benchSubmitters = 64

// BenchmarkSubmitters has benchSubmitters goroutines each submit their share
// of b.N trivial calls to one pool, then collect their results, as the
// 64-submitters workload of bench/ does. One op is one call.
func BenchmarkSubmitters(b *testing.B) {
	ctx := context.Background()
	// share runs fn in benchSubmitters goroutines, each with its share of
	// b.N calls, and waits for all of them.
	share := func(b *testing.B, fn func(n int)) {
		var wg sync.WaitGroup
		for g := range benchSubmitters {
			n := b.N / benchSubmitters
			if g < b.N%benchSubmitters {
				n++
			}
			wg.Go(func() { fn(n) })
		}
		wg.Wait()
	}
	b.Run("impl=futures", func(b *testing.B) {
		p := newBenchPool(b)
		b.ReportAllocs()
		share(b, func(n int) {
			fs := make([]*futures.Future[int], n)
			for i := range fs {
				fs[i] = futures.Submit(p, inc, i)
			}
			for i, f := range fs {
				v, err := f.Result(ctx)
				check(b, i, v, err)
			}
		})
	})
	b.Run("impl=floor", func(b *testing.B) {
		p := newBenchFloor(b)
		b.ReportAllocs()
		share(b, func(n int) {
			fs := make([]*floorFuture, n)
			for i := range fs {
				fs[i] = p.submit(inc, i)
			}
			for i, f := range fs {
				v, err := f.result()
				check(b, i, v, err)
			}
		})
	})
}

// BenchmarkMap maps a trivial function over benchMapLen items and reads every
// result. One op is the whole Map.
func BenchmarkMap(b *testing.B) {
	ctx := context.Background()
	items := func(yield func(int) bool) {
		for i := range benchMapLen {
			if !yield(i) {
				return
			}
		}
	}
	for _, tc := range []struct {
		name      string
		opts      []futures.MapOption
		unordered bool
	}{
		{"chunksize=default", nil, false},
		{"chunksize=1", []futures.MapOption{futures.Chunksize(1)}, false},
		{"chunksize=256", []futures.MapOption{futures.Chunksize(256)}, false},
		{"chunksize=1/unordered", []futures.MapOption{futures.Chunksize(1), futures.Unordered()}, true},
	} {
		b.Run("impl=futures/"+tc.name, func(b *testing.B) {
			p := newBenchPool(b)
			b.ReportAllocs()
			for range b.N {
				i := 0
				for v, err := range futures.Map(ctx, p, inc, items, tc.opts...) {
					if tc.unordered {
						check(b, v-1, v, err)
					} else {
						check(b, i, v, err)
					}
					i++
				}
				if i != benchMapLen {
					b.Fatalf("Map yielded %d results, want %d", i, benchMapLen)
				}
			}
		})
	}
	// The floor keeps as many calls in flight as Map's default buffer (four
	// per worker) and yields them in order.
	b.Run("impl=floor", func(b *testing.B) {
		p := newBenchFloor(b)
		window := make([]*floorFuture, 4*benchWorkers)
		b.ReportAllocs()
		for range b.N {
			for i := range benchMapLen + len(window) {
				slot := i % len(window)
				if i >= len(window) {
					x := i - len(window)
					v, err := window[slot].result()
					check(b, x, v, err)
				}
				if i < benchMapLen {
					window[slot] = p.submit(inc, i)
				}
			}
		}
	})
}

// finishedFutures returns n futures of p that have all finished.
func finishedFutures(b *testing.B, p *futures.ThreadPool, n int) []*futures.Future[int] {
	b.Helper()
	fs := make([]*futures.Future[int], n)
	for i := range fs {
		fs[i] = futures.Submit(p, inc, i)
	}
	for _, f := range fs {
		<-f.Done()
	}
	return fs
}

func finishedFloorFutures(p *floorPool, n int) []*floorFuture {
	fs := make([]*floorFuture, n)
	for i := range fs {
		fs[i] = p.submit(inc, i)
	}
	for _, f := range fs {
		<-f.done
	}
	return fs
}

// BenchmarkAsCompleted iterates over benchWaitLen finished futures. One op
// is the whole iteration.
func BenchmarkAsCompleted(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		fs := finishedFutures(b, newBenchPool(b), benchWaitLen)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			n := 0
			for _, err := range futures.AsCompleted(ctx, fs...) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchWaitLen {
				b.Fatalf("AsCompleted yielded %d futures, want %d", n, benchWaitLen)
			}
		}
	})
	// The floor selects on each done channel in turn: the cheapest
	// as-completed loop over futures that have all finished.
	b.Run("impl=floor", func(b *testing.B) {
		fs := finishedFloorFutures(newBenchFloor(b), benchWaitLen)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			n := 0
			for _, f := range fs {
				select {
				case <-f.done:
					if f.err != nil {
						b.Fatal(f.err)
					}
					n++
				default:
					b.Fatal("a finished future is not done")
				}
			}
			if n != benchWaitLen {
				b.Fatalf("saw %d futures, want %d", n, benchWaitLen)
			}
		}
	})
}

// BenchmarkWait waits for benchWaitLen finished futures with each condition.
// One op is one call of Wait.
func BenchmarkWait(b *testing.B) {
	ctx := context.Background()
	for _, when := range []futures.Condition{futures.AllCompleted, futures.FirstCompleted, futures.FirstError} {
		b.Run(fmt.Sprintf("impl=futures/when=%v", when), func(b *testing.B) {
			fs := finishedFutures(b, newBenchPool(b), benchWaitLen)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				done, notDone := futures.Wait(ctx, fs, when)
				if len(done) != benchWaitLen || len(notDone) != 0 {
					b.Fatalf("Wait: %d done, %d not done; want %d, 0", len(done), len(notDone), benchWaitLen)
				}
			}
		})
	}
	// The floor receives from every done channel and partitions the futures
	// into done and not done, as Wait(AllCompleted) returns them.
	b.Run("impl=floor", func(b *testing.B) {
		fs := finishedFloorFutures(newBenchFloor(b), benchWaitLen)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			var done []*floorFuture
			for _, f := range fs {
				<-f.done
				done = append(done, f)
			}
			if len(done) != benchWaitLen {
				b.Fatalf("%d done, want %d", len(done), benchWaitLen)
			}
		}
	})
}
