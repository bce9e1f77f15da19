package futures

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/serve"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Completing the tasks of calls that ran in another process, for every
// executor that serves registered calls: the ProcessPool, and through
// internal/remote the executors of other modules of this repository (the
// cluster pool), so that they take the same shortcuts for the tasks of
// this package.

// completeEncoded completes t, whose call of fn succeeded with val, encoded
// with c: a task of this package is decoded and completed at once, without
// boxing its result, and the OnDone callbacks of its future are passed to
// later; a task of another package, whose NewResult and Complete are its
// own code, is decoded and completed in a job passed to later, from a copy
// of val. If val cannot be decoded, undecodable is called first, then t
// fails with an error saying so.
func completeEncoded(t Task, fn string, c Codec, val []byte, later func(func()), undecodable func()) {
	if _, ours := t.(laterCompleter); ours {
		deliver(t, fn, c, val, later, undecodable)
		return
	}
	val = slices.Clone(val)
	later(func() { deliver(t, fn, c, val, later, undecodable) })
}

// deliver decodes val, the result of t's call of fn, and completes t with
// it, or with the error decoding gave.
func deliver(t Task, fn string, c Codec, val []byte, later func(func()), undecodable func()) {
	var v any
	var err error
	d, decodes := t.(resultDecoder)
	if decodes {
		err = d.completeFrom(c, val)
	} else {
		v = t.NewResult()
		err = value.Decode(c, val, v)
	}
	if err != nil {
		undecodable()
		endTask(t, nil, fmt.Errorf("futures: cannot decode the result of %s with %s: %w", registry.ShortName(fn), c.Name(), err), later)
		return
	}
	if !decodes {
		endTask(t, v, nil, later)
	}
}

// endTask completes t with the value result points to, or with err: a task
// of this package passes the OnDone callbacks of its future to later, and
// the Complete of a task of another package runs in a job passed to later.
func endTask(t Task, result any, err error, later func(func())) {
	if lc, ok := t.(laterCompleter); ok {
		lc.completeLater(result, err, later)
		return
	}
	later(func() { t.Complete(result, err) })
}

// appendArg appends t's argument, if it has one, encoded with c as a value
// of typ, the type of the function's parameter (value.AppendAs), to dst,
// without boxing it for the tasks of this package. It reports whether t has
// an argument; on an error it returns dst as it was.
func appendArg(dst []byte, t Task, c Codec, typ reflect.Type) (out []byte, hasArg bool, err error) {
	if e, ok := t.(argEncoder); ok {
		out, err = e.appendArg(dst, c)
	} else if a, ok := t.Arg(); ok {
		out, err = value.AppendAs(dst, c, a, typ)
	} else {
		return dst, false, nil
	}
	if err != nil {
		return dst, true, err
	}
	return out, true, nil
}

// remoteFailure turns a failure record from a worker into the call's error,
// decoding the errors and panic values it carries with c, for every
// executor that serves registered calls (internal/remote).
func remoteFailure(ctx context.Context, r *wire.Result, fn string, c value.Codec) error {
	switch r.Kind {
	case wire.KindError:
		return remoteError(r, c)
	case wire.KindPanic:
		return &PanicError{Value: panicValue(r, c), Stack: []byte(r.Stack)}
	case wire.KindTimeout:
		return &timeoutError{fn: registry.ShortName(fn), limit: r.Message}
	case wire.KindCancelled:
		return notStartedError(ctx)
	case wire.KindFail:
		if r.Type == serve.FailNotRegistered {
			return &registry.NotRegisteredError{Name: r.Message, InWorker: true}
		}
		return errors.New(r.Message)
	}
	return errors.New("futures: the worker reported a call as successful without a value")
}

func init() {
	remote.Failure = remoteFailure
	remote.Complete = func(t any, fn string, c value.Codec, val []byte, later func(func()), undecodable func()) {
		completeEncoded(t.(Task), fn, c, val, later, undecodable)
	}
	remote.End = func(t any, result any, err error, later func(func())) { endTask(t.(Task), result, err, later) }
	remote.AppendArg = func(dst []byte, t any, c value.Codec, typ reflect.Type) ([]byte, bool, error) {
		return appendArg(dst, t.(Task), c, typ)
	}
}
