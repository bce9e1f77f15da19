// Package remote completes the futures of calls that ran in a worker
// process, for every executor that serves registered calls: the ProcessPool
// and executors of other modules of this repository (the cluster pool) give
// the same errors for the same records, and take the same shortcuts for the
// tasks of package futures (decoding a result without boxing it, running
// no user code where they complete a call).
//
// The errors and tasks are types of package futures, which an internal
// package cannot import, so package futures installs these functions at
// init, before any executor can run: a program that imports an executor
// imports futures. Each is never nil once futures is imported.
package remote

import (
	"context"
	"reflect"

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

// Complete completes t, a futures.Task whose call of fn succeeded with val,
// encoded with c. A task of package futures is decoded and completed in
// the caller, which val need only outlive, and the OnDone callbacks of its
// future are passed to later; another task is completed in a job passed to
// later, from a copy of val. If val cannot be decoded, undecodable is
// called, then t fails with an error saying so.
var Complete func(t any, fn string, c value.Codec, val []byte, later func(func()), undecodable func())

// End completes t, a futures.Task, with the value result points to, or with
// err: a task of package futures passes the OnDone callbacks of its future
// to later, and the Complete of another task runs in a job passed to later.
var End func(t any, result any, err error, later func(func()))

// AppendArg appends the argument of t, a futures.Task, encoded with c as a
// value of typ, the type of the function's parameter (value.AppendAs), to
// dst, without boxing it for the tasks of package futures; it reports
// whether t has an argument, and returns dst as it was with the error the
// codec gave.
var AppendArg func(dst []byte, t any, c value.Codec, typ reflect.Type) (out []byte, hasArg bool, err error)
