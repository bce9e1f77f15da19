//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/cluster"
)

// cube crosses into the workers by name: the program that runs the pool
// and the workers' program both register it.
func cube(_ context.Context, n int) (int, error) { return n * n * n, nil }

func init() { futures.Register(cube) }

// A pool with an embedded server and two worker processes of this program,
// which calls cluster.WorkerMain first thing in main (here, in TestMain).
func ExampleNewPool() {
	pool, err := cluster.NewPool(cluster.LocalWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	ctx := context.Background()
	sum := 0
	for v, err := range futures.Map(ctx, pool, cube, slices.Values([]int{1, 2, 3, 4}), futures.Chunksize(2)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		sum += v
	}
	fmt.Println("sum of cubes:", sum)
	// Output: sum of cubes: 100
}

// A worker on another machine serves the pool whose WorkerURL it was
// given; here it runs in the same process, and stops when its context
// ends.
func ExampleServe() {
	pool, err := cluster.NewPool(cluster.LocalWorkers(0), cluster.Name("example"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	url := pool.WorkerURL() // nats://<token>@127.0.0.1:<port>?name=example: a secret

	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cluster.Serve(ctx, url, cluster.Concurrency(2)) }()

	v, err := futures.Submit(pool, cube, 5).Result(context.Background())
	fmt.Println(v, err)
	stop()
	fmt.Println("Serve returned", <-served)
	// Output:
	// 125 <nil>
	// Serve returned <nil>
}

// The main function of a program whose pool starts local worker processes
// of itself.
func ExampleWorkerMain() {
	// First thing in main: in a process the pool started, this serves
	// calls and exits; otherwise it returns at once.
	cluster.WorkerMain()

	pool, err := cluster.NewPool(cluster.LocalWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	fmt.Println(futures.Submit(pool, cube, 2).Result(context.Background()))
	// Output: 8 <nil>
}
