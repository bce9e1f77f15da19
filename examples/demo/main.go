// Command demo is a short tour of futures: submit calls to a ThreadPool and
// take their results as they complete, map a function over inputs in order,
// and wait for the first failure.
//
//	go run ./examples/demo
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/timeit"
)

func main() {
	unit := flag.Duration("unit", 50*time.Millisecond, "how long the task n takes is n times this")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *unit); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// perform is the task: it takes n units of time and returns n squared. A
// negative n is an error.
func perform(ctx context.Context, n int, unit time.Duration) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("perform(%d): a task cannot take negative time", n)
	}
	select {
	case <-time.After(time.Duration(n) * unit):
		return n * n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run prints the three ways of using a pool, each timed.
func run(ctx context.Context, w io.Writer, unit time.Duration) error {
	pool, err := futures.NewThreadPool(futures.MaxWorkers(4))
	if err != nil {
		return err
	}
	defer pool.Shutdown(ctx) // on an early return: if ctx has ended, stops the calls
	task := func(ctx context.Context, n int) (int, error) { return perform(ctx, n, unit) }
	tasks := []int{4, 1, 3, 2}

	fmt.Fprintln(w, "Submit each task, then take the results as they complete:")
	_, err = timeit.Run(w, "submit + AsCompleted", func() error {
		origin := make(map[*futures.Future[int]]int, len(tasks)) // future -> its task
		for _, n := range tasks {
			origin[futures.Submit(pool, task, n)] = n
		}
		for f, err := range futures.AsCompleted(ctx, slices.Collect(maps.Keys(origin))...) {
			if f == nil {
				return err // ctx ended
			}
			if err != nil {
				return err
			}
			v, _ := f.Result(ctx)
			fmt.Fprintf(w, "  the result of %d is %d\n", origin[f], v)
		}
		return nil
	})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "\nMap the task over the inputs; results come in input order:")
	_, err = timeit.Run(w, "Map", func() error {
		i := 0
		for v, err := range futures.Map(ctx, pool, task, slices.Values(tasks)) {
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  the result of %d is %d\n", tasks[i], v)
			i++
		}
		return nil
	})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "\nWait for the first error; the other tasks go on:")
	fs := []*futures.Future[int]{
		futures.Submit(pool, task, 3), futures.Submit(pool, task, -1), futures.Submit(pool, task, 2),
	}
	timeit.Run(w, "Wait(FirstError)", func() error {
		done, _ := futures.Wait(ctx, fs, futures.FirstError)
		for _, f := range done {
			if err := f.Err(); err != nil {
				fmt.Fprintln(w, "  first error:", err)
			}
		}
		return nil
	})
	for _, f := range []*futures.Future[int]{fs[0], fs[2]} {
		v, err := f.Result(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  later, another task returned %d\n", v)
	}
	return pool.Close()
}
