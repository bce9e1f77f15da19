package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// topology names a pool's JetStream objects and subjects and holds their
// configurations, all derived from the pool's options. With <p> the pool's
// Name:
//
//	FUT_CALLS_<p>  stream, work queue, subjects fut.<p>.call.>: the calls
//	               waiting for a worker or held by one
//	workers        its durable pull consumer, shared by every worker
//	FUT_LOST_<p>   stream, work queue: the server's advisories for calls
//	               delivered MaxAttempts times without an acknowledgement
//	reaper         its durable pull consumer
//	FUT_OBJ_<p>    object store: arguments and results too big for a
//	               message (see objects.go)
//	fut.<p>.call.<client>.<group>  the subject of a call
//	fut.<p>.res.<client>           core subject: results for a client
//	fut.<p>.cancel.<client>        core subject: cancellations by a client
//	                               (workers subscribe to fut.<p>.cancel.*)
//	fut.<p>.hello                  core subject: workers say they serve
//
// The stream names differ in their first word, and a Name has no '.', so
// the objects of two pools never overlap.
type topology struct {
	pool    string
	calls   jetstream.StreamConfig
	workers jetstream.ConsumerConfig
	lost    jetstream.StreamConfig
	reaper  jetstream.ConsumerConfig
	objects jetstream.ObjectStoreConfig
}

// maxAckPending is the most calls the workers consumer hands out before
// they are acknowledged; the server's default, 1000, would stall more
// workers' calls than that without a word.
const maxAckPending = 1 << 16

// newTopology returns the topology of the pool that c configures, whose
// streams accept messages of up to maxMsgSize bytes (the server's
// max_payload) and keep them in c.storage().
func newTopology(c config, maxMsgSize int32) topology {
	p, storage := c.name, c.storage()
	calls := "FUT_CALLS_" + p
	return topology{
		pool: p,
		calls: jetstream.StreamConfig{
			Name:        calls,
			Description: "futures/cluster: the calls of pool " + p,
			Subjects:    []string{"fut." + p + ".call.>"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     storage,
			AllowMsgTTL: true, // a call with a deadline leaves the stream by itself
			MaxMsgSize:  maxMsgSize,
		},
		workers: jetstream.ConsumerConfig{
			Durable:       "workers",
			Description:   "futures/cluster: the workers of pool " + p,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       c.workerLostAfter,
			MaxDeliver:    c.maxAttempts,
			MaxAckPending: maxAckPending,
		},
		lost: jetstream.StreamConfig{
			Name:        "FUT_LOST_" + p,
			Description: "futures/cluster: calls of pool " + p + " delivered MaxAttempts times",
			Subjects:    []string{"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + calls + ".workers"},
			Retention:   jetstream.WorkQueuePolicy,
			Storage:     storage,
		},
		reaper: jetstream.ConsumerConfig{
			Durable:       "reaper",
			Description:   "futures/cluster: turns the lost calls of pool " + p + " into errors",
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckPolicy:     jetstream.AckExplicitPolicy,
		},
		objects: jetstream.ObjectStoreConfig{
			Bucket:      "FUT_OBJ_" + p,
			Description: "futures/cluster: arguments and results of pool " + p + " too big for a message",
			Storage:     storage,
		},
	}
}

// storage is where the streams of the pool c configures keep their
// messages: in memory on an embedded server without StoreDir, in files
// otherwise, so that an external server's restart loses no call.
func (c config) storage() jetstream.StorageType {
	if c.connect == nil && c.server.storeDir == "" {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// callSubject is the subject of the calls of a client's group: a Map's
// calls, or those of its Submits (group 0), which one purge removes.
func (t topology) callSubject(client string, group uint64) string {
	return fmt.Sprintf("fut.%s.call.%s.%d", t.pool, client, group)
}

// clientCalls is the subject filter of every call of a client, which one
// purge removes.
func (t topology) clientCalls(client string) string {
	return "fut." + t.pool + ".call." + client + ".>"
}

// resultSubject is the core subject a client receives its results on.
func (t topology) resultSubject(client string) string {
	return "fut." + t.pool + ".res." + client
}

// nextSubject is the JetStream API subject on which a worker asks the
// workers consumer for messages.
func (t topology) nextSubject() string {
	return "$JS.API.CONSUMER.MSG.NEXT." + t.calls.Name + "." + t.workers.Durable
}

// helloSubject is the core subject on which workers say, now and then,
// how many calls they run at once.
func (t topology) helloSubject() string { return "fut." + t.pool + ".hello" }

// cancelSubject is the core subject a client cancels its running calls on.
// Workers listen to every client's, cancelSubject("*").
func (t topology) cancelSubject(client string) string {
	return "fut." + t.pool + ".cancel." + client
}

// ensure creates the objects of t that are missing and checks those that
// exist: creating one with the same configuration is a no-op, so pools and
// workers starting at once agree. An existing object whose configuration
// would break the pool's delivery fails with an error naming the field;
// nothing existing is changed. It returns the calls stream.
func (t topology) ensure(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	calls, err := ensureStream(ctx, js, t.calls)
	if err != nil {
		return nil, err
	}
	// The advisory stream exists before the consumer whose advisories it
	// keeps can lose a call.
	lost, err := ensureStream(ctx, js, t.lost)
	if err != nil {
		return nil, err
	}
	if err := ensureConsumer(ctx, lost, t.reaper); err != nil {
		return nil, err
	}
	// The object store exists before a worker finds the consumer.
	if err := ensureObjects(ctx, js, t.objects); err != nil {
		return nil, err
	}
	if err := ensureConsumer(ctx, calls, t.workers); err != nil {
		return nil, err
	}
	return calls, nil
}

// ensureStream returns the stream want names, created with want if it did
// not exist, after checking that its configuration fits want.
func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateStream(ctx, want)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.Stream(ctx, want.Name) // it exists with another configuration
	}
	if err != nil {
		return nil, fmt.Errorf("futures/cluster: stream %s: %w", want.Name, err)
	}
	if err := streamFits(s.CachedInfo().Config, want); err != nil {
		return nil, fmt.Errorf("futures/cluster: the existing stream %s %w; remove it or give the pool another Name", want.Name, err)
	}
	return s, nil
}

// streamFits tells which field of have, the configuration of an existing
// stream, keeps it from serving as want.
func streamFits(have, want jetstream.StreamConfig) error {
	switch {
	case !slices.Equal(have.Subjects, want.Subjects):
		return mismatch("Subjects", have.Subjects, want.Subjects, "")
	case have.Retention != want.Retention:
		return mismatch("Retention", have.Retention, want.Retention, "")
	case have.Storage != want.Storage:
		return mismatch("Storage", have.Storage, want.Storage, "StoreDir")
	case have.AllowMsgTTL != want.AllowMsgTTL:
		return mismatch("AllowMsgTTL", have.AllowMsgTTL, want.AllowMsgTTL, "")
	case have.MaxMsgSize > 0 && have.MaxMsgSize < want.MaxMsgSize:
		return mismatch("MaxMsgSize", have.MaxMsgSize, want.MaxMsgSize, "")
	}
	return nil
}

// ensureConsumer creates the durable consumer want of s if it does not
// exist, and checks that its configuration fits want.
func ensureConsumer(ctx context.Context, s jetstream.Stream, want jetstream.ConsumerConfig) error {
	name := s.CachedInfo().Config.Name
	c, err := s.CreateConsumer(ctx, want)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		c, err = s.Consumer(ctx, want.Durable) // it exists with another configuration
	}
	var unfit error
	switch {
	case errors.Is(err, jetstream.ErrNotPullConsumer):
		unfit = mismatch("DeliverSubject", "set (a push consumer)", "none (a pull consumer)", "")
	case err != nil:
		return fmt.Errorf("futures/cluster: consumer %s of stream %s: %w", want.Durable, name, err)
	default:
		unfit = consumerFits(c.CachedInfo().Config, want)
	}
	if unfit != nil {
		return fmt.Errorf("futures/cluster: the existing consumer %s of stream %s %w; remove it or give the pool another Name", want.Durable, name, unfit)
	}
	return nil
}

// consumerFits tells which field of have, the configuration of an existing
// pull consumer, keeps it from serving as want.
func consumerFits(have, want jetstream.ConsumerConfig) error {
	switch {
	case have.FilterSubject != want.FilterSubject || len(have.FilterSubjects) != 0:
		return mismatch("FilterSubject", have.FilterSubject+fmt.Sprint(have.FilterSubjects), "none", "")
	case have.DeliverPolicy != want.DeliverPolicy:
		return mismatch("DeliverPolicy", have.DeliverPolicy, want.DeliverPolicy, "")
	case have.AckPolicy != want.AckPolicy:
		return mismatch("AckPolicy", have.AckPolicy, want.AckPolicy, "")
	case len(have.BackOff) != 0:
		return mismatch("BackOff", have.BackOff, "none", "WorkerLostAfter")
	case want.AckWait != 0 && have.AckWait != want.AckWait:
		return mismatch("AckWait", have.AckWait, want.AckWait, "WorkerLostAfter")
	case want.MaxDeliver != 0 && have.MaxDeliver != want.MaxDeliver:
		return mismatch("MaxDeliver", have.MaxDeliver, want.MaxDeliver, "MaxAttempts")
	}
	return nil
}

// mismatch is the error of a field whose value is have where the pool
// needs want; option names the pool option that sets it, if any, on which
// every pool of one Name must agree.
func mismatch(field string, have, want any, option string) error {
	err := fmt.Errorf("has %s %v where this pool needs %v", field, have, want)
	if option != "" {
		err = fmt.Errorf("%w (set by %s, on which the pools of one Name must agree)", err, option)
	}
	return err
}

// maxDeliveries is the advisory the server publishes, and the lost stream
// keeps, when a call has been delivered MaxDeliver times and its last
// delivery was not acknowledged within AckWait either.
type maxDeliveries struct {
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	StreamSeq  uint64    `json:"stream_seq"` // the call's sequence in the calls stream, where it stays
	Deliveries int       `json:"deliveries"`
	Time       time.Time `json:"timestamp"`
}

// parseMaxDeliveries decodes an advisory of the lost stream.
func parseMaxDeliveries(data []byte) (maxDeliveries, error) {
	var a maxDeliveries
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("futures/cluster: a malformed MAX_DELIVERIES advisory: %w", err)
	}
	if a.StreamSeq == 0 || a.Deliveries < 1 {
		return a, fmt.Errorf("futures/cluster: a MAX_DELIVERIES advisory without a stream sequence or deliveries: %s", data)
	}
	return a, nil
}
