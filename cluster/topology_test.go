package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// topologyOf returns the topology that opts configure on the server of l.
func topologyOf(t testing.TB, l *link, opts ...Option) topology {
	t.Helper()
	c, err := readOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	return newTopology(c, int32(l.nc.MaxPayload()))
}

// streamMsgs returns how many messages stream name holds.
func streamMsgs(t testing.TB, l *link, name string) uint64 {
	t.Helper()
	return streamState(t, l, name).Msgs
}

// streamState returns the state of stream name.
func streamState(t testing.TB, l *link, name string) jetstream.StreamState {
	t.Helper()
	s, err := l.js.Stream(testContext(t, 10*time.Second), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State
}

func TestTopologyCreated(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	l := dialTest(t)
	top := topologyOf(t, l, Name("created"), MaxAttempts(2), WorkerLostAfter(time.Second))
	if _, err := top.ensure(ctx, l.js); err != nil {
		t.Fatal(err)
	}

	calls, err := l.js.Stream(ctx, "FUT_CALLS_created")
	if err != nil {
		t.Fatal(err)
	}
	sc := calls.CachedInfo().Config
	if sc.Retention != jetstream.WorkQueuePolicy || sc.Storage != jetstream.MemoryStorage || !sc.AllowMsgTTL ||
		sc.MaxMsgSize != int32(l.nc.MaxPayload()) || len(sc.Subjects) != 1 || sc.Subjects[0] != "fut.created.call.>" {
		t.Errorf("calls stream: %+v", sc)
	}
	workers, err := calls.Consumer(ctx, "workers")
	if err != nil {
		t.Fatal(err)
	}
	cc := workers.CachedInfo().Config
	if cc.AckPolicy != jetstream.AckExplicitPolicy || cc.AckWait != time.Second || cc.MaxDeliver != 2 || cc.MaxAckPending != maxAckPending {
		t.Errorf("workers consumer: %+v", cc)
	}
	lost, err := l.js.Stream(ctx, "FUT_LOST_created")
	if err != nil {
		t.Fatal(err)
	}
	if lc := lost.CachedInfo().Config; lc.Retention != jetstream.WorkQueuePolicy || lc.Storage != jetstream.MemoryStorage ||
		len(lc.Subjects) != 1 || lc.Subjects[0] != "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.FUT_CALLS_created.workers" {
		t.Errorf("lost stream: %+v", lc)
	}
	if _, err := lost.Consumer(ctx, "reaper"); err != nil {
		t.Errorf("reaper consumer: %v", err)
	}
	objs, err := l.js.ObjectStore(ctx, "FUT_OBJ_created")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := objs.Status(ctx); err != nil || st.Storage() != jetstream.MemoryStorage || st.TTL() != 0 {
		t.Errorf("object store: %v, %v", st, err)
	}

	// A second pool of the same name, or the same pool again, changes
	// nothing; a pool of another name has objects of its own.
	if _, err := top.ensure(ctx, l.js); err != nil {
		t.Fatalf("a second ensure: %v", err)
	}
	again, err := calls.Consumer(ctx, "workers")
	if err != nil {
		t.Fatal(err)
	}
	if !again.CachedInfo().Created.Equal(workers.CachedInfo().Created) {
		t.Error("a second ensure recreated the workers consumer")
	}
	if _, err := topologyOf(t, l, Name("other")).ensure(ctx, l.js); err != nil {
		t.Fatal(err)
	}
	names := l.js.StreamNames(ctx)
	var n int
	for range names.Name() {
		n++
	}
	if names.Err() != nil || n != 6 {
		t.Errorf("%d streams for two pools (%v), want 6: calls, lost and objects each", n, names.Err())
	}
}

func TestTopologyFileStorage(t *testing.T) {
	l := dialTest(t, Embedded(StoreDir(t.TempDir())))
	top := topologyOf(t, l, Embedded(StoreDir("unused")))
	calls, err := top.ensure(testContext(t, 30*time.Second), l.js)
	if err != nil {
		t.Fatal(err)
	}
	if calls.CachedInfo().Config.Storage != jetstream.FileStorage {
		t.Errorf("with StoreDir the calls stream has %v storage", calls.CachedInfo().Config.Storage)
	}
	if c, _ := readOptions([]Option{Connect("nats://127.0.0.1:1")}); c.storage() != jetstream.FileStorage {
		t.Error("with Connect the streams would not be kept in files")
	}
}

func TestTopologyRefusesIncompatibleObjects(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	l := dialTest(t)
	for _, tc := range []struct {
		name    string
		prepare func(top topology) error // creates an object ensure must refuse
		want    []string                 // what the error says
	}{
		{"retention", func(top topology) error {
			cfg := top.calls
			cfg.Retention = jetstream.LimitsPolicy
			_, err := l.js.CreateStream(ctx, cfg)
			return err
		}, []string{"FUT_CALLS_retention", "Retention"}},
		{"storage", func(top topology) error {
			cfg := top.lost
			cfg.Storage = jetstream.FileStorage
			_, err := l.js.CreateStream(ctx, cfg)
			return err
		}, []string{"FUT_LOST_storage", "Storage", "StoreDir"}},
		{"subjects", func(top topology) error {
			cfg := top.calls
			cfg.Subjects = []string{"fut.subjects.call.only.this"}
			_, err := l.js.CreateStream(ctx, cfg)
			return err
		}, []string{"Subjects"}},
		{"ttl", func(top topology) error {
			cfg := top.calls
			cfg.AllowMsgTTL = false
			_, err := l.js.CreateStream(ctx, cfg)
			return err
		}, []string{"AllowMsgTTL"}},
		{"ackwait", func(top topology) error {
			cfg := top.workers
			cfg.AckWait = 5 * time.Second
			return createConsumer(l, top.calls, cfg)
		}, []string{"consumer workers", "AckWait 5s", "1s", "WorkerLostAfter"}},
		{"maxdeliver", func(top topology) error {
			cfg := top.workers
			cfg.MaxDeliver = 7
			return createConsumer(l, top.calls, cfg)
		}, []string{"MaxDeliver 7", "MaxAttempts"}},
		{"filter", func(top topology) error {
			cfg := top.workers
			cfg.FilterSubject = "fut.filter.call.some.>"
			return createConsumer(l, top.calls, cfg)
		}, []string{"FilterSubject"}},
		{"push", func(top topology) error {
			cfg := top.reaper
			cfg.DeliverSubject = "elsewhere"
			return createConsumer(l, top.lost, cfg)
		}, []string{"consumer reaper", "DeliverSubject", "pull"}},
		{"backoff", func(top topology) error {
			cfg := top.workers
			cfg.BackOff = []time.Duration{time.Second, 2 * time.Second}
			cfg.MaxDeliver = 3
			return createConsumer(l, top.calls, cfg)
		}, []string{"BackOff"}},
		{"objstorage", func(top topology) error {
			cfg := top.objects
			cfg.Storage = jetstream.FileStorage
			_, err := l.js.CreateObjectStore(ctx, cfg)
			return err
		}, []string{"object store FUT_OBJ_objstorage", "Storage", "StoreDir"}},
		{"objttl", func(top topology) error {
			cfg := top.objects
			cfg.TTL = time.Hour
			_, err := l.js.CreateObjectStore(ctx, cfg)
			return err
		}, []string{"object store FUT_OBJ_objttl", "TTL 1h0m0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := topologyOf(t, l, Name(tc.name), WorkerLostAfter(time.Second))
			if err := tc.prepare(top); err != nil {
				t.Fatal(err)
			}
			_, err := top.ensure(ctx, l.js)
			if err == nil {
				t.Fatal("ensure accepted the incompatible object")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
		})
	}

	// The refused object is left as it was.
	s, err := l.js.Stream(ctx, "FUT_CALLS_ackwait")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Consumer(ctx, "workers")
	if err != nil {
		t.Fatal(err)
	}
	if c.CachedInfo().Config.AckWait != 5*time.Second {
		t.Errorf("ensure changed the refused consumer's AckWait to %v", c.CachedInfo().Config.AckWait)
	}
}

// createConsumer creates the stream cfg names, as configured, and the
// consumer cc on it.
func createConsumer(l *link, cfg jetstream.StreamConfig, cc jetstream.ConsumerConfig) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := l.js.CreateStream(ctx, cfg)
	if err == nil {
		_, err = s.CreateConsumer(ctx, cc)
	}
	return err
}

func TestTopologySubjects(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	l := dialTest(t)
	a, b := topologyOf(t, l, Name("a")), topologyOf(t, l, Name("a-b"))
	for _, top := range []topology{a, b} {
		if _, err := top.ensure(ctx, l.js); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.js.Publish(ctx, a.callSubject("c1", 0), []byte("submit")); err != nil {
		t.Fatalf("a call is not taken by the calls stream: %v", err)
	}
	if _, err := l.js.Publish(ctx, a.callSubject("c1", 7), []byte("map")); err != nil {
		t.Fatal(err)
	}
	for _, subject := range []string{a.resultSubject("c1"), a.cancelSubject("c1")} {
		sub, err := l.nc.SubscribeSync(subject)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.nc.Publish(subject, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := sub.NextMsgWithContext(ctx); err != nil {
			t.Errorf("%s: %v", subject, err)
		}
		sub.Unsubscribe()
	}
	if err := l.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, l, a.calls.Name); n != 2 {
		t.Errorf("pool a's calls stream holds %d messages, want its 2 calls and no result or cancellation", n)
	}
	if n := streamMsgs(t, l, b.calls.Name); n != 0 {
		t.Errorf("pool a-b's calls stream holds %d of pool a's messages", n)
	}
	if a.callSubject("c1", 7) == a.callSubject("c1", 0) || !strings.HasPrefix(a.callSubject("c1", 7), "fut.a.call.c1.") {
		t.Errorf("the groups of a client share the subject %s", a.callSubject("c1", 7))
	}
}

func TestTopologyCallWithTTLExpires(t *testing.T) {
	ctx := testContext(t, 30*time.Second)
	l := dialTest(t)
	top := topologyOf(t, l, Name("ttl"))
	if _, err := top.ensure(ctx, l.js); err != nil {
		t.Fatal(err)
	}
	if _, err := l.js.Publish(ctx, top.callSubject("c", 0), []byte("no deadline")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.js.Publish(ctx, top.callSubject("c", 0), []byte("deadline"), jetstream.WithMsgTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	for n := streamMsgs(t, l, top.calls.Name); n != 1; n = streamMsgs(t, l, top.calls.Name) {
		if n != 2 {
			t.Fatalf("the stream holds %d calls, want 2 then 1", n)
		}
		select {
		case <-ctx.Done():
			t.Fatal("the call with a TTL of 1s is still queued")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestParseMaxDeliveries(t *testing.T) {
	for _, bad := range []string{"", "{", `{"stream":"S"}`, `{"stream_seq":3}`} {
		if _, err := parseMaxDeliveries([]byte(bad)); err == nil {
			t.Errorf("parseMaxDeliveries(%q) accepted it", bad)
		}
	}
	a, err := parseMaxDeliveries([]byte(`{"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"S","consumer":"workers","stream_seq":3,"deliveries":2}`))
	if err != nil || a.StreamSeq != 3 || a.Deliveries != 2 || a.Consumer != "workers" {
		t.Errorf("parseMaxDeliveries = %+v, %v", a, err)
	}
	if _, err := parseMaxDeliveries(nil); !strings.Contains(err.Error(), "malformed") {
		t.Errorf("error %v", err)
	}
}
