// Command parent starts a ProcessPool whose workers are busy, for the tests
// of what happens to workers when their parent is killed or interrupted.
//
// Each call prints "running <pid>" from its worker; after each call the
// parent waits for a line on its stdin, so that the next call gets a worker
// of its own. With -mode=kill the
// parent then waits to be killed. With -mode=interrupt it prints "ready",
// waits for SIGINT, prints "interrupted", then waits for its calls, which
// return once the named pipe -release is closed by its last writer, prints
// "result <pid> <error>" for each and exits.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/gofutures/futures"
)

func init() { futures.Register(spin, sleep, held) }

// spin keeps its worker's CPU busy.
func spin(ctx context.Context) (int, error) {
	fmt.Printf("running %d\n", os.Getpid())
	for n := 0; ctx.Err() == nil; n++ {
		for i := range 1 << 20 {
			n ^= i
		}
	}
	return os.Getpid(), nil
}

// sleep blocks its worker in the kernel.
func sleep(context.Context) (int, error) {
	fmt.Printf("running %d\n", os.Getpid())
	time.Sleep(time.Hour)
	return os.Getpid(), nil
}

// held returns once every writer of the named pipe has closed it.
func held(_ context.Context, release string) (int, error) {
	f, err := os.Open(release)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fmt.Printf("running %d\n", os.Getpid())
	_, err = io.Copy(io.Discard, f)
	return os.Getpid(), err
}

func main() {
	futures.WorkerMain()
	mode := flag.String("mode", "kill", "kill or interrupt")
	workers := flag.Int("workers", 2, "worker processes")
	release := flag.String("release", "", "named pipe that releases the calls of -mode=interrupt")
	flag.Parse()

	interrupts := make(chan os.Signal, 1)
	signal.Notify(interrupts, os.Interrupt)
	p, err := futures.NewProcessPool(futures.MaxWorkers(*workers))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var fs []*futures.Future[int]
	next := bufio.NewScanner(os.Stdin)
	for i := range *workers {
		switch {
		case *mode == "interrupt":
			fs = append(fs, futures.Submit(p, held, *release))
		case i%2 == 0:
			fs = append(fs, futures.Go(p, spin))
		default:
			fs = append(fs, futures.Go(p, sleep))
		}
		if !next.Scan() {
			os.Exit(1)
		}
	}
	if *mode == "kill" {
		select {}
	}
	fmt.Println("ready")
	<-interrupts
	fmt.Println("interrupted")
	for _, f := range fs {
		pid, err := f.Result(context.Background())
		fmt.Printf("result %d %v\n", pid, err)
	}
	if err := p.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
