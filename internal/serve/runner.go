package serve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"github.com/gofutures/futures/internal/errtree"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Kinds of KindFail results, in Result.Type.
const (
	FailNotRegistered = "not-registered"
	FailCodec         = "codec"
)

// ErrGoexit is the error of a call that called runtime.Goexit, which
// testing's FailNow and friends do.
var ErrGoexit = errors.New("futures: the call called runtime.Goexit before returning (t.FailNow, t.Fatal and t.SkipNow do that); return an error instead")

// Runner runs registered calls, one at a time, and turns their outcomes
// into wire.Results: it is what serves a call, whatever carried it. Serve
// runs one over pipes; another transport makes its own with NewRunner and
// reports the results of Run its own way.
type Runner struct {
	codec   value.Codec
	timeout time.Duration
	pid     int
	// onTimeout reports the outcome of a call that overran timeout, in
	// the timer's goroutine.
	onTimeout func(*wire.Result)
	// onGoexit reports the outcome of a call that called runtime.Goexit,
	// in its goroutine, before the goroutine ends; nil drops it.
	onGoexit func(*wire.Result)
	// onStart, if not nil, is told the id of each call as it starts: once
	// its argument is decoded, just before the function runs.
	onStart func(id uint64)
	scratch []byte // the encoded result of the call running now

	// The call running now: its id, and its timer once it started.
	id      uint64
	timer   *callTimer
	started func() // r.start, made once
}

// NewRunner returns a Runner that decodes arguments and encodes results
// with c. If timeout is positive, a call whose function runs longer fails:
// onTimeout gets a KindTimeout result, in a goroutine of its own, and the
// call's own outcome is dropped once it returns; the time counts from the
// moment its argument is decoded, so that neither the transport nor the
// decoding of a large argument counts against it. onGoexit, if not nil,
// gets the outcome of a call that ends its goroutine with runtime.Goexit,
// in that goroutine, before it ends.
func NewRunner(c value.Codec, timeout time.Duration, onTimeout, onGoexit func(*wire.Result)) *Runner {
	r := &Runner{codec: c, timeout: timeout, pid: os.Getpid(), onTimeout: onTimeout, onGoexit: onGoexit}
	r.started = r.start
	return r
}

// start starts the call r runs now: it tells onStart and starts the
// call's timer.
func (r *Runner) start() {
	if r.onStart != nil {
		r.onStart(r.id)
	}
	if r.timeout > 0 {
		r.timer = r.startTimer(r.id)
	}
}

// Run runs fn, registered as name (nil if it is not registered here), on
// arg, the encoded argument or nil, for the call id with context ctx. It
// sets *res to the call's outcome and reports whether to send it: false if
// the timer reported a timeout instead. A call whose context has ended
// already is not invoked: its outcome is KindCancelled. If the call ends
// its goroutine with runtime.Goexit, Run does not return: onGoexit gets the
// outcome instead. A successful result's Value is in r's scratch buffer,
// valid until the next call; its ValueTail, if any, is the function's own
// bytes.
func (r *Runner) Run(ctx context.Context, res *wire.Result, id uint64, fn *registry.Func, name string, arg []byte) (report bool) {
	if ctx.Err() != nil {
		*res = wire.Result{ID: id, Kind: wire.KindCancelled}
		return true
	}
	r.id, r.timer = id, nil
	r.invoke(ctx, res, id, fn, name, arg, r.started)
	t := r.timer
	r.timer = nil
	return t == nil || t.stop()
}

// callTimer reports a timeout for a call that overruns its Runner's
// timeout.
type callTimer struct {
	timer    *time.Timer
	timedOut chan struct{} // closed once the timer reported the timeout
}

// startTimer starts the timeout timer of the call id.
func (r *Runner) startTimer(id uint64) *callTimer {
	t := &callTimer{timedOut: make(chan struct{})}
	t.timer = time.AfterFunc(r.timeout, func() {
		r.onTimeout(&wire.Result{ID: id, Kind: wire.KindTimeout, Message: r.timeout.String()})
		close(t.timedOut)
	})
	return t
}

// stop stops t and reports whether it did so in time for the call to
// report its own outcome: false if the timer reported a timeout. Once it
// returns, the timer is over.
func (t *callTimer) stop() bool {
	if t.timer.Stop() {
		return true
	}
	<-t.timedOut
	return false
}

// invoke calls fn, registered as name (nil if not registered here), for
// the call id, and sets *res to its outcome, a panic included; started, if
// not nil, is called once the argument is decoded. If the call calls
// runtime.Goexit, onGoexit gets its outcome, unless its timer, once started
// (r.timer), reported a timeout. A successful result's Value is in r's
// scratch buffer, valid until the next call.
func (r *Runner) invoke(ctx context.Context, res *wire.Result, id uint64, fn *registry.Func, name string, arg []byte, started func()) {
	if fn == nil {
		*res = wire.Result{ID: id, Kind: wire.KindFail, Type: FailNotRegistered, Message: name}
		return
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			stack := string(debug.Stack())
			val, text := errtree.AppendPanic(nil, v, r.codec)
			*res = wire.Result{ID: id, Kind: wire.KindPanic, Message: text, Stack: stack, Value: val}
			fit(res)
			return
		}
		// runtime.Goexit: the goroutine ends once its deferred calls ran.
		// The outcome goes to onGoexit in a variable of its own, so that
		// res, which the caller keeps on its stack, does not escape.
		g := wire.Result{ID: id, Kind: wire.KindFail, Message: ErrGoexit.Error()}
		if (r.timer == nil || r.timer.stop()) && r.onGoexit != nil {
			r.onGoexit(&g)
		}
	}()
	out, tail, err, codecErr := fn.Call(ctx, r.codec, arg, r.scratch[:0], started)
	if err != nil && codecErr == nil {
		// The error's methods are the call's code: a runtime.Goexit in
		// them is the call's.
		*res = wire.Result{ID: id, Kind: wire.KindError, Type: fmt.Sprintf("%T", err), Message: errtree.Text(err),
			Stack: fmt.Sprintf("%s, in worker process %d", name, r.pid), Value: errtree.Append(nil, err, r.codec)}
		fit(res)
	}
	returned = true
	switch {
	case codecErr != nil:
		*res = wire.Result{ID: id, Kind: wire.KindFail, Type: FailCodec,
			Message: fmt.Sprintf("futures: the worker cannot %v (function %s, codec %s); use types the codec supports", codecErr, registry.ShortName(name), r.codec.Name())}
	case err != nil: // *res is set
	case len(out)+len(tail) > wire.MaxFrame-resultOverhead:
		*res = wire.Result{ID: id, Kind: wire.KindFail, Type: FailCodec,
			Message: fmt.Sprintf("futures: the result of %s is %d bytes encoded, more than the %d bytes a message from a worker process can carry; return the data another way, such as a file", registry.ShortName(name), len(out)+len(tail), wire.MaxFrame-resultOverhead)}
	default:
		// The scratch buffer is reused by the next call, so it is kept
		// only below the size from which the results to write refer to a
		// value instead of copying it (wire.Out).
		if cap(out) < wire.SpliceAbove {
			r.scratch = out
		}
		*res = wire.Result{ID: id, Kind: wire.KindOK, Value: out, ValueTail: tail}
	}
}

// resultOverhead is the most a frame holding one successful result adds to
// its value: the frame's type, the count, the call's id, the kind and the
// value's length.
const resultOverhead = 2 + 3*binary.MaxVarintLen64

// failureOverhead is the most a frame holding one failure adds to its
// type, message, stack and value: the frame's type, the count, the call's
// id, the kind and four lengths.
const failureOverhead = 2 + 6*binary.MaxVarintLen64

// fit makes res, a failure, fit in a frame: if it is too big, its value
// is dropped, so that the failure crosses as its text, and then its texts
// are cut short.
func fit(res *wire.Result) {
	room := wire.MaxFrame - failureOverhead
	if len(res.Type)+len(res.Message)+len(res.Stack)+len(res.Value) <= room {
		return
	}
	res.Value = nil
	res.Type = cut(res.Type, room/4)
	res.Stack = cut(res.Stack, room/4)
	res.Message = cut(res.Message, room-len(res.Type)-len(res.Stack))
}

// cut returns s cut to at most n bytes, at the start of a character, with
// a mark of the cut.
func cut(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	n -= len(mark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:max(n, 0)] + mark
}
