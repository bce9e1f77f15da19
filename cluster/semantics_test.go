package cluster

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/nats-io/nats.go"
)

// selfPool is the pool that waitOnSelf submits to: its own, when it runs
// on a worker of this process.
var selfPool struct {
	sync.Mutex
	p *Pool
}

// waitOnSelf submits square(n) to selfPool and waits for it with the
// context of its own call.
func waitOnSelf(ctx context.Context, n int) (int, error) {
	selfPool.Lock()
	p := selfPool.p
	selfPool.Unlock()
	return futures.Submit(p, square, n).Result(ctx)
}

func init() { futures.Register(waitOnSelf) }

// TestDeadlockNotDetected: a call that submits to its own pool and waits,
// on the pool's only worker, is not told ErrDeadlock as on a ThreadPool:
// it waits until its context ends, here by the deadline it was submitted
// with, and its inner call runs once the worker is free.
func TestDeadlockNotDetected(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("selfwait"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	selfPool.Lock()
	selfPool.p = p
	selfPool.Unlock()
	ctx := testContext(t, time.Minute)
	stop, served := serveInBackground(t, ctx, p, Concurrency(1))
	dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = futures.SubmitContext(dctx, p, waitOnSelf, 3).Result(ctx)
	// Its context ends by the deadline on the worker, or by the pool's
	// word that the context ended, whichever comes first.
	if errors.Is(err, futures.ErrDeadlock) || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Errorf("a call waiting on its own pool's only worker: %v; want the end of its context, not ErrDeadlock", err)
	}
	if err := p.Close(); err != nil { // the worker, free again, runs the inner call
		t.Error(err)
	}
	stop()
	<-served
}

// TestStatsPerPool: Stats counts the calls of its own pool only, not
// those of another pool of the same Name on the same server, whose calls
// the same worker serves.
func TestStatsPerPool(t *testing.T) {
	ctx := testContext(t, time.Minute)
	srv := startTestServer(t)
	var pools [2]*Pool
	for i := range pools {
		p, err := NewPool(Connect(srv.clientURL()), Name("shared"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		pools[i] = p
	}
	stop, served := serveInBackground(t, ctx, pools[0])
	for i, p := range pools {
		for n := range 3 + i {
			if v, err := futures.Submit(p, square, n).Result(ctx); v != n*n || err != nil {
				t.Fatalf("pool %d: square(%d) = %d, %v", i, n, v, err)
			}
		}
	}
	for i, p := range pools {
		if st := p.Stats(); st.Submitted != int64(3+i) || st.Succeeded != int64(3+i) || st.Workers != 0 {
			t.Errorf("pool %d: Stats %+v; want its own %d calls and no worker", i, st, 3+i)
		}
	}
	stop()
	<-served
}

// TestWorkerNATS: WorkerNATS passes its options to nats.Connect: a worker
// whose URL has no token serves with the token given as nats.Token.
func TestWorkerNATS(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("workernats"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	u, err := url.Parse(p.WorkerURL())
	if err != nil {
		t.Fatal(err)
	}
	token := u.User.Username()
	u.User = nil
	if strings.Contains(u.String(), token) {
		t.Fatalf("%s still has the token", u)
	}
	if err := Serve(ctx, u.String()); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("Serve without the token = %v, want a refusal", err)
	}
	wctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(wctx, u.String(), WorkerNATS(nats.Token(token))) }()
	if v, err := futures.Submit(p, square, 6).Result(ctx); v != 36 || err != nil {
		t.Errorf("square(6) on a worker given the token by WorkerNATS: %d, %v", v, err)
	}
	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
