package futurestest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gofutures/futures"
)

// sleep sleeps for d and returns it.
func sleep(_ context.Context, d time.Duration) (time.Duration, error) {
	time.Sleep(d)
	return d, nil
}

// TestThreadPoolInBubble checks that futures.ThreadPool works inside a
// testing/synctest bubble: its goroutines belong to the bubble (synctest.Wait
// waits for them, and none is left when the bubble ends) and time.Sleep in a
// call, Result deadlines and Shutdown deadlines follow the fake clock.
func TestThreadPoolInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		// A worker outside the bubble would not be waited for.
		quick := futures.Go(p, func(context.Context) (int, error) { return 1, nil })
		synctest.Wait()
		if quick.State() != futures.Finished {
			t.Fatalf("after synctest.Wait the call is %v, want finished: the worker is not in the bubble", quick.State())
		}

		start := time.Now()
		if d, err := futures.Submit(p, sleep, time.Hour).Result(ctx); d != time.Hour || err != nil {
			t.Fatalf("Result() = %v, %v; want 1h, nil", d, err)
		}
		if d := time.Since(start); d != time.Hour {
			t.Fatalf("a call sleeping 1h took %v of fake time", d)
		}

		start = time.Now()
		var got []time.Duration
		for d, err := range futures.Map(ctx, p, sleep, slices.Values([]time.Duration{time.Minute, time.Minute, time.Minute, time.Minute})) {
			if err != nil {
				t.Fatalf("Map yielded %v", err)
			}
			got = append(got, d)
		}
		if d := time.Since(start); len(got) != 4 || d != 2*time.Minute {
			t.Fatalf("Map of four 1m sleeps on 2 workers yielded %d results in %v, want 4 in 2m", len(got), d)
		}

		slow := futures.Submit(p, sleep, time.Hour)
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := slow.Result(rctx); !errors.Is(err, futures.ErrTimeout) {
			t.Fatalf("Result with a 1s deadline on a 1h call = %v, want ErrTimeout", err)
		}
		if d, err := slow.Result(ctx); d != time.Hour || err != nil {
			t.Fatalf("Result() = %v, %v; want 1h, nil", d, err)
		}

		if err := p.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if err := futures.Submit(p, sleep, 0).Err(); !errors.Is(err, futures.ErrShutdown) {
			t.Fatalf("Submit after Close: Err() = %v, want ErrShutdown", err)
		}
	})
}

// TestThreadPoolShutdownDeadlineInBubble checks a forced ThreadPool shutdown
// on the fake clock: Shutdown gives up at its deadline, the running call's
// future fails with ErrBrokenExecutor and its context is cancelled, the
// queued call fails likewise.
func TestThreadPoolShutdownDeadlineInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1))
		if err != nil {
			t.Fatal(err)
		}
		stubborn := func(ctx context.Context, d time.Duration) (time.Duration, error) {
			select {
			case <-time.After(d):
				return d, nil
			case <-ctx.Done():
				return 0, context.Cause(ctx)
			}
		}
		running := futures.Submit(p, stubborn, time.Hour)
		queued := futures.Submit(p, stubborn, time.Hour)
		synctest.Wait()
		if running.State() != futures.Running || queued.State() != futures.Pending {
			t.Fatalf("states %v, %v; want running, pending", running.State(), queued.State())
		}
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		if err := p.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown() = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("Shutdown gave up after %v, want 1m", d)
		}
		for name, f := range map[string]*futures.Future[time.Duration]{"running": running, "queued": queued} {
			if _, err := f.Result(context.Background()); !errors.Is(err, futures.ErrBrokenExecutor) {
				t.Errorf("%s call: %v, want ErrBrokenExecutor", name, err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatalf("Close() after the forced shutdown = %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("the running call returned at %v, want at once when its context was cancelled (1m)", d)
		}
	})
}
