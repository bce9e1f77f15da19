package cluster

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/serve"
	"github.com/gofutures/futures/internal/supervise"
)

// How a process learns it is a local worker of a pool: the pool sets
// envWorkerURL to the URL to serve (credentials included, so that they do
// not show in the process list), and appends workerArg and the pool's name
// to the arguments, so that ps shows which pool a worker serves.
const (
	envWorkerURL = "GOFUTURES_CLUSTER_WORKER"
	workerArg    = "-futures.cluster-worker="
)

// Exit statuses of a local worker.
const (
	exitServeFailed = 3 // Serve returned an error, written to stderr
)

// WorkerMain turns the process into a local worker of a cluster Pool if
// the pool started it, and otherwise does what futures.WorkerMain does: it
// serves a ProcessPool if one started the process, and returns at once if
// neither did. Call it first thing in main, and in TestMain for test
// binaries. A local worker serves calls with Serve, one at a time, until
// its pool stops it or dies, then exits without returning.
func WorkerMain() {
	url, isWorker := os.LookupEnv(envWorkerURL)
	if !isWorker {
		futures.WorkerMain()
		return
	}
	os.Unsetenv(envWorkerURL) // a pool the worker creates is a pool of its own
	in, out, _, err := supervise.Attach()
	if err != nil {
		fmt.Fprintf(os.Stderr, "futures/cluster: this program was started as a local worker of a cluster pool, but %v; run it without %s to use it normally.\n", err, envWorkerURL)
		os.Exit(serve.ExitByHand)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, in) // until the pool closes the pipe, or dies
		cancel()
	}()
	ready := func() { out.Write([]byte{1}) }
	if err := Serve(ctx, url, WorkerOption{name: "ready", apply: func(c *workerConfig) error {
		c.ready = ready
		return nil
	}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(exitServeFailed)
	}
	os.Exit(0)
}
