// Command cluster runs the walk-through's CPU-bound hash_all on a cluster
// pool: the same registered hashall.HashOne that examples/hash runs on a
// ProcessPool, here on worker processes that take their calls from a NATS
// JetStream server, embedded in this program by default.
//
//	go run .                     # a pool with an embedded server and local workers
//	go run . -n 20 -workers 4
//
// To add a machine, keep the pool open on an address the other machine can
// reach, and start workers there with the URL the pool prints:
//
//	go run . -listen 0.0.0.0:4222 -insecure -hold 10m     # on this machine
//	go run . -serve 'nats://TOKEN@HOST:4222?name=futures'  # on the other
//
// -insecure is needed because the embedded server does not encrypt its
// connections: use it only on a network you trust, or run a NATS server with
// TLS and pass its URL with -connect.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/cluster"
	"github.com/gofutures/futures/examples/internal/hashall"
	"github.com/gofutures/futures/examples/internal/timeit"
)

func main() {
	cluster.WorkerMain() // in a worker process the pool started: serve calls, then exit
	var cfg config
	flag.IntVar(&cfg.n, "n", 16, "hash_all(n): n calls of hash_one, the k-th deriving k-1 keys")
	flag.IntVar(&cfg.workers, "workers", runtime.NumCPU(), "worker processes the pool starts on this machine")
	flag.StringVar(&cfg.listen, "listen", "", "address of the embedded server (default 127.0.0.1 and a free port)")
	flag.BoolVar(&cfg.insecure, "insecure", false, "let the embedded server listen beyond loopback without TLS")
	flag.StringVar(&cfg.connect, "connect", "", "URL of an existing NATS server to use instead of an embedded one")
	flag.DurationVar(&cfg.hold, "hold", 0, "keep the pool open this long after printing its worker URL, before hashing")
	serveURL := flag.String("serve", "", "serve the calls of the pool at this worker URL until interrupted, instead of running a pool")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *serveURL != "" {
		err = cluster.Serve(ctx, *serveURL)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
	} else {
		err = run(ctx, os.Stdout, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	n        int           // hash_all(n)
	workers  int           // local worker processes
	listen   string        // the embedded server's address; "" for the default
	insecure bool          // AllowInsecure
	connect  string        // an existing server instead of an embedded one
	hold     time.Duration // how long to wait for workers elsewhere
}

// options returns the pool's options that cfg asks for.
func (cfg config) options() []cluster.Option {
	opts := []cluster.Option{cluster.LocalWorkers(cfg.workers)}
	if cfg.connect != "" {
		return append(opts, cluster.Connect(cfg.connect))
	}
	var server []cluster.ServerOption
	if cfg.listen != "" {
		server = append(server, cluster.Listen(cfg.listen))
	}
	if cfg.insecure {
		server = append(server, cluster.AllowInsecure())
	}
	return append(opts, cluster.Embedded(server...))
}

// run computes hash_all(cfg.n) sequentially and on a cluster pool, prints
// the times, and fails if the pool's results differ from the sequential
// ones.
func run(ctx context.Context, w io.Writer, cfg config) error {
	if cfg.n < 1 || cfg.workers < 0 {
		return errors.New("-n must be at least 1 and -workers at least 0")
	}
	var want []string
	seq, err := timeit.Run(w, "sequential", func() (err error) {
		want, err = hashall.Sequential(ctx, cfg.n)
		return err
	})
	if err != nil {
		return err
	}
	var got []string
	name := fmt.Sprintf("cluster pool, %d local workers, Map", cfg.workers)
	par, err := timeit.Run(w, name, func() error {
		pool, err := cluster.NewPool(cfg.options()...)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx)
		if cfg.hold > 0 {
			fmt.Fprintf(w, "workers elsewhere: go run . -serve '%s'\n", pool.WorkerURL())
			select {
			case <-time.After(cfg.hold):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for h, err := range futures.Map(ctx, pool, hashall.HashOne, hashall.UpTo(cfg.n)) {
			if err != nil {
				return err
			}
			got = append(got, h)
		}
		return pool.Shutdown(ctx)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("the pool's results %v differ from the sequential ones %v", got, want)
	}
	fmt.Fprintf(w, "\nboth computed the same digests; the pool ran at %.2fx the sequential speed\n", float64(seq)/float64(par))
	return nil
}
