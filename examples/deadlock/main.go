// Command deadlock runs the two deadlocks of the concurrent.futures
// walk-through on a ThreadPool. In Python both hang forever; here the call
// that would wait forever gets an error matching futures.ErrDeadlock at once,
// because it waits through Future.Result with the context its pool gave it.
//
//	go run ./examples/deadlock
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/timeit"
)

func main() {
	timeout := flag.Duration("timeout", 10*time.Second, "give up on a deadlock that goes undetected after this long")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deadlock:", err)
		os.Exit(1)
	}
}

// run shows each deadlock, then the nested call on a pool with a free
// worker, which is not one. It fails only if ctx ends.
func run(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "Two calls that wait on each other, on a ThreadPool of 2:")
	_, err := timeit.Run(w, "wait_on_a + wait_on_b", func() error {
		a, b, err := waitOnEachOther(ctx)
		fmt.Fprintln(w, "  result from wait_on_b:", outcome(a))
		fmt.Fprintln(w, "  result from wait_on_a:", outcome(b))
		return err
	})
	if err != nil {
		return err
	}
	for _, workers := range []int{1, 2} {
		fmt.Fprintf(w, "\nA call that waits on a call it submitted, on a ThreadPool of %d:\n", workers)
		_, err := timeit.Run(w, "wait_on_future", func() error {
			r, err := waitOnNested(ctx, workers)
			fmt.Fprintln(w, "  result from wait_on_future:", outcome(r))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// result is what a call returned.
type result struct {
	v   int
	err error
}

func outcome(r result) string {
	if r.err != nil {
		return "error: " + r.err.Error()
	}
	return fmt.Sprint(r.v)
}

// waitOnEachOther submits waitOnB and waitOnA to a pool of two workers, each
// given the other's future. It returns what each call returned, and an
// error only if ctx ended before they did.
func waitOnEachOther(ctx context.Context) (a, b result, err error) {
	pool, err := futures.NewThreadPool(futures.MaxWorkers(2))
	if err != nil {
		return a, b, err
	}
	toA, toB := make(chan *futures.Future[int], 1), make(chan *futures.Future[int], 1)
	fa := futures.Submit(pool, waitOnB, toA)
	fb := futures.Submit(pool, waitOnA, toB)
	toA <- fb
	toB <- fa
	a, b = collect(ctx, fa), collect(ctx, fb)
	return a, b, pool.Shutdown(ctx)
}

// waitOnB returns 5 once the future it receives, b, has finished; b is
// waitOnA, waiting on this call.
func waitOnB(ctx context.Context, b <-chan *futures.Future[int]) (int, error) {
	if _, err := (<-b).Result(ctx); err != nil {
		return 0, fmt.Errorf("wait_on_b: %w", err)
	}
	return 5, nil
}

// waitOnA returns 6 once the future it receives, a, has finished; a is
// waitOnB, waiting on this call.
func waitOnA(ctx context.Context, a <-chan *futures.Future[int]) (int, error) {
	if _, err := (<-a).Result(ctx); err != nil {
		return 0, fmt.Errorf("wait_on_a: %w", err)
	}
	return 6, nil
}

// waitOnNested runs waitOnFuture on a pool of the given size and returns
// what it returned, and an error only if ctx ended before it did.
func waitOnNested(ctx context.Context, workers int) (result, error) {
	pool, err := futures.NewThreadPool(futures.MaxWorkers(workers))
	if err != nil {
		return result{}, err
	}
	r := collect(ctx, futures.Submit(pool, waitOnFuture, futures.Executor(pool)))
	return r, pool.Shutdown(ctx)
}

// waitOnFuture submits pow(5, 2) to pool, the pool running this call, and
// returns its result. With one worker that worker is this call itself.
func waitOnFuture(ctx context.Context, pool futures.Executor) (int, error) {
	v, err := futures.Submit(pool, pow, [2]int{5, 2}).Result(ctx)
	if err != nil {
		return 0, fmt.Errorf("wait_on_future: %w", err)
	}
	return v, nil
}

// pow returns xn[0] to the power xn[1].
func pow(_ context.Context, xn [2]int) (int, error) {
	p := 1
	for range xn[1] {
		p *= xn[0]
	}
	return p, nil
}

// collect waits for f, giving up when ctx ends.
func collect(ctx context.Context, f *futures.Future[int]) result {
	v, err := f.Result(ctx)
	return result{v, err}
}
