//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/nats-io/nats.go"
)

// TestWindowKeepsCallsInPool: a call submitted while every worker slot is
// busy is not published: it waits in the pool, Pending, cancellable there,
// and the stream holds only the message of the running call.
func TestWindowKeepsCallsInPool(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	dir, running := holdSlot(t, ctx, p)
	queued := futures.Submit(p, square, 2)
	<-p.pub.PublishAsyncComplete()
	if st := queued.State(); st != futures.Pending {
		t.Errorf("a call submitted while the only slot is busy is %v, want Pending", st)
	}
	if n := streamMsgs(t, p.link, p.top.calls.Name); n != 1 {
		t.Errorf("the calls stream holds %d messages while one call runs and one waits, want 1", n)
	}
	if st := p.Stats(); st.Queued != 1 || st.Running != 1 {
		t.Errorf("Stats %+v: want 1 queued, 1 running", st)
	}
	if !queued.Cancel() {
		t.Error("Cancel of the call waiting in the pool returned false")
	}
	release(t, dir)
	if _, err := running.Result(ctx); err != nil {
		t.Error(err)
	}
	if v, err := futures.Submit(p, square, 3).Result(ctx); v != 9 || err != nil {
		t.Errorf("square(3) after: %d, %v", v, err)
	}
}

// TestFirstDeliveriesDoNotAsk: a worker runs the first delivery of a
// pool's calls without asking the pool, once the pool answered it lately:
// sequential calls make about one start request per worker and second.
func TestFirstDeliveriesDoNotAsk(t *testing.T) {
	const calls = 200
	p := newTestPool(t, WorkerLostAfter(10*time.Second))
	ctx := testContext(t, time.Minute)
	var asks int
	sub, err := p.link.nc.Subscribe(p.top.resultSubject(p.client), func(m *nats.Msg) {
		if len(m.Data) > 0 && m.Data[0] == msgStart {
			asks++ // one subscription's callbacks run one at a time
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range calls {
		if v, err := futures.Submit(p, square, i).Result(ctx); v != i*i || err != nil {
			t.Fatalf("square(%d) = %d, %v", i, v, err)
		}
	}
	took := time.Since(start)
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if most := 2 * (int(took/askEvery(10*time.Second)) + 1); asks > most {
		t.Errorf("%d calls in %v made %d start requests, want at most %d", calls, took, asks, most)
	}
}

// TestEndedGroupNotRun: a published call whose context ends while its
// message waits in the stream is answered as cancelled by the worker that
// takes the message afterwards, which remembers the pool's cancellation,
// and never runs.
func TestEndedGroupNotRun(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("endedgroup"), WorkerLostAfter(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, 20*time.Second)
	stop, served := serveInBackground(t, ctx, p, Concurrency(1))
	defer func() {
		stop()
		<-served
	}()
	first, second := t.TempDir(), t.TempDir()
	defer release(t, second) // lets the call end if it ran
	busy := futures.Submit(p, holdPID, first)
	waitPIDs(t, ctx, first, 1)
	ghostSlots(t, p, 2) // the pool publishes the next call, which waits in the stream
	cancels, err := p.link.nc.SubscribeSync(p.top.cancelSubject(p.client))
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	f := futures.SubmitContext(cctx, p, holdPID, second)
	<-p.pub.PublishAsyncComplete()
	if st := f.State(); st != futures.Running {
		t.Fatalf("the call published behind the busy slot is %v, want Running", st)
	}
	cancel()
	if _, err := cancels.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("the pool sent no cancellation: %v", err)
	}
	release(t, first)
	if _, err := busy.Result(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Result(ctx); !errors.Is(err, futures.ErrCancelled) {
		t.Errorf("the call whose context ended in the stream: error %v, want ErrCancelled", err)
	}
	if pids := startedPIDs(t, second); len(pids) != 0 {
		t.Errorf("the call whose context ended in the stream ran in %v", pids)
	}
}
