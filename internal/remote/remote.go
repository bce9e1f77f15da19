// Package remote turns the outcome record of a call that failed in a
// worker process into the error its future gets, for every executor that
// serves registered calls: the ProcessPool and executors of other modules
// of this repository (the cluster pool) give the same errors for the same
// records.
//
// The errors are types of package futures, which an internal package cannot
// import, so package futures installs the conversion at init, before any
// executor can run: a program that imports an executor imports futures.
package remote

import (
	"context"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Failure returns the error of a call of the registered function fn whose
// worker answered with r, a record whose Kind is not wire.KindOK; ctx is
// the context of whoever made the call (the cause of a KindCancelled
// record), and c the codec of the executor, which decodes the errors
// registered with futures.RegisterError and the panic values that r
// carries. Package futures sets it at init; it is never nil once futures is
// imported.
var Failure func(ctx context.Context, r *wire.Result, fn string, c value.Codec) error
