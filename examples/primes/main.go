// Command primes shows the pitfall of concurrency for trivial work: it checks
// the numbers 19000 to 19999 for primality sequentially and on pools, and
// prints the times side by side with a one-line verdict. Each check takes
// well under a microsecond, less than handing it to a worker costs, so the
// pools only catch up once each call carries a chunk of numbers.
//
//	go run ./examples/primes
//	go run ./examples/primes -v   # also print every number's verdict
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/timeit"
)

// isPrime crosses into worker processes by name.
func init() { futures.Register(isPrime) }

func main() {
	futures.WorkerMain() // in a worker process of the ProcessPool: serve calls, then exit
	var cfg config
	flag.IntVar(&cfg.workers, "workers", 13, "workers in each pool")
	flag.BoolVar(&cfg.verbose, "v", false, "print whether each number is prime")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "primes:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	workers int  // pool size
	verbose bool // print every number's verdict
}

// isPrime reports whether n is prime, by trial division by the odd numbers
// up to its square root.
func isPrime(_ context.Context, n int) (bool, error) {
	if n < 2 {
		return false, nil
	}
	if n%2 == 0 {
		return n == 2, nil
	}
	root := int(math.Sqrt(float64(n)))
	for i := 3; i <= root; i += 2 {
		if n%i == 0 {
			return false, nil
		}
	}
	return true, nil
}

// numbers are the numbers checked: 19000 to 19999.
var numbers = func() []int {
	ns := make([]int, 1000)
	for i := range ns {
		ns[i] = 19000 + i
	}
	return ns
}()

// sequential checks every number in turn.
func sequential(ctx context.Context) ([]bool, error) {
	out := make([]bool, len(numbers))
	for i, n := range numbers {
		out[i], _ = isPrime(ctx, n)
	}
	return out, nil
}

// onPool returns a run that checks every number with Map on a new pool of
// the given size made by newPool, shut down at the end: the pool's start and
// stop count, as they do in Python's with-block.
func onPool[P futures.Executor](newPool func(...futures.Option) (P, error), workers int, opts ...futures.MapOption) func(context.Context) ([]bool, error) {
	return func(ctx context.Context) ([]bool, error) {
		pool, err := newPool(futures.MaxWorkers(workers))
		if err != nil {
			return nil, err
		}
		defer pool.Shutdown(ctx)
		out := make([]bool, 0, len(numbers))
		for prime, err := range futures.Map(ctx, pool, isPrime, slices.Values(numbers), opts...) {
			if err != nil {
				return nil, err
			}
			out = append(out, prime)
		}
		return out, pool.Close()
	}
}

// run times each way of checking the numbers, checks that they agree, and
// prints the times side by side and which way to use.
func run(ctx context.Context, w io.Writer, cfg config) error {
	if cfg.workers < 1 {
		return fmt.Errorf("-workers must be at least 1")
	}
	chunk := max(1, len(numbers)/(4*runtime.NumCPU())) // four chunks per CPU
	ways := []struct {
		name  string
		check func(context.Context) ([]bool, error)
	}{
		{"sequential", sequential},
		{fmt.Sprintf("ThreadPool(%d) Map", cfg.workers), onPool(futures.NewThreadPool, cfg.workers)},
		{fmt.Sprintf("ProcessPool(%d) Map", cfg.workers), onPool(futures.NewProcessPool, cfg.workers)},
		{fmt.Sprintf("ThreadPool(%d) Map Chunksize(%d)", cfg.workers, chunk),
			onPool(futures.NewThreadPool, cfg.workers, futures.Chunksize(chunk))},
		{fmt.Sprintf("ProcessPool(%d) Map Chunksize(%d)", cfg.workers, chunk),
			onPool(futures.NewProcessPool, cfg.workers, futures.Chunksize(chunk))},
	}
	fmt.Fprintf(w, "is_prime over %d..%d (%d numbers), %d CPUs\n", numbers[0], numbers[len(numbers)-1], len(numbers), runtime.NumCPU())
	times := make([]time.Duration, len(ways))
	var first []bool
	for i, way := range ways {
		var got []bool
		elapsed, err := timeit.Run(w, way.name, func() (err error) {
			got, err = way.check(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", way.name, err)
		}
		times[i] = elapsed
		if i == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			return fmt.Errorf("%s disagrees with %s on which numbers are prime", way.name, ways[0].name)
		}
	}
	if cfg.verbose {
		for i, n := range numbers {
			fmt.Fprintf(w, "%d is prime: %t\n", n, first[i])
		}
	}
	primes := 0
	for _, p := range first {
		if p {
			primes++
		}
	}
	fmt.Fprintf(w, "\nevery run found the same %d primes\n\n", primes)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\ttime (ms)\ttime / sequential time\t")
	best := 0
	for i, way := range ways {
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t\n", way.name, float64(times[i])/float64(time.Millisecond), float64(times[i])/float64(times[0]))
		if times[i] < times[best] {
			best = i
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nverdict:", verdict(ways[best].name, best == 0))
	return nil
}

// verdict says which way to use, given the fastest.
func verdict(fastest string, isSequential bool) string {
	if isSequential {
		return "use the plain loop: each check is cheaper than handing it to a worker, so no pool pays for itself here"
	}
	return fmt.Sprintf("use %s: chunks make each call worth its handoff; without them the plain loop wins", fastest)
}
