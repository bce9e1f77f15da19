package cluster

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/nats-io/nats.go"
)

// TestServerRestartStoreDir: calls published to a server with file storage
// while no worker runs them survive the server's restart; once a worker
// attaches after it, every future completes with its value.
func TestServerRestartStoreDir(t *testing.T) {
	const calls = 1000
	ctx := testContext(t, 2*time.Minute)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := serverConfig{storeDir: t.TempDir(), listen: addr}
	srv, err := startServer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.token = srv.token
	// A worker that cannot reach the pool, reconnecting, hands the call
	// back for a delivery WorkerLostAfter later.
	p, err := NewPool(Connect(srv.clientURL(), nats.ReconnectWait(20*time.Millisecond), nats.MaxReconnects(-1)), Name("restart"), WorkerLostAfter(time.Second))
	if err != nil {
		srv.shutdown()
		t.Fatal(err)
	}
	ghostSlots(t, p, calls) // the pool publishes every call, as for workers that then went away
	fs := make([]*futures.Future[int], calls)
	for i := range fs {
		fs[i] = futures.Submit(p, square, i)
	}
	select {
	case <-p.pub.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("the server did not store the calls")
	}
	srv.shutdown()
	if srv, err = startServer(cfg, nil); err != nil {
		t.Fatal(err)
	}
	defer srv.shutdown()
	defer p.Close()
	if n := streamMsgs(t, dialTest(t, Connect(srv.clientURL())), p.top.calls.Name); n != calls {
		t.Errorf("after the restart the calls stream holds %d messages, want %d", n, calls)
	}
	wctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(wctx, p.WorkerURL(), Concurrency(4)) }()
	restarted := time.Now()
	for i, f := range fs {
		if i == 1 {
			t.Logf("the first call completed %v after the restart", time.Since(restarted))
		}
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Fatalf("call %d after the restart: %d, %v", i, v, err)
		}
	}
	t.Logf("%d calls completed %v after the restart", calls, time.Since(restarted))
	if st := p.Stats(); st.Succeeded != calls {
		t.Errorf("Stats %+v: want %d successes", st, calls)
	}
	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestCloseLeavesNothing: a call cancelled while it waits in the pool for
// a worker is never published, and the pool leaves nothing in the stream
// when it closes.
func TestCloseLeavesNothing(t *testing.T) {
	ctx := testContext(t, time.Minute)
	srv := startTestServer(t)
	p, err := NewPool(Connect(srv.clientURL()), Name("leaves"))
	if err != nil {
		t.Fatal(err)
	}
	f := futures.Submit(p, square, 2)
	select {
	case <-p.pub.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("the server did not store the call")
	}
	if !f.Cancel() {
		t.Fatal("Cancel of a call no worker took returned false")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	l := dialTest(t, Connect(srv.clientURL()))
	if n := streamMsgs(t, l, p.top.calls.Name); n != 0 {
		t.Errorf("after Close the calls stream holds %d messages", n)
	}
}
