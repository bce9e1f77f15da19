//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/nats-io/nats.go/jetstream"
)

// TestLongCallNotRedelivered: a call that runs four times
// WorkerLostAfter is delivered once, since its worker sends heartbeats.
func TestLongCallNotRedelivered(t *testing.T) {
	const lostAfter = 500 * time.Millisecond
	p := newTestPool(t, WorkerLostAfter(lostAfter))
	ctx := testContext(t, time.Minute)
	dir, f := holdSlot(t, ctx, p)
	time.Sleep(4 * lostAfter) // the span the heartbeats must cover, not a synchronisation
	release(t, dir)
	if _, err := f.Result(ctx); err != nil {
		t.Fatal(err)
	}
	if pids := startedPIDs(t, dir); len(pids) != 1 {
		t.Errorf("a call running 4 × WorkerLostAfter started in %d workers (%v), want 1", len(pids), pids)
	}
}

// TestTaskTimeoutSoft: a call that overruns TaskTimeout fails with an error
// matching futures.ErrTimeout, its context on the worker is cancelled, and
// the worker goes on serving.
func TestTaskTimeoutSoft(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1), TaskTimeout(200*time.Millisecond))
	ctx := testContext(t, time.Minute)
	_, err := futures.Submit(p, holdPID, t.TempDir()).Result(ctx)
	if !errors.Is(err, futures.ErrTimeout) {
		t.Fatalf("a call past TaskTimeout: error %v, want one matching ErrTimeout", err)
	}
	if v, err := futures.Submit(p, square, 3).Result(ctx); v != 9 || err != nil {
		t.Errorf("after a timeout: square(3) = %d, %v", v, err)
	}
	if st := p.Stats(); st.WorkerStarts != 1 {
		t.Errorf("Stats %+v: the worker was started %d times, want once: it is not killed", st, st.WorkerStarts)
	}
}

// TestDeadlineTTL: a call whose context has a deadline carries it as the
// Nats-TTL of its message, so that the server removes the message once the
// deadline passed even if the pool is gone. A published call whose context
// ends and that no worker answers fails with a *LostError wrapping the
// context's error once WorkerLostAfter passed, and its message is removed.
func TestDeadlineTTL(t *testing.T) {
	p := newTestPool(t, LocalWorkers(0), WorkerLostAfter(300*time.Millisecond))
	ctx := testContext(t, time.Minute)
	ghostSlots(t, p, 1)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	f := futures.SubmitContext(dctx, p, square, 2)
	stream := p.calls
	var msg *jetstream.RawStreamMsg
	for msg == nil {
		var err error
		msg, err = stream.GetLastMsgForSubject(ctx, p.top.clientCalls(p.client))
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatal("the call was not published")
		}
	}
	ttl, err := time.ParseDuration(msg.Header.Get(jetstream.MsgTTLHeader))
	if err != nil || ttl < 29*time.Second || ttl > 31*time.Second {
		t.Errorf("the call's message has Nats-TTL %q (%v); want about 30s", msg.Header.Get(jetstream.MsgTTLHeader), err)
	}
	cancel()
	var lost *LostError
	if _, err := f.Result(ctx); !errors.As(err, &lost) || !errors.Is(err, context.Canceled) {
		t.Errorf("the published call whose context ended: error %v, want a *LostError matching context.Canceled", err)
	}
	waitEmptyStreams(t, ctx, p)
}

// TestQueueSize: with QueueSize(2), a Submit waits while two calls are
// queued (published, not started), and gives up when its ctx ends; a call
// that starts makes room.
func TestQueueSize(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1), QueueSize(2))
	ctx := testContext(t, time.Minute)
	dir, running := holdSlot(t, ctx, p)
	queued := []*futures.Future[int]{futures.Submit(p, square, 1), futures.Submit(p, square, 2)}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := futures.SubmitContext(short, p, square, 3).Result(ctx); !errors.Is(err, futures.ErrCancelled) {
		t.Errorf("SubmitContext on a full queue whose ctx ended: error %v, want ErrCancelled", err)
	}
	if st := p.Stats(); st.Queued != 2 || st.Running != 1 {
		t.Errorf("Stats %+v: want 2 queued, 1 running", st)
	}
	waiting := make(chan *futures.Future[int])
	go func() { waiting <- futures.Submit(p, square, 4) }() // waits for room
	release(t, dir)
	for i, f := range append(queued, <-waiting) {
		if _, err := f.Result(ctx); err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if _, err := running.Result(ctx); err != nil {
		t.Error(err)
	}
}
