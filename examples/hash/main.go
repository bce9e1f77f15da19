// Command hash runs a CPU-bound workload, PBKDF2-SHA256 key derivation,
// sequentially and then on a ThreadPool, and prints the times. It is the
// CPU-bound example of the concurrent.futures walk-through: Python needs
// processes for it because of the GIL; Go's goroutines use every core.
//
//	go run ./examples/hash -n 20 -workers 4
package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"slices"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/timeit"
)

func main() {
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

// hashOne derives a PBKDF2-SHA256 key with i*10000 iterations for each i in
// 1..n-1, as the walk-through's hash_one(n) does, and returns a digest of
// all the keys, so that runs can be compared. It stops early, with ctx's
// error, once ctx is cancelled.
func hashOne(ctx context.Context, n int) (string, error) {
	sum := sha256.New()
	for i := 1; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		key, err := pbkdf2.Key(sha256.New, "password", []byte("salt"), i*10000, 32)
		if err != nil {
			return "", err
		}
		sum.Write(key)
	}
	return hex.EncodeToString(sum.Sum(nil)[:8]), nil
}

// iterations returns how many PBKDF2 iterations hash_all(n) runs.
func iterations(n int) int {
	total := 0
	for k := range n {
		total += 10000 * k * (k - 1) / 2
	}
	return total
}

// hashAllSequential calls hashOne(k) for k in 0..n-1, one after the other.
func hashAllSequential(ctx context.Context, n int) ([]string, error) {
	out := make([]string, 0, n)
	for k := range n {
		h, err := hashOne(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// hashAllOn maps hashOne over 0..n-1 on ex.
func hashAllOn(ctx context.Context, ex futures.Executor, n int, opts ...futures.MapOption) ([]string, error) {
	out := make([]string, 0, n)
	for h, err := range futures.Map(ctx, ex, hashOne, upTo(n), opts...) {
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// upTo yields 0, 1, ..., n-1.
func upTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for k := range n {
			if !yield(k) {
				return
			}
		}
	}
}

// run times hash_all(cfg.n) sequentially and on a ThreadPool, and fails if
// the pool's results differ from the sequential ones.
func run(ctx context.Context, w io.Writer, cfg config) error {
	if cfg.n < 1 || cfg.workers < 1 {
		return errors.New("-n and -workers must be at least 1")
	}
	fmt.Fprintf(w, "hash_all(%d): %d calls, %d PBKDF2-SHA256 iterations, %d CPUs\n",
		cfg.n, cfg.n, iterations(cfg.n), runtime.NumCPU())
	var want []string
	seq, err := timeit.Run(w, "sequential", func() (err error) {
		want, err = hashAllSequential(ctx, cfg.n)
		return err
	})
	if err != nil {
		return err
	}
	threads, err := futures.NewThreadPool(futures.MaxWorkers(cfg.workers))
	if err != nil {
		return err
	}
	defer threads.Shutdown(ctx)
	var got []string
	pooled, err := timeit.Run(w, fmt.Sprintf("ThreadPool(%d) Map", cfg.workers), func() (err error) {
		got, err = hashAllOn(ctx, threads, cfg.n)
		return err
	})
	if err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the ThreadPool's results %v differ from the sequential ones %v", got, want)
	}
	fmt.Fprintf(w, "ThreadPool: %.2fx the sequential speed; results identical\n", float64(seq)/float64(pooled))
	return threads.Close()
}
