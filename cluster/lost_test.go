package cluster

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestLostCallAdvisory shows how a call whose workers all die becomes
// known: a worker that takes the call and never acknowledges it (it died)
// has it redelivered after WorkerLostAfter, up to MaxAttempts deliveries;
// then the next pull makes the server publish the MAX_DELIVERIES advisory,
// which the lost stream keeps for the reaper, while the call stays in the
// calls stream until it is deleted.
func TestLostCallAdvisory(t *testing.T) {
	const lostAfter = 300 * time.Millisecond
	ctx := testContext(t, 30*time.Second)
	l := dialTest(t)
	top := topologyOf(t, l, Name("lost"), MaxAttempts(2), WorkerLostAfter(lostAfter))
	calls, err := top.ensure(ctx, l.js)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := l.js.Publish(ctx, top.callSubject("c", 0), []byte("poison"))
	if err != nil {
		t.Fatal(err)
	}
	workers, err := calls.Consumer(ctx, top.workers.Durable)
	if err != nil {
		t.Fatal(err)
	}
	reaper, err := l.js.Consumer(ctx, top.lost.Name, top.reaper.Durable)
	if err != nil {
		t.Fatal(err)
	}

	var deliveries []time.Time
	var advisory jetstream.Msg
	for advisory == nil {
		if ctx.Err() != nil {
			t.Fatalf("no advisory after %d deliveries", len(deliveries))
		}
		batch, err := workers.Fetch(1, jetstream.FetchMaxWait(lostAfter))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			if meta.NumDelivered != uint64(len(deliveries)+1) || meta.Sequence.Stream != ack.Sequence {
				t.Fatalf("delivery %d of the call has metadata %+v", len(deliveries)+1, meta)
			}
			deliveries = append(deliveries, time.Now()) // and no acknowledgement: the worker died
		}
		lost, err := reaper.FetchNoWait(1)
		if err != nil {
			t.Fatal(err)
		}
		for m := range lost.Messages() {
			advisory = m
		}
	}

	if len(deliveries) != 2 {
		t.Fatalf("the call was delivered %d times with MaxAttempts(2)", len(deliveries))
	}
	if gap := deliveries[1].Sub(deliveries[0]); gap < lostAfter*9/10 {
		t.Errorf("the call was redelivered %v after its first delivery, before WorkerLostAfter (%v)", gap, lostAfter)
	}
	a, err := parseMaxDeliveries(advisory.Data())
	if err != nil {
		t.Fatal(err)
	}
	if a.Stream != top.calls.Name || a.Consumer != top.workers.Durable || a.StreamSeq != ack.Sequence || a.Deliveries != 2 {
		t.Errorf("advisory %+v, want stream %s, consumer %s, seq %d, 2 deliveries", a, top.calls.Name, top.workers.Durable, ack.Sequence)
	}

	// What the reaper does: read the call, delete it, acknowledge the
	// advisory; afterwards neither stream holds anything.
	msg, err := calls.GetMsg(ctx, a.StreamSeq)
	if err != nil {
		t.Fatalf("the lost call is not in the calls stream: %v", err)
	}
	if string(msg.Data) != "poison" || msg.Subject != top.callSubject("c", 0) {
		t.Errorf("the lost call reads %q on %s", msg.Data, msg.Subject)
	}
	if err := calls.DeleteMsg(ctx, a.StreamSeq); err != nil {
		t.Fatal(err)
	}
	if err := advisory.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	if n, m := streamMsgs(t, l, top.calls.Name), streamMsgs(t, l, top.lost.Name); n != 0 || m != 0 {
		t.Errorf("after the reaper's work the calls stream holds %d, the lost stream %d messages", n, m)
	}
	if batch, err := workers.Fetch(1, jetstream.FetchMaxWait(lostAfter)); err == nil {
		for range batch.Messages() {
			t.Error("the lost call was delivered a third time")
		}
	}
}
