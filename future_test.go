package futures_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

func TestStateString(t *testing.T) {
	for s, want := range map[futures.State]string{
		futures.Pending: "pending", futures.Running: "running",
		futures.Cancelled: "cancelled", futures.Finished: "finished",
		futures.State(9): "State(9)",
	} {
		assert.Equal(t, want, s.String())
	}
}

func TestPromiseTransitions(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		steps     func(p *futures.Promise[int]) error
		wantState futures.State
		wantVal   int
		wantErr   error
	}{
		{"pending", func(p *futures.Promise[int]) error { return nil }, futures.Pending, 0, nil},
		{"running", func(p *futures.Promise[int]) error {
			if !p.SetRunning() {
				return errors.New("SetRunning false")
			}
			return nil
		}, futures.Running, 0, nil},
		{"pending to finished", func(p *futures.Promise[int]) error { return p.SetResult(7) }, futures.Finished, 7, nil},
		{"running to finished", func(p *futures.Promise[int]) error {
			p.SetRunning()
			return p.SetResult(8)
		}, futures.Finished, 8, nil},
		{"running to failed", func(p *futures.Promise[int]) error {
			p.SetRunning()
			return p.SetError(errBoom)
		}, futures.Finished, 0, errBoom},
		{"cancelled", func(p *futures.Promise[int]) error {
			if !p.Future().Cancel() {
				return errors.New("Cancel false")
			}
			return nil
		}, futures.Cancelled, 0, futures.ErrCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := futures.NewPromise[int]()
			require.NoError(t, tt.steps(p))
			f := p.Future()
			assert.Equal(t, tt.wantState, f.State())
			assert.ErrorIs(t, f.Err(), tt.wantErr)
			if tt.wantErr == nil {
				assert.NoError(t, f.Err())
			}
			done := tt.wantState == futures.Cancelled || tt.wantState == futures.Finished
			select {
			case <-f.Done():
				assert.True(t, done, "Done closed while %v", f.State())
			default:
				assert.False(t, done, "Done open while %v", f.State())
			}
			if done {
				v, err := f.Result(context.Background())
				assert.Equal(t, tt.wantVal, v)
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestPromiseSetTwiceIsInvalidState(t *testing.T) {
	p := futures.NewPromise[string]()
	require.NoError(t, p.SetResult("a"))
	err := p.SetResult("b")
	require.ErrorIs(t, err, futures.ErrInvalidState)
	assert.True(t, strings.HasPrefix(err.Error(), "futures: "), err.Error())
	require.ErrorIs(t, p.SetError(errors.New("x")), futures.ErrInvalidState)
	v, err := p.Future().Result(context.Background())
	assert.Equal(t, "a", v)
	assert.NoError(t, err)
	assert.False(t, p.SetRunning(), "SetRunning on a finished future")

	c := futures.NewPromise[string]()
	c.Future().Cancel()
	assert.False(t, c.SetRunning(), "SetRunning on a cancelled future")
	assert.ErrorIs(t, c.SetResult("x"), futures.ErrInvalidState)
	assert.ErrorIs(t, c.SetError(errors.New("x")), futures.ErrInvalidState)
}

func TestCancel(t *testing.T) {
	t.Run("pending", func(t *testing.T) {
		p := futures.NewPromise[int]()
		assert.True(t, p.Future().Cancel())
		assert.True(t, p.Future().Cancel(), "cancelling again")
		assert.Equal(t, futures.Cancelled, p.Future().State())
	})
	t.Run("running", func(t *testing.T) {
		p := futures.NewPromise[int]()
		p.SetRunning()
		assert.False(t, p.Future().Cancel())
		assert.Equal(t, futures.Running, p.Future().State())
		require.NoError(t, p.SetResult(1))
	})
	t.Run("finished", func(t *testing.T) {
		p := futures.NewPromise[int]()
		require.NoError(t, p.SetResult(1))
		assert.False(t, p.Future().Cancel())
		assert.Equal(t, futures.Finished, p.Future().State())
	})
}

func TestResultTimeoutLeavesFutureUntouched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := futures.NewPromise[int]()
		p.SetRunning()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := p.Future().Result(ctx)
		assert.Zero(t, v)
		assert.ErrorIs(t, err, futures.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, futures.Running, p.Future().State())
		require.NoError(t, p.SetResult(5))
		v, err = p.Future().Result(context.Background())
		assert.Equal(t, 5, v)
		assert.NoError(t, err)
	})
}

func TestResultCancelledContext(t *testing.T) {
	p := futures.NewPromise[int]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Future().Result(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, futures.ErrTimeout)
	assert.NotErrorIs(t, err, futures.ErrCancelled, "the future itself was not cancelled")
	assert.Equal(t, futures.Pending, p.Future().State())
}

func TestResultWakesOnCompletion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := futures.NewPromise[int]()
		got := make(chan int)
		go func() {
			v, _ := p.Future().Result(context.Background())
			got <- v
		}()
		synctest.Wait()
		require.NoError(t, p.SetResult(3))
		assert.Equal(t, 3, <-got)
	})
}

type wrapped struct{ err error }

func (w wrapped) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func TestResultReturnsTheCallsOwnError(t *testing.T) {
	inner := errors.New("inner")
	p := futures.NewPromise[int]()
	require.NoError(t, p.SetError(fmt.Errorf("outer: %w", wrapped{inner})))
	_, err := p.Future().Result(context.Background())
	assert.ErrorIs(t, err, inner)
	var w wrapped
	assert.ErrorAs(t, err, &w)
	assert.Same(t, err, p.Future().Err(), "the same error every time")
}

// TestResultOnDoneFutureAllocatesNothing checks the cost stated in Result's
// doc comment.
func TestResultOnDoneFutureAllocatesNothing(t *testing.T) {
	p := futures.NewPromise[int]()
	require.NoError(t, p.SetResult(7))
	f := p.Future()
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if v, err := f.Result(ctx); v != 7 || err != nil {
			t.Fatalf("Result = %d, %v", v, err)
		}
	})
	assert.Zero(t, allocs)
}

func TestOnDoneOrderAndImmediate(t *testing.T) {
	p := futures.NewPromise[int]()
	f := p.Future()
	var got []string
	f.OnDone(func(*futures.Future[int]) { got = append(got, "a") })
	f.OnDone(nil)
	f.OnDone(func(g *futures.Future[int]) {
		assert.Same(t, f, g)
		got = append(got, "b")
	})
	assert.Empty(t, got, "callbacks ran before completion")
	require.NoError(t, p.SetResult(1))
	assert.Equal(t, []string{"a", "b"}, got)
	f.OnDone(func(*futures.Future[int]) { got = append(got, "c") })
	assert.Equal(t, []string{"a", "b", "c"}, got, "a callback added when done runs at once")
	require.Error(t, p.SetResult(2))
	assert.Equal(t, []string{"a", "b", "c"}, got, "callbacks run exactly once")
}

func TestOnDoneRunsOnCancel(t *testing.T) {
	p := futures.NewPromise[int]()
	var state futures.State
	p.Future().OnDone(func(f *futures.Future[int]) { state = f.State() })
	p.Future().Cancel()
	assert.Equal(t, futures.Cancelled, state)
}

// logBuffer captures the default slog logger's output.
type logBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

func TestOnDonePanicIsContainedAndLogged(t *testing.T) {
	var logs logBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)

	p := futures.NewPromise[int]()
	ran := false
	p.Future().OnDone(func(*futures.Future[int]) { panic("callback bug") })
	p.Future().OnDone(func(*futures.Future[int]) { ran = true })
	require.NoError(t, p.SetResult(1))
	assert.True(t, ran, "the callback after a panicking one still runs")
	assert.Contains(t, logs.String(), "callback bug")
	assert.Contains(t, logs.String(), "level=ERROR")

	// At once, in the caller, when already done.
	assert.NotPanics(t, func() {
		p.Future().OnDone(func(*futures.Future[int]) { panic("late bug") })
	})
	assert.Contains(t, logs.String(), "late bug")
}

func TestFutureIsAwaitable(t *testing.T) {
	var _ futures.Awaitable = (*futures.Future[int])(nil)
	var _ futures.Awaitable = (*futures.Future[struct{}])(nil)
	p := futures.NewPromise[int]()
	assert.Equal(t, "Future[int](pending)", p.Future().String())
}

func TestConcurrentCompleteAndCancel(t *testing.T) {
	for range 200 {
		p := futures.NewPromise[int]()
		var wg sync.WaitGroup
		var setErr error
		var cancelled bool
		wg.Go(func() { setErr = p.SetResult(1) })
		wg.Go(func() { cancelled = p.Future().Cancel() })
		wg.Wait()
		// Exactly one of them won.
		if cancelled {
			require.ErrorIs(t, setErr, futures.ErrInvalidState)
			require.Equal(t, futures.Cancelled, p.Future().State())
		} else {
			require.NoError(t, setErr)
			require.Equal(t, futures.Finished, p.Future().State())
		}
	}
}

// capture is an Executor that hands every task it accepts to the test.
type capture struct{ tasks chan futures.Task }

func (c capture) Execute(t futures.Task) error { c.tasks <- t; return nil }

func (c capture) Shutdown(context.Context, ...futures.ShutdownOption) error { return nil }

func (c capture) Close() error { return nil }

// TestConcurrentStartAndCancel races an executor starting a call against
// Cancel: exactly one of them wins, and the future ends as the winner says.
func TestConcurrentStartAndCancel(t *testing.T) {
	c := capture{tasks: make(chan futures.Task, 1)}
	for range 1000 {
		f := futures.Submit(c, double, 21)
		task := <-c.tasks
		var started, cancelled bool
		var wg sync.WaitGroup
		wg.Go(func() { started = task.Start() })
		wg.Go(func() { cancelled = f.Cancel() })
		wg.Wait()
		require.NotEqual(t, started, cancelled, "exactly one of Start and Cancel wins")
		if cancelled {
			require.Equal(t, futures.Cancelled, f.State())
			_, err := f.Result(context.Background())
			require.ErrorIs(t, err, futures.ErrCancelled)
			continue
		}
		require.Equal(t, futures.Running, f.State())
		task.Run(context.Background())
		v, err := f.Result(context.Background())
		require.NoError(t, err)
		require.Equal(t, 42, v)
	}
}
