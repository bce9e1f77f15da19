package cluster

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/serve"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
	"github.com/nats-io/nats.go"
)

// job is one message of calls a worker took: it asks the pool which of them
// to start when it must (see askStart), runs them one after the other,
// sends their outcomes in batches and acknowledges the message once every
// outcome is sent.
type job struct {
	w       *worker
	m       *nats.Msg // a message of the calls stream, acknowledged as JetStream's
	client  string
	group   uint64 // of every call of the message
	attempt int
	stamp   time.Time // when the server stored the message
	calls   []wire.Call
	skip    map[uint64]bool // calls not to run
	runner  *serve.Runner
	timeout time.Duration // TaskTimeout, 0 for none
	next    int           // the index in calls of the next call to run
	since   time.Time     // when the job started running calls, then when it sent results last
	// pullNext asks for the slot's next message (see handle); pulled says
	// whether finish did.
	pullNext func() bool
	pulled   bool
	// ctx is the base of the contexts of the calls; cancel ends it when
	// the pool cancels the calls of the group, or all of its calls.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex // guards what follows, which a timeout's and the batch timer's goroutines touch too
	recs   []byte     // result records not sent yet
	nrec   int
	out    []byte                  // the message sent last, whose array the next one reuses
	recent bool                    // results were sent less than resultBatchWait ago
	batch  *time.Timer             // clears recent resultBatchWait after a send, and sends what waits
	cur    context.CancelCauseFunc // cancels the call running now, with a TaskTimeout
	freed  []byte                  // the msgFreed message to send once the call running now returns, if it overran
	sc     *scratch                // where calls, recs and out came from
}

// Results are sent when this many bytes of them wait, at once when none
// were sent for this long and otherwise once this long passed since the last
// send, and when the message is done.
const (
	resultBatchBytes = 64 << 10
	resultBatchWait  = 5 * time.Millisecond
)

// scratch is the memory a job works in, which the next job reuses: its
// calls, its result records and the message it sends.
type scratch struct {
	calls []wire.Call
	recs  []byte
	out   []byte
}

// scratches keeps the scratch of finished jobs.
var scratches sync.Pool

// maxScratch is the most bytes of buffers a scratch keeps for the next job.
const maxScratch = 1 << 20

// takeScratch gives j the buffers of a finished job, with room for n calls.
func (j *job) takeScratch(n int) {
	sc, _ := scratches.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if cap(sc.calls) < n {
		sc.calls = make([]wire.Call, 0, n)
	}
	j.calls, j.recs, j.out = sc.calls[:0], sc.recs[:0], sc.out[:0]
	sc.calls, sc.recs, sc.out = nil, nil, nil
	j.sc = sc
}

// dropScratch hands the buffers of j, which is over, to the next job.
func (j *job) dropScratch() {
	sc := j.sc
	if sc == nil || cap(j.recs)+cap(j.out) > maxScratch || cap(j.calls) > maxScratch/64 {
		return
	}
	j.mu.Lock() // a batch timer that fired as the job ended may look at recs
	sc.calls, sc.recs, sc.out = j.calls[:0], j.recs[:0], j.out[:0]
	j.calls, j.recs, j.out, j.sc = nil, nil, nil, nil
	j.mu.Unlock()
	scratches.Put(sc)
}

// handle runs the job of the message m in the calling slot.
//
// pullNext, if not nil, asks the server for the slot's next message: the
// job calls it once its last call returned, before it sends the outcomes,
// so that the next message is on its way meanwhile. handle reports whether
// it did.
func (w *worker) handle(m *nats.Msg, pullNext func() bool) bool {
	j := &job{w: w, m: m, pullNext: pullNext}
	meta, err := m.Metadata()
	if err == nil {
		j.attempt, j.stamp = int(meta.NumDelivered), meta.Timestamp
		j.client, j.group, err = callSubjectParts(m.Subject)
	}
	var r wire.CallReader
	if err == nil {
		r, err = parseCallFrame(m.Data)
	}
	if err == nil {
		j.takeScratch(r.Len())
	}
	for err == nil && r.Next() {
		j.calls = append(j.calls, r.Call)
	}
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		m.Term() // no worker can run it
		return false
	}
	codecName := m.Header.Get(headerCodec)
	codec := value.ByName(codecName)
	var timeout time.Duration
	if t, err := strconv.ParseInt(m.Header.Get(headerTimeout), 10, 64); err == nil && t > 0 {
		timeout = time.Duration(t)
	}
	j.ctx, j.cancel = context.WithCancelCause(w.calls)
	if c := j.calls[0]; c.Flags&wire.FlagDeadline != 0 {
		// The calls of a message share their context, and so its deadline.
		var stop context.CancelFunc
		j.ctx, stop = context.WithDeadline(j.ctx, j.stamp.Add(time.Duration(c.Deadline)))
		cancel := j.cancel
		j.cancel = func(err error) { cancel(err); stop() }
	}
	j.timeout = timeout
	w.mu.Lock()
	w.held[j] = struct{}{} // from now on the heartbeats and cancellations reach it
	ended := w.ended.has(j.client, j.group)
	ask := j.attempt > 1 || j.attempt >= w.maxDeliver || time.Since(w.heard[j.client]) > askEvery(w.lostAfter)
	w.mu.Unlock()
	if ended {
		j.cancel(errCancelledByPool)
	}
	if ask && !j.askStart() {
		w.unhold(j)
		j.cancel(nil)
		return false
	}
	j.since = time.Now()
	if codec == nil {
		for _, c := range j.calls {
			if !j.skip[c.ID] {
				j.record(&wire.Result{ID: c.ID, Kind: wire.KindFail, Type: serve.FailCodec,
					Message: fmt.Sprintf("futures/cluster: worker %s has no codec %q; register it with futures.RegisterCodec", w.id, codecName)})
			}
		}
		j.next = len(j.calls)
	}
	if name := m.Header.Get(headerArgObject); name != "" && j.next < len(j.calls) {
		j.fetchArg(name)
	}
	j.runner = serve.NewRunner(codec, timeout, j.timedOut, j.record)
	j.run()
	return j.pulled
}

// fetchArg reads the argument of the message's one call from the object
// name; if it cannot, the call fails without running.
func (j *job) fetchArg(name string) {
	c := &j.calls[0]
	if j.skip[c.ID] {
		return
	}
	data, err := j.w.objs.get(j.ctx, name)
	if err != nil {
		j.record(&wire.Result{ID: c.ID, Kind: wire.KindFail, Type: serve.FailCodec,
			Message: fmt.Sprintf("futures/cluster: worker %s has no argument for the call: %v", j.w.id, err)})
		j.next = len(j.calls)
		return
	}
	c.Arg = data
}

// storeResult puts the value of r, a result too big for a message, in the
// object store, and returns the record that names the object, or one that
// says why it could not be stored.
func (j *job) storeResult(r *wire.Result) *wire.Result {
	name := resultObject(j.client, r.ID, j.attempt)
	if err := j.w.objs.put(name, r.Value); err != nil {
		return &wire.Result{ID: r.ID, Kind: wire.KindFail, Type: serve.FailCodec,
			Message: fmt.Sprintf("futures/cluster: the result is %d bytes encoded, more than a message carries, and %v", len(r.Value), err)}
	}
	return &wire.Result{ID: r.ID, Kind: wire.KindFail, Type: failObject, Message: name}
}

// maxHeard bounds the pools a worker remembers having heard from.
const maxHeard = 1 << 10

// askEvery is how long a worker, after a pool answered it, runs the first
// delivery of that pool's messages without asking: a pool's calls are
// published only when it has room for them, so that only a delivery after
// the first may be one to skip, and the question tells whether the pool is
// still there to receive the outcomes.
func askEvery(lostAfter time.Duration) time.Duration { return min(lostAfter/4, time.Second) }

// askStart asks the pool that made the calls which of them to run, and
// reports whether to go on: the worker asks so for a delivery after the
// first, for the last one that MaxAttempts allows (so that a *LostError
// names it), and when it has not heard from the pool within askEvery.
// Without an answer (the pool is gone, or busy for longer than
// WorkerLostAfter) the message is handed back for a later delivery, which
// counts towards MaxAttempts.
func (j *job) askStart() bool {
	ids := make([]uint64, len(j.calls))
	for i, c := range j.calls {
		ids[i] = c.ID
	}
	reply, err := j.w.nc.Request(j.w.top.resultSubject(j.client), appendStart(nil, j.attempt, j.w.id, ids), j.w.lostAfter)
	if err != nil {
		j.m.NakWithDelay(j.w.lostAfter)
		return false
	}
	d := wire.NewDecoder(reply.Data)
	skip := readIDs(d)
	if d.Finish() != nil {
		j.m.NakWithDelay(j.w.lostAfter)
		return false
	}
	j.w.mu.Lock()
	if len(j.w.heard) >= maxHeard {
		clear(j.w.heard)
	}
	j.w.heard[j.client] = time.Now()
	j.w.mu.Unlock()
	if len(skip) > 0 {
		j.skip = make(map[uint64]bool, len(skip))
		for _, id := range skip {
			j.skip[id] = true
		}
	}
	return true
}

// run runs the calls from j.next on. A call that ends its goroutine, the
// slot's, with runtime.Goexit has its outcome recorded by the runner;
// another goroutine goes on with the next call, and then serves as the slot.
func (j *job) run() {
	returned := false
	defer func() {
		if !returned {
			j.endCall()
			j.pullNext = nil // the slot's inbox ends with its goroutine
			j.w.slots.Add(1) // before the slot's goroutine counts itself out
			go func() {
				defer j.w.slots.Done()
				j.run()
				j.w.slotLoop()
			}()
		}
	}()
	for j.next < len(j.calls) {
		c := &j.calls[j.next]
		j.next++
		if j.skip[c.ID] {
			continue
		}
		j.runOne(c)
	}
	returned = true
	j.finish()
}

// runOne runs the call c and records its outcome.
func (j *job) runOne(c *wire.Call) {
	ctx := j.ctx
	if j.timeout > 0 { // a context of its own, which its timeout cancels
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		j.mu.Lock()
		j.cur = cancel
		j.mu.Unlock()
	}
	var res wire.Result
	report := j.runner.Run(ctx, &res, c.ID, registry.ByName(c.Func), c.Func, c.Arg)
	j.endCall()
	if report {
		j.record(&res)
	}
}

// endCall forgets the call that ran last and cancels its context; if the
// call overran TaskTimeout, it tells the pool that its slot is free.
func (j *job) endCall() {
	j.mu.Lock()
	cancel, freed := j.cur, j.freed
	j.cur, j.freed = nil, nil
	j.mu.Unlock()
	if cancel != nil {
		cancel(nil)
	}
	if freed != nil {
		j.w.nc.Publish(j.w.top.resultSubject(j.client), freed)
	}
}

// timedOut records the outcome of a call that overran TaskTimeout, sends it
// at once and cancels the call's context. The call keeps its slot until it
// returns: the pool is told so first (msgOverran), so that it publishes
// nothing for the slot, and again once the call returned (see endCall).
func (j *job) timedOut(r *wire.Result) {
	j.w.nc.Publish(j.w.top.resultSubject(j.client), appendOverrun(nil, msgOverran, j.attempt, j.w.id, r.ID))
	j.record(r)
	j.send()
	j.mu.Lock()
	cancel := j.cur
	j.freed = appendOverrun(nil, msgFreed, j.attempt, j.w.id, r.ID)
	j.mu.Unlock()
	if cancel != nil {
		cancel(fmt.Errorf("futures/cluster: the call overran TaskTimeout (%s)", r.Message))
	}
}

// record adds the outcome r to those to send, and sends them if enough
// wait.
func (j *job) record(r *wire.Result) {
	if r.ValueTail != nil { // a message carries a value whole
		v := append(r.Value[:len(r.Value):len(r.Value)], r.ValueTail...)
		r.Value, r.ValueTail = v, nil
	}
	limit := j.w.maxRecords
	if r.Kind == wire.KindOK && len(r.Value) > limit {
		r = j.storeResult(r)
	}
	j.mu.Lock()
	at := len(j.recs)
	j.recs = wire.AppendResult(j.recs, r)
	if at > 0 && len(j.recs) > limit {
		// It does not fit with the others: send them first.
		rec := append([]byte(nil), j.recs[at:]...)
		j.recs = j.recs[:at]
		j.sendLocked()
		j.recs = append(j.recs, rec...)
	}
	j.nrec++
	if !j.recent || len(j.recs) >= resultBatchBytes {
		j.sendLocked()
	}
	j.mu.Unlock()
}

// batchDue runs resultBatchWait after a send: results recorded since then
// are sent now, and otherwise the next one is sent at once.
func (j *job) batchDue() {
	j.mu.Lock()
	j.recent = false
	if j.nrec > 0 {
		j.sendLocked()
	}
	j.mu.Unlock()
}

// send sends the outcomes recorded.
func (j *job) send() {
	j.mu.Lock()
	j.sendLocked()
	j.mu.Unlock()
}

func (j *job) sendLocked() {
	if j.nrec == 0 {
		return
	}
	j.w.mu.Lock()
	abandoned := j.w.abandoned
	j.w.mu.Unlock()
	if !abandoned {
		// Publish copies the message into the connection's buffer, so that
		// the next send reuses its array.
		now := time.Now()
		b := appendResultsHead(j.out[:0], j.attempt, j.w.id, now.Sub(j.since))
		j.since = now
		b = wire.AppendUvarint(b, uint64(j.nrec))
		b = append(b, j.recs...)
		j.w.nc.Publish(j.w.top.resultSubject(j.client), b)
		j.out = b
	}
	j.recs, j.nrec = j.recs[:0], 0
	j.recent = true
	if j.batch == nil {
		j.batch = time.AfterFunc(resultBatchWait, j.batchDue)
	} else {
		j.batch.Reset(resultBatchWait)
	}
}

// finish sends the last outcomes and acknowledges the message: the server
// removes it from the stream. A worker that stopped waiting for its calls
// hands the message back instead.
func (j *job) finish() {
	j.w.mu.Lock()
	abandoned := j.w.abandoned
	j.w.mu.Unlock()
	if j.pullNext != nil && !abandoned && j.w.pullCtx.Err() == nil {
		j.pulled = j.pullNext()
	}
	j.mu.Lock()
	j.sendLocked()
	if j.batch != nil {
		j.batch.Stop()
	}
	j.mu.Unlock()
	if abandoned {
		j.m.Nak()
	} else {
		j.m.Ack()
	}
	j.w.unhold(j)
	j.cancel(nil)
	j.dropScratch()
}

// unhold stops the heartbeats of j.
func (w *worker) unhold(j *job) {
	w.mu.Lock()
	delete(w.held, j)
	w.mu.Unlock()
}
