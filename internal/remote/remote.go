// Package remote completes the futures of calls that ran in a worker
// process, for every executor that serves registered calls: the ProcessPool
// and executors of other modules of this repository (the cluster pool) give
// the same errors for the same records, and take the same shortcuts for the
// tasks of package futures (decoding a result without boxing it, running
// no user code where they complete a call).
//
// A task here is a futures.Task, passed as any; the shortcuts are the
// optional methods of the tasks of package futures (LaterCompleter,
// ResultDecoder, ArgEncoder). The errors are types of package futures,
// which an internal package cannot import, so package futures installs
// Failure at init, before any executor can run: a program that imports an
// executor imports futures. It is never nil once futures is imported.
package remote

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Failure returns the error of a call of the registered function fn whose
// worker answered with r, a record whose Kind is not wire.KindOK; ctx is
// the context of whoever made the call (the cause of a KindCancelled
// record), and c the codec of the executor, which decodes the errors
// registered with futures.RegisterError and the panic values that r
// carries.
var Failure func(ctx context.Context, r *wire.Result, fn string, c value.Codec) error

// Task is the part of a futures.Task this package uses when a task has
// none of the optional methods below.
type Task interface {
	Arg() (any, bool)
	NewResult() any
	Complete(result any, err error) bool
}

// LaterCompleter is implemented by the tasks of package futures:
// CompleteLater is Complete, except that, with later not nil, the OnDone
// callbacks of the future are passed to later to run instead of being run
// in the caller. A task that implements it runs no other code of its user
// when it completes, so an executor may complete it from the goroutine
// that reads results; another task is completed in a job passed to later.
type LaterCompleter interface {
	CompleteLater(result any, err error, later func(func())) bool
}

// ResultDecoder is implemented by the tasks of package futures that decode
// a result themselves (Map's items): CompleteFrom decodes data and
// completes the task with it, or returns the error decoding gave, leaving
// the task as it is. The results of other tasks are decoded into
// Task.NewResult and completed with Task.Complete.
type ResultDecoder interface {
	CompleteFrom(c value.Codec, data []byte) error
}

// ArgEncoder is implemented by the tasks of package futures whose function
// takes an argument (Submit's and Map's): AppendArg appends the argument,
// encoded with c, to dst without boxing it. Other tasks' arguments are
// encoded from Task.Arg.
type ArgEncoder interface {
	AppendArg(dst []byte, c value.Codec) ([]byte, error)
}

// BytesArg is implemented by the tasks of package futures whose function
// takes an argument: ArgBytes returns the argument if it is a []byte,
// without boxing it.
type BytesArg interface {
	ArgBytes() ([]byte, bool)
}

// SplitArg returns the argument of t, a futures.Task, encoded with c as
// head followed by tail, the caller's own bytes, if it is a []byte of at
// least wire.SpliceAbove bytes that c encodes so (see value.SplitBytes); head
// is appended to dst. Otherwise ok is false: the argument is encoded with
// AppendArg. tail must not change until the call is written; a goroutine
// given the same slice would see a change too.
func SplitArg(dst []byte, t any, c value.Codec) (head, tail []byte, ok bool) {
	a, isBytes := t.(BytesArg)
	if !isBytes {
		return dst, nil, false
	}
	b, isBytes := a.ArgBytes()
	if !isBytes {
		return dst, nil, false
	}
	if head, ok = value.SplitBytes(dst, c, b, wire.SpliceAbove); !ok {
		return dst, nil, false
	}
	return head, b, true
}

// Complete completes t, a futures.Task whose call of fn succeeded with val,
// encoded with c. A LaterCompleter is decoded and completed in the caller,
// which val need only outlive, and the OnDone callbacks of its future are
// passed to later; another task is completed in a job passed to later,
// from a copy of val. If val cannot be decoded, undecodable is called, then
// t fails with an error saying so.
func Complete(t any, fn string, c value.Codec, val []byte, later func(func()), undecodable func()) {
	if _, ours := t.(LaterCompleter); ours {
		deliver(t, fn, c, val, later, undecodable)
		return
	}
	val = slices.Clone(val)
	later(func() { deliver(t, fn, c, val, later, undecodable) })
}

// deliver decodes val, the result of t's call of fn, and completes t with
// it, or with the error decoding gave.
func deliver(t any, fn string, c value.Codec, val []byte, later func(func()), undecodable func()) {
	var v any
	var err error
	d, decodes := t.(ResultDecoder)
	if decodes {
		err = d.CompleteFrom(c, val)
	} else {
		v = t.(Task).NewResult()
		err = value.Decode(c, val, v)
	}
	if err != nil {
		undecodable()
		End(t, nil, fmt.Errorf("futures: cannot decode the result of %s with %s: %w", registry.ShortName(fn), c.Name(), err), later)
		return
	}
	if !decodes {
		End(t, v, nil, later)
	}
}

// End completes t, a futures.Task, with the value result points to, or with
// err: a LaterCompleter passes the OnDone callbacks of its future to later,
// and the Complete of another task runs in a job passed to later.
func End(t any, result any, err error, later func(func())) {
	if lc, ok := t.(LaterCompleter); ok {
		lc.CompleteLater(result, err, later)
		return
	}
	later(func() { t.(Task).Complete(result, err) })
}

// AppendArg appends the argument of t, a futures.Task, encoded with c as a
// value of typ, the type of the function's parameter (value.AppendAs), to
// dst, without boxing it for an ArgEncoder; it reports whether t has an
// argument, and returns dst as it was with the error the codec gave.
func AppendArg(dst []byte, t any, c value.Codec, typ reflect.Type) (out []byte, hasArg bool, err error) {
	if e, ok := t.(ArgEncoder); ok {
		out, err = e.AppendArg(dst, c)
	} else if a, ok := t.(Task).Arg(); ok {
		out, err = value.AppendAs(dst, c, a, typ)
	} else {
		return dst, false, nil
	}
	if err != nil {
		return dst, true, err
	}
	return out, true, nil
}
