package cluster

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"go.uber.org/goleak"
)

// square is the trivial registered function of the tests.
func square(_ context.Context, n int) (int, error) { return n * n, nil }

func init() { futures.Register(square) }

// TestMain checks that no test leaves a goroutine of the server or of the
// client library behind. It first lets the worker processes that re-execute
// this test binary serve: the floor benchmarks' and the pools' local
// workers.
func TestMain(m *testing.M) {
	if url := os.Getenv(workerEnvURL); url != "" {
		os.Exit(floorWorkerMain(url))
	}
	WorkerMain()
	goleak.VerifyTestMain(m)
}

// testContext returns a context that ends when the test does, or after
// limit, which bounds every wait of a test.
func testContext(t testing.TB, limit time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	t.Cleanup(cancel)
	return ctx
}

// startTestServer starts an embedded server on 127.0.0.1 as opts ask and
// stops it when the test ends.
func startTestServer(t testing.TB, opts ...ServerOption) *embeddedServer {
	t.Helper()
	c, err := readOptions([]Option{Embedded(opts...)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := startServer(c.server, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.shutdown)
	return s
}

// dialTest dials as opts ask and closes the link when the test ends.
func dialTest(t testing.TB, opts ...Option) *link {
	t.Helper()
	c, err := readOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := dial(testContext(t, 30*time.Second), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	return l
}

// ghostSlots makes p count n slots of a worker that never takes a call,
// until WorkerLostAfter passes: p publishes up to n messages that stay in
// the stream, as if its workers had gone.
func ghostSlots(t testing.TB, p *Pool, n int) {
	t.Helper()
	if err := p.link.nc.Publish(p.top.helloSubject(), appendHello(nil, "ghost", n)); err != nil {
		t.Fatal(err)
	}
	waitWindow(t, p, func(w int) bool { return w >= n })
}

// waitWindow waits, at most ten seconds, until the slots p counts satisfy
// ok.
func waitWindow(t testing.TB, p *Pool, ok func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		w := p.windowLocked()
		p.mu.Unlock()
		if ok(w) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pool counts %d slots", w)
		}
		time.Sleep(time.Millisecond)
	}
}
