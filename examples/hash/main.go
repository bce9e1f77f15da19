// Command hash runs a CPU-bound workload, PBKDF2-SHA256 key derivation,
// sequentially, on a ProcessPool and on a ThreadPool, and prints the times.
// It is the CPU-bound example of the concurrent.futures walk-through: Python
// needs processes for it because of the GIL; Go's goroutines use every core
// as well, without starting a process.
//
//	go run ./examples/hash -n 20 -workers 4
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/hashall"
	"github.com/gofutures/futures/examples/internal/timeit"
)

func main() {
	futures.WorkerMain() // in a worker process of the ProcessPool: serve calls, then exit
	var cfg config
	flag.IntVar(&cfg.n, "n", 20, "hash_all(n): n calls of hash_one, the k-th deriving k-1 keys")
	flag.IntVar(&cfg.workers, "workers", runtime.NumCPU(), "workers in each pool")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "hash:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	n       int // hash_all(n)
	workers int // pool size
}

// onPool returns a run of hash_all(n) that maps hashall.HashOne over 0..n-1 on a
// pool made by newPool, shut down at the end: the pool's start and stop
// count, as they do in Python's with-block.
func onPool[P futures.Executor](newPool func(...futures.Option) (P, error), workers int, opts ...futures.MapOption) func(context.Context, int) ([]string, error) {
	return func(ctx context.Context, n int) ([]string, error) {
		pool, err := newPool(futures.MaxWorkers(workers))
		if err != nil {
			return nil, err
		}
		defer pool.Shutdown(ctx)
		out := make([]string, 0, n)
		for h, err := range futures.Map(ctx, pool, hashall.HashOne, hashall.UpTo(n), opts...) {
			if err != nil {
				return nil, err
			}
			out = append(out, h)
		}
		return out, pool.Close()
	}
}

// run times hash_all(cfg.n) sequentially, on a ProcessPool and on a
// ThreadPool, and fails if the pools' results differ from the sequential
// ones.
func run(ctx context.Context, w io.Writer, cfg config) error {
	if cfg.n < 1 || cfg.workers < 1 {
		return errors.New("-n and -workers must be at least 1")
	}
	ways := []struct {
		name    string
		hashAll func(context.Context, int) ([]string, error)
	}{
		{"sequential", hashall.Sequential},
		{fmt.Sprintf("ProcessPool(%d) Map Chunksize(2)", cfg.workers),
			onPool(futures.NewProcessPool, cfg.workers, futures.Chunksize(2))},
		{fmt.Sprintf("ThreadPool(%d) Map", cfg.workers), onPool(futures.NewThreadPool, cfg.workers)},
	}
	fmt.Fprintf(w, "hash_all(%d): %d calls, %d PBKDF2-SHA256 iterations, %d CPUs\n",
		cfg.n, cfg.n, hashall.Iterations(cfg.n), runtime.NumCPU())
	times := make([]time.Duration, len(ways))
	var want []string
	for i, way := range ways {
		var got []string
		elapsed, err := timeit.Run(w, way.name, func() (err error) {
			got, err = way.hashAll(ctx, cfg.n)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", way.name, err)
		}
		times[i] = elapsed
		if i == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			return fmt.Errorf("%s: the results %v differ from the sequential ones %v", way.name, got, want)
		}
	}
	fmt.Fprintln(w, "\nevery run computed the same digests")
	for i, way := range ways[1:] {
		fmt.Fprintf(w, "%s: %.2fx the sequential speed\n", way.name, float64(times[0])/float64(times[i+1]))
	}
	return nil
}
