package serve

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

func init() {
	registry.Register("", workerWait)
	registry.Register("", workerCtx)
	registry.Register("", workerGoexit)
	registry.Register("", workerKeep)
	value.Register(aliasingCodec{})
}

// workerGate is what workerWait waits for.
var workerGate atomic.Pointer[gate]

// gate is a channel closed once, by the test or, if the test hangs, by a
// safety timer; forced says which.
type gate struct {
	ch     chan struct{}
	once   sync.Once
	forced atomic.Bool
}

// newGate installs a gate for workerWait. It opens by itself after a
// minute, long after any worker should have answered, so that a worker
// that holds results back fails the test instead of hanging it.
func newGate(t *testing.T) *gate {
	g := &gate{ch: make(chan struct{})}
	workerGate.Store(g)
	safety := time.AfterFunc(time.Minute, func() {
		g.forced.Store(true)
		g.open()
	})
	t.Cleanup(func() {
		safety.Stop()
		g.open()
	})
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// workerWait returns x once the gate opens, or its context's error.
func workerWait(ctx context.Context, x int) (int, error) {
	select {
	case <-workerGate.Load().ch:
		return x, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// workerCtxs receives the context of every workerCtx call, and its error
// during the call.
var workerCtxs = make(chan seenCtx, 16)

type seenCtx struct {
	ctx context.Context
	err error
}

func workerCtx(ctx context.Context, x int) (int, error) {
	workerCtxs <- seenCtx{ctx, ctx.Err()}
	return x, nil
}

func workerGoexit(context.Context, int) (int, error) {
	runtime.Goexit()
	return 0, nil
}

// regName returns the registered name of fn.
func regName(t *testing.T, fn any) string {
	rf, err := registry.Lookup(fn)
	require.NoError(t, err)
	return rf.Name()
}

// intCall returns a call of fn on x in group.
func intCall(t *testing.T, fn any, group uint64, x int) wire.Call {
	arg, err := value.Append(nil, value.Gob, x)
	require.NoError(t, err)
	return wire.Call{Group: group, Flags: wire.FlagArg, Func: regName(t, fn), Arg: arg}
}

// frame returns a TCalls frame of calls, numbered from id on.
func frame(id uint64, calls ...wire.Call) []byte {
	var b wire.CallsBuilder
	for i := range calls {
		calls[i].ID = id + uint64(i)
		b.Add(&calls[i])
	}
	return written(&b)
}

// collect reads results until it has n, and returns them by id.
func (h *workerHarness) collect(t *testing.T, n int) map[uint64]wire.Result {
	var rs []wire.Result
	for len(rs) < n {
		var err error
		rs, err = h.results(rs)
		require.NoError(t, err)
	}
	require.Len(t, rs, n, "more results than calls")
	byID := map[uint64]wire.Result{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	return byID
}

func decodeInt(t *testing.T, r wire.Result) int {
	require.Equal(t, wire.KindOK, r.Kind, "call %d: %s", r.ID, r.Message)
	var v int
	require.NoError(t, value.Decode(value.Gob, r.Value, &v))
	return v
}

func TestWorkerWritesResultsBeforeALongCall(t *testing.T) {
	h := startWorker(t, value.Gob, 0)
	g := newGate(t)
	h.send(t, frame(1, intCall(t, workerInc, 0, 10), intCall(t, workerInc, 0, 20), intCall(t, workerWait, 0, 30)))
	rs := h.collect(t, 2)
	assert.False(t, g.forced.Load(), "the results of the calls before a long call waited for it")
	assert.Equal(t, 11, decodeInt(t, rs[1]))
	assert.Equal(t, 21, decodeInt(t, rs[2]))
	g.open()
	assert.Equal(t, 30, decodeInt(t, h.collect(t, 1)[3]))
}

func TestWorkerGroupContexts(t *testing.T) {
	h := startWorker(t, value.Gob, 0)
	g := newGate(t)
	// Two frames of group 7: the group lives on while either has calls.
	h.send(t, frame(1, intCall(t, workerCtx, 7, 1), intCall(t, workerWait, 7, 2)))
	first := <-workerCtxs
	h.send(t, frame(3, intCall(t, workerCtx, 7, 3)))
	assert.Equal(t, 1, decodeInt(t, h.collect(t, 1)[1]))
	require.NoError(t, first.err)
	require.NoError(t, first.ctx.Err(), "the group's context ended while its calls run")
	g.open()
	rs := h.collect(t, 2)
	assert.Equal(t, 2, decodeInt(t, rs[2]))
	assert.Equal(t, 3, decodeInt(t, rs[3]))
	assert.NoError(t, (<-workerCtxs).err, "a call of a group ran with its context ended")
	select {
	case <-first.ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("the context of a group whose calls are over did not end")
	}

	// The pool cancels a group while its call runs.
	newGate(t)
	h.send(t, frame(4, intCall(t, workerWait, 9, 4)))
	// Once the call is marked started it is invoked: a cancel sent
	// before would make it a call not started.
	for deadline := time.Now().Add(time.Minute); atomic.LoadUint64(h.page.Started()) != 4; time.Sleep(time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "call 4 did not start")
	}
	h.send(t, wire.AppendCancel(nil, []uint64{9}))
	r := h.collect(t, 1)[4]
	assert.Equal(t, wire.KindError, r.Kind)
	assert.Equal(t, context.Canceled.Error(), r.Message)

	// A call sent cancelled among calls of a group, and a call without
	// one: the cancelled call is not invoked.
	cancelled := intCall(t, workerCtx, 5, 11)
	cancelled.Flags |= wire.FlagCancelled
	h.send(t, frame(10, intCall(t, workerCtx, 5, 10), cancelled, intCall(t, workerCtx, 5, 12), intCall(t, workerCtx, 0, 13)))
	rs = h.collect(t, 4)
	ctxs := []seenCtx{<-workerCtxs, <-workerCtxs, <-workerCtxs}
	for id := uint64(10); id < 14; id++ {
		want := wire.KindOK
		if id == 11 {
			want = wire.KindCancelled
		}
		assert.Equal(t, want, rs[id].Kind, "call %d", id)
	}
	assert.NoError(t, ctxs[0].err)
	assert.NoError(t, ctxs[1].err)
	assert.Same(t, ctxs[0].ctx, ctxs[1].ctx, "the calls of a group in one frame share its context")
	assert.NoError(t, ctxs[2].ctx.Err())
	assert.NotSame(t, ctxs[0].ctx, ctxs[2].ctx)
	select {
	case <-ctxs[0].ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("the context of a group whose calls are over did not end")
	}
}

func TestWorkerGoexitInTheMiddleOfAFrame(t *testing.T) {
	h := startWorker(t, value.Gob, 0)
	h.send(t, frame(1, intCall(t, workerInc, 0, 1), intCall(t, workerGoexit, 0, 2), intCall(t, workerInc, 0, 3)))
	rs := h.collect(t, 3)
	assert.Equal(t, 2, decodeInt(t, rs[1]))
	assert.Equal(t, wire.KindFail, rs[2].Kind)
	assert.Contains(t, rs[2].Message, "runtime.Goexit")
	assert.Equal(t, 4, decodeInt(t, rs[3]))
}

func TestWorkerTaskTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	h := startWorker(t, value.Gob, timeout)
	g := newGate(t)
	h.send(t, frame(1, intCall(t, workerWait, 0, 1), intCall(t, workerInc, 0, 2)))
	r := h.collect(t, 1)[1]
	assert.Equal(t, wire.KindTimeout, r.Kind)
	assert.Equal(t, timeout.String(), r.Message)
	// The call that timed out reports nothing more, and the worker, which
	// its pool kills, starts no other call: it exits once the call returns.
	h.exit = ExitTimedOut
	g.open()
	rs, err := h.results(nil)
	assert.ErrorIs(t, err, io.EOF)
	assert.Empty(t, rs)
	assert.Equal(t, uint64(1), atomic.LoadUint64(h.page.Started()), "a call started after the timeout")
}

// aliasingCodec handles []byte only, and decodes without copying: the
// decoded slice is the encoded bytes.
type aliasingCodec struct{}

func (aliasingCodec) Name() string { return "futures-test-aliasing" }

func (aliasingCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }

func (aliasingCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = data
	return nil
}

// workerKept holds the arguments of workerKeep calls.
var workerKept = make(chan []byte, 16)

func workerKeep(_ context.Context, b []byte) ([]byte, error) {
	workerKept <- b
	return b, nil
}

func TestWorkerArgumentsOutliveTheirFrame(t *testing.T) {
	h := startWorker(t, aliasingCodec{}, 0)
	for i, s := range []string{"first", "second", "third"} {
		arg, err := value.Append(nil, aliasingCodec{}, []byte(s))
		require.NoError(t, err)
		h.send(t, frame(uint64(i+1), wire.Call{Flags: wire.FlagArg, Func: regName(t, workerKeep), Arg: arg}))
		r := h.collect(t, 1)[uint64(i+1)]
		assert.Equal(t, wire.KindOK, r.Kind, r.Message)
	}
	for _, want := range []string{"first", "second", "third"} {
		assert.Equal(t, want, string(<-workerKept), "a codec that keeps the bytes it decodes from saw them change")
	}
}

// A group's first call with FlagDeadline gives the group's context a
// deadline that far off; a call of a group without one gets none.
func TestWorkerGroupDeadline(t *testing.T) {
	h := startWorker(t, value.Gob, 0)
	timed := intCall(t, workerCtx, 3, 1)
	timed.Flags |= wire.FlagDeadline
	timed.Deadline = uint64(time.Hour)
	before := time.Now()
	h.send(t, frame(1, timed, intCall(t, workerCtx, 4, 2)))
	rs := h.collect(t, 2)
	assert.Equal(t, wire.KindOK, rs[1].Kind)
	seen := []seenCtx{<-workerCtxs, <-workerCtxs}
	d, ok := seen[0].ctx.Deadline()
	assert.True(t, ok, "the call of a group sent with a deadline has none")
	assert.False(t, d.Before(before.Add(time.Hour)) || d.After(time.Now().Add(time.Hour)), "deadline %v, want an hour after the frame was read", d)
	_, ok = seen[1].ctx.Deadline()
	assert.False(t, ok, "a group sent without a deadline has one")
}

// written returns the TCalls frame of b's records, as written to a pipe.
func written(b *wire.CallsBuilder) []byte {
	var o wire.Out
	b.AppendTo(&o)
	var w bytes.Buffer
	if _, err := o.WriteTo(&w); err != nil {
		panic(err)
	}
	return w.Bytes()
}
