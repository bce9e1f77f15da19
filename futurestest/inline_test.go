package futurestest_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

var errOdd = errors.New("odd input")

// double returns 2*x, or errOdd for an odd x.
func double(_ context.Context, x int) (int, error) {
	if x%2 != 0 {
		return 0, errOdd
	}
	return 2 * x, nil
}

func TestInlineRunsInSubmit(t *testing.T) {
	in := futurestest.NewInline()
	ran := false
	f := futures.Go(in, func(context.Context) (int, error) {
		ran = true
		return 42, nil
	})
	if !ran || f.State() != futures.Finished {
		t.Fatalf("after Go returned: ran = %v, State() = %v; want true, finished", ran, f.State())
	}
	if v, err := f.Result(context.Background()); v != 42 || err != nil {
		t.Fatalf("Result() = %v, %v; want 42, nil", v, err)
	}
	if _, err := futures.Submit(in, double, 3).Result(context.Background()); !errors.Is(err, errOdd) {
		t.Fatalf("Submit(double, 3) error = %v, want errOdd", err)
	}
}

func TestInlinePanicBecomesPanicError(t *testing.T) {
	in := futurestest.NewInline()
	f := futures.Go(in, func(context.Context) (int, error) { panic("kaput") })
	var pe *futures.PanicError
	if !errors.As(f.Err(), &pe) || pe.Value != "kaput" || len(pe.Stack) == 0 {
		t.Fatalf("Err() = %#v, want a *futures.PanicError with value kaput and a stack", f.Err())
	}
	if err := in.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
}

// TestInlineGoexit shows the call runs in the submitting goroutine: a
// runtime.Goexit in the call ends that goroutine, and Inline still knows the
// call is over (Close does not wait for it).
func TestInlineGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := futurestest.NewInline()
		returned := false
		done := make(chan struct{})
		go func() {
			defer close(done)
			futures.Go(in, func(context.Context) (int, error) {
				runtime.Goexit()
				return 0, nil
			})
			returned = true
		}()
		<-done
		if returned {
			t.Fatal("Go returned after the call called runtime.Goexit: the call did not run in the caller's goroutine")
		}
		if err := in.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
	})
}

func TestInlineNested(t *testing.T) {
	in := futurestest.NewInline()
	f := futures.Go(in, func(ctx context.Context) (int, error) {
		return futures.Submit(in, double, 4).Result(ctx)
	})
	if v, err := f.Result(context.Background()); v != 8 || err != nil {
		t.Fatalf("Result() = %v, %v; want 8, nil", v, err)
	}
}

func TestInlineMap(t *testing.T) {
	tests := []struct {
		name string
		opts []futures.MapOption
	}{
		{"default", nil},
		{"Chunksize(2)", []futures.MapOption{futures.Chunksize(2)}},
		{"Buffer(1)", []futures.MapOption{futures.Buffer(1)}},
		{"Unordered", []futures.MapOption{futures.Unordered()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := futurestest.NewInline()
			var got []int
			var errs int
			for v, err := range futures.Map(context.Background(), in, double, slices.Values([]int{2, 3, 4, 5, 6}), tt.opts...) {
				if err != nil {
					if !errors.Is(err, errOdd) {
						t.Fatalf("unexpected error %v", err)
					}
					errs++
					continue
				}
				got = append(got, v)
			}
			if want := []int{4, 8, 12}; !slices.Equal(got, want) || errs != 2 {
				t.Fatalf("Map yielded %v and %d errors, want %v and 2 errors", got, errs, want)
			}
		})
	}
}

func TestInlineMapBreak(t *testing.T) {
	in := futurestest.NewInline()
	calls := 0
	count := func(_ context.Context, x int) (int, error) { calls++; return x, nil }
	for range futures.Map(context.Background(), in, count, slices.Values([]int{1, 2, 3, 4, 5, 6, 7, 8}), futures.Buffer(2)) {
		break
	}
	if calls != 2 {
		t.Fatalf("%d calls ran before the loop broke out, want Buffer(2) = 2", calls)
	}
	if err := in.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
}

func TestInlineShutdownWaitsForRunningCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := futurestest.NewInline()
		release := make(chan struct{})
		fut := make(chan *futures.Future[int], 1)
		go func() {
			fut <- futures.Go(in, func(context.Context) (int, error) { <-release; return 1, nil })
		}()
		synctest.Wait()
		shut := make(chan error, 1)
		go func() { shut <- in.Shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned %v while a call was running", err)
		default:
		}
		if err := futures.Submit(in, double, 2).Err(); !errors.Is(err, futures.ErrShutdown) {
			t.Fatalf("Submit during Shutdown: Err() = %v, want ErrShutdown", err)
		}
		close(release)
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown() = %v", err)
		}
		if v, err := (<-fut).Result(context.Background()); v != 1 || err != nil {
			t.Fatalf("Result() = %v, %v; want 1, nil", v, err)
		}
	})
}

// TestInlineShutdownGivesUp checks a forced shutdown: the running call's
// future fails with ErrBrokenExecutor, its context is cancelled with that
// cause, and Shutdown returns when its deadline passes.
func TestInlineShutdownGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := futurestest.NewInline()
		callCtx := make(chan context.Context, 1)
		fut := make(chan *futures.Future[int], 1)
		go func() {
			fut <- futures.Go(in, func(ctx context.Context) (int, error) {
				callCtx <- ctx
				<-ctx.Done()
				return 0, errors.New("the call's own error, too late")
			})
		}()
		ctx := <-callCtx
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := in.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown() = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Shutdown gave up after %v, want 1s", d)
		}
		if cause := context.Cause(ctx); !errors.Is(cause, futures.ErrBrokenExecutor) {
			t.Fatalf("the call's context cause = %v, want ErrBrokenExecutor", cause)
		}
		if err := (<-fut).Err(); !errors.Is(err, futures.ErrBrokenExecutor) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err() = %v, want ErrBrokenExecutor and context.DeadlineExceeded", err)
		}
		if err := in.Close(); err != nil {
			t.Fatalf("Close() after the call returned = %v", err)
		}
	})
}

// TestShutdownRefuses covers what Inline and Manual share: refusals after
// Shutdown, Close called twice, nil arguments.
func TestShutdownRefuses(t *testing.T) {
	executors := []struct {
		name string
		new  func() futures.Executor
	}{
		{"Inline", func() futures.Executor { return futurestest.NewInline() }},
		{"Manual", func() futures.Executor { return futurestest.NewManual() }},
	}
	for _, tt := range executors {
		t.Run(tt.name, func(t *testing.T) {
			ex := tt.new()
			if err := ex.Execute(nil); err == nil {
				t.Fatal("Execute(nil) = nil, want an error")
			}
			//lint:ignore SA1012 a nil context is what is tested
			if err := ex.Shutdown(nil); err == nil {
				t.Fatal("Shutdown(nil) = nil, want an error")
			}
			for i := range 2 {
				if err := ex.Close(); err != nil {
					t.Fatalf("Close() #%d = %v", i+1, err)
				}
			}
			if err := futures.Submit(ex, double, 2).Err(); !errors.Is(err, futures.ErrShutdown) {
				t.Fatalf("Submit after Close: Err() = %v, want ErrShutdown", err)
			}
			for v, err := range futures.Map(context.Background(), ex, double, slices.Values([]int{2})) {
				if !errors.Is(err, futures.ErrShutdown) {
					t.Fatalf("Map after Close yielded %v, %v; want ErrShutdown", v, err)
				}
			}
			if err := ex.Shutdown(context.Background(), futures.CancelPending()); err != nil {
				t.Fatalf("Shutdown again = %v", err)
			}
		})
	}
}

// TestInlineConcurrentShutdown submits from several goroutines while Shutdown
// runs: once Shutdown has returned, no call is running and none starts.
func TestInlineConcurrentShutdown(t *testing.T) {
	in := futurestest.NewInline()
	var running, late atomic.Int64
	var shut atomic.Bool
	call := func(context.Context) (int, error) {
		running.Add(1)
		defer running.Add(-1)
		if shut.Load() {
			late.Add(1)
		}
		runtime.Gosched()
		return 1, nil
	}
	var wg sync.WaitGroup
	started := make(chan struct{}, 4)
	for range 4 {
		wg.Go(func() {
			started <- struct{}{}
			for futures.Go(in, call).Err() == nil {
			}
		})
	}
	for range 4 {
		<-started
	}
	if err := in.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	shut.Store(true)
	if n := running.Load(); n != 0 {
		t.Fatalf("%d calls running after Shutdown returned", n)
	}
	wg.Wait()
	if n := late.Load(); n != 0 {
		t.Fatalf("%d calls started after Shutdown returned", n)
	}
}

func TestInlineCancelsACallWhoseContextEnded(t *testing.T) {
	in := futurestest.NewInline()
	defer in.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var invoked atomic.Int32
	fn := func(_ context.Context, x int) (int, error) {
		invoked.Add(1)
		cancel() // the Map stops while the next calls are handed over
		return x, nil
	}
	for range futures.Map(ctx, in, fn, slices.Values(make([]int, 10)), futures.Buffer(10)) {
	}
	if n := invoked.Load(); n != 1 {
		t.Fatalf("%d calls invoked after the Map's context ended, want 1", n)
	}
}

// Inline runs a SubmitContext call with ctx's deadline and values, and never
// invokes one whose ctx has ended.
func TestInlineSubmitContext(t *testing.T) {
	in := futurestest.NewInline()
	type key struct{}
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, 7), deadline)
	f := futures.SubmitContext(ctx, in, func(ctx context.Context, x int) (int, error) {
		if d, ok := ctx.Deadline(); !ok || !d.Equal(deadline) {
			return 0, errors.New("the call's context lacks ctx's deadline")
		}
		return x + ctx.Value(key{}).(int), nil
	}, 1)
	if v, err := f.Result(context.Background()); v != 8 || err != nil {
		t.Errorf("Result() = %d, %v; want 8, nil", v, err)
	}
	cancel()
	var ran atomic.Bool
	g := futures.SubmitContext(ctx, in, func(context.Context, int) (int, error) { ran.Store(true); return 1, nil }, 1)
	if g.State() != futures.Cancelled || !errors.Is(g.Err(), futures.ErrCancelled) || !errors.Is(g.Err(), context.Canceled) || ran.Load() {
		t.Errorf("with a ctx that had ended: %v, %v, ran %v; want cancelled, not run", g.State(), g.Err(), ran.Load())
	}
}
