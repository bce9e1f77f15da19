//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// envDeadClient makes TestDeadClientHelper, in a process of its own, a
// client of the server at the URL it holds.
const envDeadClient = "FUTURES_CLUSTER_TEST_DEAD_CLIENT"

// The options every pool of TestDeadClient's Name agrees on.
func deadClientOptions(url string) []Option {
	return []Option{Connect(url), Name("dead"), WorkerLostAfter(300 * time.Millisecond), MaxAttempts(2)}
}

// TestDeadClientHelper is not a test: run by TestDeadClient in a process of
// its own, it publishes calls, one with a large argument, to a pool of the
// server envDeadClient names, says so on stdout and waits to be killed.
func TestDeadClientHelper(t *testing.T) {
	url := os.Getenv(envDeadClient)
	if url == "" {
		t.Skip("run by TestDeadClient only")
	}
	p, err := NewPool(deadClientOptions(url)...)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	ghostSlots(t, p, 11) // so that it publishes every call
	for i := range 10 {
		futures.Submit(p, square, i)
	}
	futures.Submit(p, checkBytes, pattern(2*mib))
	<-p.pub.PublishAsyncComplete()
	fmt.Println("published")
	select {}
}

// TestDeadClient: the calls of a client killed before any ran stay in the
// stream; the workers that take them find no pool to ask, hand them back,
// and after MaxAttempts deliveries the reaper of another pool of the Name
// deletes them and the large argument of one: nothing is left in the
// streams and the object store, and the other pool serves meanwhile.
func TestDeadClient(t *testing.T) {
	ctx := testContext(t, time.Minute)
	srv := startTestServer(t)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDeadClientHelper$")
	cmd.Env = append(os.Environ(), envDeadClient+"="+srv.clientURL())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if line != "published\n" {
		t.Fatalf("the client process said %q, want published", line)
	}

	p, err := NewPool(deadClientOptions(srv.clientURL())...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if n := streamMsgs(t, p.link, p.top.calls.Name); n != 11 {
		t.Fatalf("the killed client left %d messages in the calls stream, want 11", n)
	}
	if n := objectMsgs(t, p.link, p); n == 0 {
		t.Fatal("the killed client left no large argument in the object store")
	}
	stop, served := serveInBackground(t, ctx, p, Concurrency(4))
	if v, err := futures.Submit(p, square, 5).Result(ctx); v != 25 || err != nil {
		t.Errorf("the live pool's call: %d, %v", v, err)
	}
	waitEmptyStreams(t, ctx, p)
	waitNoObjects(t, ctx, p)
	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
