package futurestest_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

func TestManualRunsInOrder(t *testing.T) {
	m := futurestest.NewManual()
	var order []int
	record := func(_ context.Context, x int) (int, error) { order = append(order, x); return x, nil }
	fs := []*futures.Future[int]{futures.Submit(m, record, 1), futures.Submit(m, record, 2), futures.Submit(m, record, 3)}
	if n := m.Pending(); n != 3 || len(order) != 0 {
		t.Fatalf("after 3 submissions: Pending() = %d, %d ran; want 3, 0", n, len(order))
	}
	for _, f := range fs {
		if f.State() != futures.Pending {
			t.Fatalf("State() = %v before RunNext, want pending", f.State())
		}
	}
	if !m.RunNext() || m.Pending() != 2 || fs[0].State() != futures.Finished || fs[1].State() != futures.Pending {
		t.Fatalf("after RunNext: Pending() = %d, states %v %v", m.Pending(), fs[0].State(), fs[1].State())
	}
	if n := m.RunAll(); n != 2 {
		t.Fatalf("RunAll() = %d, want 2", n)
	}
	if m.RunNext() || m.RunAll() != 0 || m.Pending() != 0 {
		t.Fatal("RunNext or RunAll ran something on an empty queue")
	}
	if !slices.Equal(order, []int{1, 2, 3}) {
		t.Fatalf("calls ran in order %v, want [1 2 3]", order)
	}
}

func TestManualRunAllRunsQueuedByCalls(t *testing.T) {
	m := futurestest.NewManual()
	var inner *futures.Future[int]
	outer := futures.Go(m, func(context.Context) (int, error) {
		inner = futures.Submit(m, double, 5)
		return 1, nil
	})
	if n := m.RunAll(); n != 2 {
		t.Fatalf("RunAll() = %d, want 2 (the call and the one it queued)", n)
	}
	if outer.State() != futures.Finished || !errors.Is(inner.Err(), errOdd) {
		t.Fatalf("outer %v, inner error %v; want finished, errOdd", outer.State(), inner.Err())
	}
}

func TestManualChosenCalls(t *testing.T) {
	m := futurestest.NewManual()
	errInjected := errors.New("injected")
	fs := map[int]*futures.Future[int]{}
	for _, x := range []int{2, 4, 6, 8} {
		fs[x] = futures.Submit(m, double, x)
	}
	thunk := futures.Go(m, func(context.Context) (int, error) { return 99, nil })
	calls := m.Queued()
	if len(calls) != 5 {
		t.Fatalf("Queued() has %d calls, want 5", len(calls))
	}
	if _, ok := calls[4].Arg(); ok {
		t.Fatal("Arg() of a call from Go reports an argument")
	}
	if _, ok := calls[0].Func().(func(context.Context, int) (int, error)); !ok {
		t.Fatalf("Func() is a %T, want the submitted function", calls[0].Func())
	}
	for _, c := range calls[:4] {
		arg, _ := c.Arg()
		var ok bool
		switch arg {
		case 4:
			ok = c.Fail(errInjected)
		case 6:
			ok = c.Cancel()
		case 8:
			ok = c.Run()
		default:
			continue
		}
		if !ok {
			t.Fatalf("acting on the queued call with argument %v returned false", arg)
		}
	}
	for _, c := range calls[1:4] {
		if c.Run() || c.Fail(errInjected) || c.Cancel() {
			t.Fatal("a call no longer queued was acted on again")
		}
	}
	if n := m.Pending(); n != 2 {
		t.Fatalf("Pending() = %d, want 2", n)
	}
	if n := m.RunAll(); n != 2 {
		t.Fatalf("RunAll() = %d, want 2", n)
	}
	tests := []struct {
		f     *futures.Future[int]
		state futures.State
		val   int
		err   error
	}{
		{fs[2], futures.Finished, 4, nil},
		{fs[4], futures.Finished, 0, errInjected},
		{fs[6], futures.Cancelled, 0, futures.ErrCancelled},
		{fs[8], futures.Finished, 16, nil},
		{thunk, futures.Finished, 99, nil},
	}
	for i, tt := range tests {
		v, err := tt.f.Result(context.Background())
		if tt.f.State() != tt.state || v != tt.val || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("future %d: %v, %v, %v; want %v, %v, %v", i, tt.f.State(), v, err, tt.state, tt.val, tt.err)
		}
	}
	if calls[0].Run() {
		t.Fatal("Call.Run ran a call that RunAll ran already")
	}
}

func TestManualSkipsCallsCancelledByReader(t *testing.T) {
	m := futurestest.NewManual()
	ran := 0
	count := func(context.Context) (int, error) { ran++; return 0, nil }
	f1, f2 := futures.Go(m, count), futures.Go(m, count)
	if !f1.Cancel() {
		t.Fatal("Cancel() of a queued call = false")
	}
	if n := m.Pending(); n != 1 {
		t.Fatalf("Pending() = %d after cancelling one of 2, want 1", n)
	}
	if n := m.RunAll(); n != 1 || ran != 1 || f2.State() != futures.Finished {
		t.Fatalf("RunAll() = %d, %d ran, second %v; want 1, 1, finished", n, ran, f2.State())
	}
}

func TestManualShutdown(t *testing.T) {
	tests := []struct {
		name      string
		opts      []futures.ShutdownOption
		drive     func(m *futurestest.Manual, f *futures.Future[int]) // unblocks Shutdown
		wantState futures.State
	}{
		{"RunAll", nil, func(m *futurestest.Manual, _ *futures.Future[int]) { m.RunAll() }, futures.Finished},
		{"Call.Fail", nil, func(m *futurestest.Manual, _ *futures.Future[int]) { m.Queued()[0].Fail(errOdd) }, futures.Finished},
		{"Future.Cancel", nil, func(_ *futurestest.Manual, f *futures.Future[int]) { f.Cancel() }, futures.Cancelled},
		{"CancelPending", []futures.ShutdownOption{futures.CancelPending()}, nil, futures.Cancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := futurestest.NewManual()
				f := futures.Submit(m, double, 2)
				shut := make(chan error, 1)
				go func() { shut <- m.Shutdown(context.Background(), tt.opts...) }()
				synctest.Wait()
				if tt.drive != nil {
					select {
					case err := <-shut:
						t.Fatalf("Shutdown returned %v with a call queued", err)
					default:
					}
					if err := futures.Submit(m, double, 2).Err(); !errors.Is(err, futures.ErrShutdown) {
						t.Fatalf("Submit during Shutdown: Err() = %v, want ErrShutdown", err)
					}
					tt.drive(m, f)
				}
				if err := <-shut; err != nil {
					t.Fatalf("Shutdown() = %v", err)
				}
				if f.State() != tt.wantState {
					t.Fatalf("State() = %v, want %v", f.State(), tt.wantState)
				}
			})
		})
	}
}

// TestManualShutdownGivesUp checks a forced shutdown with one call queued and
// one running: both futures fail with ErrBrokenExecutor, the running call's
// context is cancelled, Shutdown returns at its deadline.
func TestManualShutdownGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := futurestest.NewManual()
		callCtx := make(chan context.Context, 1)
		running := futures.Go(m, func(ctx context.Context) (int, error) {
			callCtx <- ctx
			<-ctx.Done()
			return 0, errors.New("the call's own error, too late")
		})
		queued := futures.Submit(m, double, 2)
		ranNext := make(chan bool)
		go func() { ranNext <- m.RunNext() }()
		ctx := <-callCtx
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		if err := m.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown() = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("Shutdown gave up after %v, want 1m", d)
		}
		if !<-ranNext {
			t.Fatal("RunNext() = false for the call it ran")
		}
		if cause := context.Cause(ctx); !errors.Is(cause, futures.ErrBrokenExecutor) {
			t.Fatalf("the running call's context cause = %v, want ErrBrokenExecutor", cause)
		}
		for name, f := range map[string]*futures.Future[int]{"running": running, "queued": queued} {
			if err := f.Err(); !errors.Is(err, futures.ErrBrokenExecutor) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s call: Err() = %v, want ErrBrokenExecutor and context.DeadlineExceeded", name, err)
			}
		}
		if m.Pending() != 0 || m.RunNext() {
			t.Fatal("calls are still queued after a forced shutdown")
		}
		if err := m.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
	})
}

func TestManualMap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := futurestest.NewManual()
		type result struct {
			vals []int
			errs int
		}
		done := make(chan result, 1)
		go func() {
			var r result
			for v, err := range futures.Map(context.Background(), m, double, slices.Values([]int{2, 3, 4, 5, 6}), futures.Buffer(2)) {
				if err != nil {
					r.errs++
					continue
				}
				r.vals = append(r.vals, v)
			}
			done <- r
		}()
		synctest.Wait()
		if n := m.Pending(); n != 2 {
			t.Fatalf("Map with Buffer(2) queued %d calls, want 2", n)
		}
		runs := 0
		for m.RunNext() {
			runs++
			synctest.Wait()
		}
		r := <-done
		if runs != 5 || !slices.Equal(r.vals, []int{4, 8, 12}) || r.errs != 2 {
			t.Fatalf("%d calls ran; Map yielded %v and %d errors; want 5, [4 8 12], 2", runs, r.vals, r.errs)
		}
	})
}

func TestManualMapBreakCancelsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := futurestest.NewManual()
		done := make(chan int, 1)
		go func() {
			for v := range futures.Map(context.Background(), m, double, slices.Values([]int{2, 4, 6, 8}), futures.Buffer(4)) {
				done <- v
				break
			}
		}()
		synctest.Wait()
		if !m.RunNext() {
			t.Fatal("Map queued nothing")
		}
		if v := <-done; v != 4 {
			t.Fatalf("first result %d, want 4", v)
		}
		synctest.Wait()
		if n := m.Pending(); n != 0 {
			t.Fatalf("Pending() = %d after the Map loop broke out, want 0", n)
		}
	})
}

func TestManualWaitPending(t *testing.T) {
	m := futurestest.NewManual()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.WaitPending(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitPending on an empty queue with a cancelled context = %v, want context.Canceled", err)
	}
	go futures.Submit(m, double, 2)
	if err := m.WaitPending(context.Background(), 1); err != nil {
		t.Fatalf("WaitPending() = %v", err)
	}
	if n := m.RunAll(); n != 1 {
		t.Fatalf("RunAll() = %d, want 1", n)
	}
}

// TestManualConcurrent submits from several goroutines while others run the
// calls; -race checks the locking.
func TestManualConcurrent(t *testing.T) {
	const producers, each = 4, 50
	m := futurestest.NewManual()
	ctx, stop := context.WithCancel(context.Background())
	var runners sync.WaitGroup
	ran := make([]int, 2)
	for i := range ran {
		runners.Go(func() {
			for m.WaitPending(ctx, 1) == nil {
				if m.RunNext() {
					ran[i]++
				}
			}
		})
	}
	var submitters sync.WaitGroup
	fs := make([][]*futures.Future[int], producers)
	for p := range producers {
		submitters.Go(func() {
			for x := range each {
				fs[p] = append(fs[p], futures.Submit(m, double, 2*x))
			}
		})
	}
	submitters.Wait()
	for p := range producers {
		for x, f := range fs[p] {
			if v, err := f.Result(context.Background()); v != 4*x || err != nil {
				t.Fatalf("producer %d call %d: %v, %v; want %d, nil", p, x, v, err, 4*x)
			}
		}
	}
	stop()
	runners.Wait()
	if got := ran[0] + ran[1]; got != producers*each {
		t.Fatalf("the runners ran %d calls, want %d", got, producers*each)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
}

// TestManualCancelsCallsWhoseContextEnded checks that a queued call whose
// caller's context ended is cancelled when its turn comes, not invoked.
func TestManualCancelsCallsWhoseContextEnded(t *testing.T) {
	m := futurestest.NewManual()
	ctx, cancel := context.WithCancel(context.Background())
	var ran sync.WaitGroup
	invoked := make(chan int, 3)
	fn := func(_ context.Context, x int) (int, error) { invoked <- x; return x, nil }
	ran.Add(1)
	go func() {
		defer ran.Done()
		for range futures.Map(ctx, m, fn, slices.Values([]int{1, 2, 3})) {
		}
	}()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := m.WaitPending(wctx, 3); err != nil {
		t.Fatal(err)
	}
	cancel()
	m.RunAll()
	ran.Wait()
	close(invoked)
	for x := range invoked {
		t.Errorf("the call of %d ran after its Map's context was cancelled", x)
	}
}

// A call whose ctx ends while it is queued on a Manual is cancelled at once
// and leaves the queue; one whose ctx ends while it runs sees its context
// cancelled.
func TestManualSubmitContext(t *testing.T) {
	m := futurestest.NewManual()
	ran := false
	ctx, cancel := context.WithCancel(context.Background())
	f := futures.SubmitContext(ctx, m, func(context.Context, int) (int, error) { ran = true; return 1, nil }, 1)
	if m.Pending() != 1 {
		t.Fatalf("Pending() = %d, want 1", m.Pending())
	}
	cancel()
	if _, err := f.Result(context.Background()); !errors.Is(err, futures.ErrCancelled) || !errors.Is(err, context.Canceled) || f.State() != futures.Cancelled {
		t.Errorf("after ctx ended: %v, %v; want cancelled, an error matching ErrCancelled and context.Canceled", f.State(), err)
	}
	if n := m.Pending(); n != 0 {
		t.Errorf("Pending() = %d after the call's ctx ended, want 0", n)
	}
	if n := m.RunAll(); n != 0 || ran {
		t.Errorf("RunAll() = %d, ran %v; the cancelled call must not run", n, ran)
	}

	ctx, cancel = context.WithCancel(context.Background())
	g := futures.GoContext(ctx, m, func(ctx context.Context) (int, error) {
		cancel()
		<-ctx.Done()
		return 2, nil
	})
	m.RunNext()
	if v, err := g.Result(context.Background()); v != 2 || err != nil {
		t.Errorf("a call whose ctx ended while it ran: %d, %v; want what it returned, 2, nil", v, err)
	}
}

// A runtime.Goexit in an OnDone callback of a call that Shutdown cancels or
// fails leaves no other call unfinished.
func TestManualShutdownOnDoneGoexitFinishesTheOthers(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  func() context.Context
		opts []futures.ShutdownOption
	}{
		{"CancelPending", context.Background, []futures.ShutdownOption{futures.CancelPending()}},
		{"gave up", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := futurestest.NewManual()
			fn := func(_ context.Context, x int) (int, error) { return x, nil }
			first := futures.Submit(m, fn, 1)
			first.OnDone(func(*futures.Future[int]) { runtime.Goexit() })
			second := futures.Submit(m, fn, 2)
			done := make(chan struct{})
			go func() {
				defer close(done)
				m.Shutdown(tt.ctx(), tt.opts...) // exits through the callback's Goexit
			}()
			<-done
			select {
			case <-second.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("the second queued call did not finish")
			}
			if m.Pending() != 0 {
				t.Fatalf("Pending() = %d, want 0", m.Pending())
			}
		})
	}
}
