package futurestest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// brokenEnv names, in the environment of a copy of this test binary, the
// broken executor TestBrokenExecutor runs the suite on.
const brokenEnv = "FUTURESTEST_BROKEN_EXECUTOR"

// A broken executor is a ThreadPool with one defect, each of which some
// subtest of TestExecutor must catch.
var broken = map[string]struct {
	subtest string // the subtest that must fail
	wrap    func(*futures.ThreadPool) futures.Executor
}{
	"drops errors": {"Submit/Errors", func(p *futures.ThreadPool) futures.Executor {
		return rewrites{p, func(v int, _ error) (int, error) { return v, nil }}
	}},
	"turns panics into plain errors": {"Submit/Panic", func(p *futures.ThreadPool) futures.Executor {
		return rewrites{p, func(v int, err error) (int, error) { return v, err }}
	}},
	"loses the identity of errors": {"RegisterError", func(p *futures.ThreadPool) futures.Executor {
		return rewrites{p, func(v int, err error) (int, error) {
			if err != nil { // what a ProcessPool did before RegisterError
				err = &futures.RemoteError{Type: fmt.Sprintf("%T", err), Message: err.Error()}
			}
			return v, err
		}}
	}},
	"runs cancelled calls":   {"Cancel/Queued", func(p *futures.ThreadPool) futures.Executor { return runsCancelled{p} }},
	"miscounts":              {"Submit/Values", func(p *futures.ThreadPool) futures.Executor { return miscounts{p} }},
	"does not wait":          {"Shutdown/Waits", func(p *futures.ThreadPool) futures.Executor { return doesNotWait{p} }},
	"accepts after shutdown": {"Shutdown/Refuses", func(p *futures.ThreadPool) futures.Executor { return &acceptsAfterShutdown{ThreadPool: p} }},
}

// TestBrokenExecutor runs TestExecutor on the broken executor named by
// brokenEnv, in the copy of the test binary that TestSuiteCatchesDefects
// starts; it is skipped otherwise.
func TestBrokenExecutor(t *testing.T) {
	b, ok := broken[os.Getenv(brokenEnv)]
	if !ok {
		t.Skip("runs only in a copy of the test binary started by TestSuiteCatchesDefects")
	}
	futurestest.TestExecutor(t, func(t *testing.T) futures.Executor {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		if err != nil {
			t.Fatal(err)
		}
		return b.wrap(p)
	})
}

// TestSuiteCatchesDefects checks that TestExecutor fails each broken
// executor in the subtest meant to catch its defect, by running that
// subtest in a copy of this test binary.
func TestSuiteCatchesDefects(t *testing.T) {
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			run := "^TestBrokenExecutor$/^" + strings.ReplaceAll(b.subtest, "/", "$/^") + "$"
			cmd := exec.Command(os.Args[0], "-test.run", run, "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "--- FAIL: TestBrokenExecutor/"+b.subtest+" ") {
				t.Errorf("TestExecutor/%s did not fail an executor that %s (exit: %v); output:\n%s", b.subtest, name, err, out)
			}
		})
	}
}

// rewrites runs the calls of func(context.Context, int) (int, error)
// itself, turning a panic into a plain error, and completes them with what
// rewrite makes of their outcome.
type rewrites struct {
	*futures.ThreadPool
	rewrite func(v int, err error) (int, error)
}

func (r rewrites) Execute(t futures.Task) error { return r.ThreadPool.Execute(rewritten{t, r.rewrite}) }

type rewritten struct {
	futures.Task
	rewrite func(v int, err error) (int, error)
}

func (r rewritten) Run(ctx context.Context) {
	fn, ok := r.Func().(func(context.Context, int) (int, error))
	arg, _ := r.Arg()
	n, isInt := arg.(int)
	if !ok || !isInt {
		r.Task.Run(ctx)
		return
	}
	v, err := func() (v int, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		return fn(ctx, n)
	}()
	v, err = r.rewrite(v, err)
	r.Complete(&v, err)
}

// runsCancelled starts every call, cancelled or not.
type runsCancelled struct{ *futures.ThreadPool }

func (r runsCancelled) Execute(t futures.Task) error { return r.ThreadPool.Execute(alwaysStarts{t}) }

type alwaysStarts struct{ futures.Task }

func (a alwaysStarts) Start() bool {
	a.Task.Start()
	return true
}

// miscounts reports one success too many.
type miscounts struct{ *futures.ThreadPool }

func (m miscounts) Stats() futures.Stats {
	st := m.ThreadPool.Stats()
	st.Succeeded++
	return st
}

// doesNotWait returns from Shutdown before its calls have finished.
type doesNotWait struct{ *futures.ThreadPool }

func (d doesNotWait) Shutdown(ctx context.Context, opts ...futures.ShutdownOption) error {
	go d.ThreadPool.Shutdown(context.Background(), opts...)
	return nil
}

func (d doesNotWait) Close() error { return d.Shutdown(context.Background()) }

// acceptsAfterShutdown runs calls submitted after Shutdown on a pool of its
// own.
type acceptsAfterShutdown struct {
	*futures.ThreadPool
	after *futures.ThreadPool
}

func (a *acceptsAfterShutdown) Execute(t futures.Task) error {
	if a.after != nil {
		return a.after.Execute(t)
	}
	return a.ThreadPool.Execute(t)
}

func (a *acceptsAfterShutdown) Shutdown(ctx context.Context, opts ...futures.ShutdownOption) error {
	err := a.ThreadPool.Shutdown(ctx, opts...)
	if a.after == nil {
		a.after, _ = futures.NewThreadPool()
	} else {
		a.after.Shutdown(ctx, opts...)
	}
	return err
}

func (a *acceptsAfterShutdown) Close() error { return a.Shutdown(context.Background()) }
