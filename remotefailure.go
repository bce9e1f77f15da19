package futures

import (
	"context"
	"errors"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/serve"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

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

func init() { remote.Failure = remoteFailure }
