package futures

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gofutures/futures/internal/serve"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/wire"
)

// How a process learns it is a worker: the pool sets envWorker to the
// protocol version, envPool to its name, and appends workerArg and the name
// to the arguments, so that ps shows which pool a worker serves.
const (
	envWorker = "GOFUTURES_WORKER"
	envPool   = "GOFUTURES_POOL"
	workerArg = "-futures.worker="
)

// WorkerMain turns the process into a ProcessPool worker if a pool started
// it, and returns at once otherwise. Call it first thing in main, and in
// TestMain for test binaries: a worker re-executes the program, registers
// its functions through the package init functions, then runs WorkerMain,
// which serves calls and exits, never returning.
//
// A worker started by hand (with the worker argument but without the pool's
// pipes) prints what it is and exits with status 2. A worker exits by itself
// when its pool closes the pipes or its parent process dies. Python has no
// equivalent: multiprocessing guards the main module with
// `if __name__ == "__main__"`, which WorkerMain replaces.
func WorkerMain() {
	version, isWorker := os.LookupEnv(envWorker)
	byHand := !isWorker && slices.ContainsFunc(os.Args[1:], func(a string) bool { return strings.HasPrefix(a, workerArg) })
	if !isWorker && !byHand {
		return
	}
	var in, out *os.File
	var page supervise.Page
	err := errors.New("started by hand")
	if isWorker && version == strconv.Itoa(wire.Version) {
		in, out, page, err = supervise.Attach()
	} else if isWorker {
		err = fmt.Errorf("protocol version %q, want %d (the pool's program and this one are built from different versions of futures)", version, wire.Version)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "futures: this program was started as a worker process of ProcessPool %q, but %v. "+
			"Workers are started by their pool, which talks to them over pipes; run the program without %s to use it normally.\n",
			os.Getenv(envPool), err, workerArg)
		os.Exit(serve.ExitByHand)
	}
	os.Unsetenv(envWorker) // a pool created by a call is a pool of its own
	os.Exit(serve.Serve(in, out, page))
}
