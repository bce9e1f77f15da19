package futurestest

import (
	"context"

	"github.com/gofutures/futures"
)

// Inline is a futures.Executor that runs each call synchronously in the
// goroutine that submits it: when Submit, Go or Execute returns, the call has
// returned and its future is done. Results are deterministic and a panic in a
// call becomes the future's *futures.PanicError, as on a pool. Python has no
// such executor; tests there often stub submit to call the function at once.
//
// Unlike a ProcessPool, Inline runs closures and arguments that no codec can
// encode; test such code against a real pool once as well.
//
// Create one with NewInline; all methods are safe for concurrent use.
type Inline struct {
	calls
}

// NewInline returns an Inline executor that accepts calls until Shutdown.
func NewInline() *Inline {
	return &Inline{calls{name: "Inline"}}
}

// Execute runs t in the caller's goroutine and returns nil once it has
// returned (a call already cancelled is dropped, and a call whose
// t.Context() is done already is cancelled, not invoked). It returns
// futures.ErrShutdown after Shutdown or Close, and an error for a nil t,
// without running anything.
//
// The call's context is derived from t.Context() and is cancelled if a
// Shutdown gives up waiting for the call.
func (in *Inline) Execute(t futures.Task) error {
	in.mu.Lock()
	if err := in.refuseLocked(t); err != nil {
		in.mu.Unlock()
		return err
	}
	c := &Call{t: t}
	ctx := in.startLocked(c)
	in.mu.Unlock()
	in.run(c, ctx)
	return nil
}

// Shutdown stops Inline from accepting calls (Execute then returns
// futures.ErrShutdown) and waits until the calls running now in other
// goroutines have returned, or until ctx ends. If ctx ends first, their
// futures fail with an error matching futures.ErrBrokenExecutor, their
// contexts are cancelled with that error as the cause, and Shutdown returns
// ctx.Err(). It returns an error for a nil ctx. It may be called any number
// of times. Python: shutdown(wait=True).
//
// Called from inside a call, Shutdown waits for that very call: give it a
// context that ends.
func (in *Inline) Shutdown(ctx context.Context, opts ...futures.ShutdownOption) error {
	return in.shutdown(ctx, opts)
}

// Refusal returns futures.ErrShutdown after Shutdown or Close and nil
// before: the error Execute would return now for any call. It makes Inline a
// futures.Refuser, so that Map over an empty input after Shutdown yields
// that error, as on the pools.
func (in *Inline) Refusal(fn any) error { return in.refusal() }

// Close is Shutdown(context.Background()): it waits for the running calls and
// returns nil. Calling it again is harmless.
func (in *Inline) Close() error { return in.Shutdown(context.Background()) }
