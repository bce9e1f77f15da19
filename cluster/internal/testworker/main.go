// Command testworker is a worker of a cluster pool on "another machine", for
// the cluster package's tests: it serves the pool whose URL is its only
// argument with cluster.Serve until its standard input closes, then exits
// with status 0; if Serve fails, it writes the error to standard error and
// exits with status 1.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gofutures/futures/cluster"
	_ "github.com/gofutures/futures/cluster/internal/testfn"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: testworker URL")
		os.Exit(2)
	}
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	if err := cluster.Serve(ctx, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
