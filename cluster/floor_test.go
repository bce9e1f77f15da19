package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The floors: what NATS itself costs for a call, without the pool. A call
// goes from the pool's in-process connection to a worker on a TCP
// connection of its own, in another goroutine or another process, and its
// reply comes back to the pool:
//
//	core       request/reply on a core subject
//	jetstream  publish to the calls stream, pull by the workers consumer,
//	           reply on the client's result subject, acknowledge
//
// Run them with
//
//	cd cluster && go test -run '^$' -bench Floor -benchtime 2s .

const (
	floorEcho    = "floor.echo" // the core subject the worker answers on
	floorClient  = "floor"      // the client id of the calls
	floorBatch   = 20000        // calls in flight at once in the batch floor
	workerEnvURL = "FUTURES_CLUSTER_FLOOR_WORKER"
)

// floorOptions configure the pool whose topology the floors use.
var floorOptions = []Option{Name("floor")}

// serveFloor is the worker of the floors: it answers core requests on
// floorEcho and the calls of the floor pool on the client's result subject,
// connected to url, until ctx ends. It calls ready once it serves both.
func serveFloor(ctx context.Context, url string, ready func()) error {
	c, err := readOptions(floorOptions)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	top := newTopology(c, int32(nc.MaxPayload()))
	res := top.resultSubject(floorClient)
	if _, err := nc.Subscribe(floorEcho, func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := js.Consumer(ctx, top.calls.Name, top.workers.Durable)
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if nc.Publish(res, m.Data()) == nil {
			m.Ack()
		}
	})
	if err != nil {
		return err
	}
	defer cc.Stop()
	if err := nc.Flush(); err != nil {
		return err
	}
	ready()
	<-ctx.Done()
	return nil
}

// floorWorkerMain runs serveFloor in a process of its own: it says "ready"
// on its standard output, and returns when its standard input closes.
func floorWorkerMain(url string) int {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := serveFloor(ctx, url, func() { fmt.Println("ready") }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startFloorWorker starts the worker of the floors in a goroutine, or in a
// process of its own if process is true, and stops it when b ends.
func startFloorWorker(b *testing.B, url string, process bool) {
	b.Helper()
	if !process {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan struct{}), make(chan error, 1)
		go func() { done <- serveFloor(ctx, url, func() { close(ready) }) }()
		b.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
		})
		select {
		case <-ready:
		case err := <-done:
			b.Fatal(err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnvURL+"="+url)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		if err := cmd.Wait(); err != nil {
			b.Errorf("the worker process: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("the worker process said %q (%v) instead of ready", line, err)
	}
}

func BenchmarkFloor(b *testing.B) {
	for _, where := range []string{"goroutine", "process"} {
		b.Run(where, func(b *testing.B) {
			l := dialTest(b, floorOptions...)
			top := topologyOf(b, l, floorOptions...)
			if _, err := top.ensure(testContext(b, 30*time.Second), l.js); err != nil {
				b.Fatal(err)
			}
			startFloorWorker(b, l.srv.clientURL(), where == "process")
			b.Run("core", func(b *testing.B) { benchCore(b, l) })
			b.Run("jetstream", func(b *testing.B) { benchJetStream(b, l, top, 1) })
			b.Run("jetstream-batch", func(b *testing.B) { benchJetStream(b, l, top, floorBatch) })
		})
	}
}

var floorPayload = []byte("0123456789abcdef")

// benchCore measures one core request/reply after another.
func benchCore(b *testing.B, l *link) {
	for b.Loop() {
		if _, err := l.nc.Request(floorEcho, floorPayload, 10*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

// benchJetStream measures rounds of n calls through the calls stream: n
// are published, then their n replies are awaited. With n = 1 an op is a
// round trip; otherwise calls/s tells the throughput.
func benchJetStream(b *testing.B, l *link, top topology, n int) {
	ctx := testContext(b, 10*time.Minute)
	js, err := jetstream.New(l.nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	sub, err := l.nc.SubscribeSync(top.resultSubject(floorClient))
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		b.Fatal(err)
	}
	call := top.callSubject(floorClient, 0)
	for b.Loop() {
		for range n {
			_, err := js.PublishAsync(call, floorPayload)
			for errors.Is(err, jetstream.ErrTooManyStalledMsgs) { // as the pool does, wait for the server
				_, err = js.PublishAsync(call, floorPayload)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		for range n {
			if _, err := sub.NextMsgWithContext(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "calls/s")
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		b.Fatal("publish acknowledgements missing")
	}
}
