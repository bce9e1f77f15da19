package futures

import (
	"context"
	"log/slog"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/procpool"
	"github.com/gofutures/futures/internal/value"
)

// poolTasks is how a ProcessPool's procpool.Pool handles Tasks: through
// the optional methods of capabilities.go, for the fast paths and exact
// counts of this package's tasks, and through Task for the others.
type poolTasks struct{ p *ProcessPool }

func (poolTasks) Context(t Task) context.Context { return t.Context() }
func (poolTasks) Func(t Task) any                { return t.Func() }
func (poolTasks) Start(t Task) bool              { return t.Start() }
func (poolTasks) Cancel(t Task)                  { t.Cancel() }
func (poolTasks) Fail(t Task, err error)         { t.Complete(nil, err) }
func (poolTasks) Ending(t Task) counts.Ending    { return endOf(t) }

func (poolTasks) FuncKey(t Task) (any, bool) {
	if fk, ok := t.(funcKeyer); ok {
		return fk.funcKey(), true
	}
	return nil, false
}

func (poolTasks) EncodeChunk(ts []Task, c value.Codec) ([]byte, []int, bool) {
	ce, ok := ts[0].(chunkEncoder)
	if !ok {
		return nil, nil, false
	}
	ends := make([]int, len(ts))
	args, ok := ce.encodeChunk(ts, c, ends)
	return args, ends, ok
}

func (poolTasks) CarriesDeadline(t Task) bool {
	dc, ok := t.(deadlineCarrier)
	return ok && dc.carriesDeadline()
}

func (pt poolTasks) Own(t Task) (owned, pending bool) { return ownBy(t, pt.p) }

func (poolTasks) Owned(t Task) bool {
	_, ok := t.(ownedTask)
	return ok
}

// poolErrors makes the errors of a ProcessPool's procpool.Pool.
type poolErrors struct{}

func (poolErrors) Shutdown() error { return ErrShutdown }

func (poolErrors) Broken(msg string, cause error) error { return &brokenError{msg: msg, cause: cause} }

func (poolErrors) Timeout(fn, limit string) error { return &timeoutError{fn: fn, limit: limit} }

func (poolErrors) Exited(e procpool.Exit) error {
	return &WorkerExitError{PID: e.PID, ExitCode: e.ExitCode, Signal: e.Signal, Stderr: e.Stderr, Reason: e.Reason, during: e.During, then: e.Then}
}

// guardJobs is the Guard of a ProcessPool's procpool.Pool: runGuarded, which
// logs a panic with its stack.
func guardJobs(body func(), settle func(error)) {
	runGuarded(func() (struct{}, error) { body(); return struct{}{}, nil }, nil, func(_ struct{}, err error) {
		if pe, ok := err.(*PanicError); ok {
			slog.Error("futures: completing a call of a ProcessPool panicked; the pool goes on", "error", err, "stack", string(pe.Stack))
		}
		settle(err)
	})
}
