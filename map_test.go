package futures_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// collect runs a Map loop to its end.
func collect[R any](seq iter.Seq2[R, error]) (rs []R, errs []error) {
	for r, err := range seq {
		rs = append(rs, r)
		errs = append(errs, err)
	}
	return rs, errs
}

// counting yields 0, 1, 2, ... forever, counting how many it produced.
func counting(produced *atomic.Int64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; ; i++ {
			produced.Add(1)
			if !yield(i) {
				return
			}
		}
	}
}

// sleepy sleeps x milliseconds, or until ctx ends.
func sleepy(ctx context.Context, x int) (int, error) {
	select {
	case <-time.After(time.Duration(x) * time.Millisecond):
		return x, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func TestMapOrderUnderUnevenDurations(t *testing.T) {
	in := []int{50, 10, 40, 20, 30, 5, 1}
	for _, chunk := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("chunksize ", chunk), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, futures.MaxWorkers(len(in)))
				rs, errs := collect(futures.Map(context.Background(), p, sleepy, slices.Values(in), futures.Chunksize(chunk)))
				assert.Equal(t, in, rs)
				assert.Equal(t, make([]error, len(in)), errs)
			})
		})
	}
	t.Run("unordered", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPool(t, futures.MaxWorkers(len(in)))
			rs, _ := collect(futures.Map(context.Background(), p, sleepy, slices.Values(in), futures.Unordered()))
			assert.Equal(t, []int{1, 5, 10, 20, 30, 40, 50}, rs, "completion order")
		})
	})
	t.Run("unordered chunks", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPool(t, futures.MaxWorkers(len(in)))
			rs, _ := collect(futures.Map(context.Background(), p, sleepy, slices.Values(in), futures.Unordered(), futures.Chunksize(2), futures.Buffer(1)))
			assert.ElementsMatch(t, in, rs)
		})
	})
}

func TestMapGoesOnAfterItemErrors(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(3))
	errOdd := errors.New("odd")
	fn := func(_ context.Context, x int) (int, error) {
		switch {
		case x == 4:
			panic("four")
		case x == 6:
			return 0, context.DeadlineExceeded // the call's own deadline error
		case x%2 == 1:
			return 0, fmt.Errorf("item %d: %w", x, errOdd)
		}
		return x * 10, nil
	}
	for _, opts := range [][]futures.MapOption{nil, {futures.Chunksize(3)}, {futures.Buffer(1)}} {
		rs, errs := collect(futures.Map(context.Background(), p, fn, slices.Values([]int{0, 1, 2, 3, 4, 5, 6, 8}), opts...))
		require.Len(t, rs, 8, "every item yields")
		assert.Equal(t, []int{0, 0, 20, 0, 0, 0, 0, 80}, rs)
		assert.NoError(t, errs[0])
		assert.ErrorIs(t, errs[1], errOdd)
		var pe *futures.PanicError
		assert.ErrorAs(t, errs[4], &pe)
		assert.ErrorIs(t, errs[6], context.DeadlineExceeded, "the item's own error")
		assert.NotErrorIs(t, errs[6], futures.ErrTimeout, "not Map's deadline")
		assert.NoError(t, errs[7])
	}
}

func TestMapIsLazyOverEndlessInput(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	var produced atomic.Int64
	seq := futures.Map(context.Background(), p, double, counting(&produced), futures.Buffer(3))
	assert.Zero(t, produced.Load(), "nothing is read before the loop starts")
	n := 0
	for v, err := range seq {
		require.NoError(t, err)
		assert.Equal(t, 2*n, v)
		n++
		if n == 100 {
			break
		}
	}
	assert.LessOrEqual(t, produced.Load(), int64(100+3+1), "input read ahead of the consumer by at most the buffer")
	assert.Equal(t, int64(0), p.Stats().Running+p.Stats().Queued)
}

func TestMapStopLeavesNothingBehind(t *testing.T) {
	for _, how := range []string{"break", "deadline", "cancel", "panic"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, futures.MaxWorkers(3))
				var started, returned, ctxCancelled atomic.Int64
				fn := func(ctx context.Context, x int) (int, error) {
					started.Add(1)
					defer returned.Add(1)
					if x == 0 {
						return 0, nil
					}
					<-ctx.Done()
					ctxCancelled.Add(1)
					return 0, ctx.Err()
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var produced atomic.Int64
				var last error
				func() {
					defer func() {
						if r := recover(); r != nil {
							assert.Equal(t, "consumer", r)
						}
					}()
					for v, err := range futures.Map(ctx, p, fn, counting(&produced), futures.Buffer(5)) {
						if err != nil {
							last = err
							continue
						}
						assert.Zero(t, v)
						switch how {
						case "break":
							return
						case "cancel":
							cancel()
						case "panic":
							panic("consumer")
						}
					}
				}()
				assert.Equal(t, started.Load(), returned.Load(), "every call that started has returned")
				assert.Equal(t, started.Load()-1, ctxCancelled.Load(), "running calls saw their context cancelled")
				s := p.Stats()
				assert.Zero(t, s.Running+s.Queued, "nothing queued or running: %+v", s)
				assert.Equal(t, s.Submitted, s.Succeeded+s.Failed+s.Cancelled)
				assert.LessOrEqual(t, produced.Load(), int64(6))
				switch how {
				case "deadline":
					assert.ErrorIs(t, last, futures.ErrTimeout)
					assert.ErrorIs(t, last, context.DeadlineExceeded)
					assert.Contains(t, last.Error(), "futures: Map stopped")
				case "cancel":
					assert.ErrorIs(t, last, futures.ErrCancelled)
					assert.ErrorIs(t, last, context.Canceled)
					assert.NotErrorIs(t, last, futures.ErrTimeout)
				default:
					assert.NoError(t, last)
				}
			})
		})
	}
}

func TestMapDeadlineIsMeasuredFromTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(2))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		seq := futures.Map(ctx, p, sleepy, slices.Values([]int{100, 600, 600}))
		time.Sleep(500 * time.Millisecond) // before the loop starts
		rs, errs := collect(seq)
		require.Len(t, rs, 2)
		assert.NoError(t, errs[0])
		assert.ErrorIs(t, errs[1], futures.ErrTimeout)
	})
}

func TestMapOneErrorForBadInput(t *testing.T) {
	p := newPool(t)
	closed, err := futures.NewThreadPool()
	require.NoError(t, err)
	require.NoError(t, closed.Close())
	in := slices.Values([]int{1, 2, 3})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		seq  iter.Seq2[int, error]
		is   error
		want string
	}{
		{"chunksize 0", futures.Map(context.Background(), p, double, in, futures.Chunksize(0)), nil, "Chunksize(0): must be at least 1"},
		{"buffer -1", futures.Map(context.Background(), p, double, in, futures.Buffer(-1)), nil, "Buffer(-1)"},
		{"zero option", futures.Map(context.Background(), p, double, in, futures.MapOption{}), nil, "zero MapOption"},
		{"nil executor", futures.Map(context.Background(), nil, double, in), nil, "Executor is nil"},
		{"nil function", futures.Map[int, int](context.Background(), p, nil, in), nil, "function is nil"},
		{"nil input", futures.Map(context.Background(), p, double, nil), nil, "input sequence is nil"},
		{"nil context", futures.Map(nil, p, double, in), nil, "context is nil"},
		{"shut down", futures.Map(context.Background(), closed, double, in), futures.ErrShutdown, "after shutdown"},
		{"cancelled before", futures.Map(cancelled, p, double, in), futures.ErrCancelled, "Map stopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, errs := collect(tt.seq)
			require.Len(t, errs, 1)
			assert.Zero(t, rs[0])
			require.Error(t, errs[0])
			assert.Contains(t, errs[0].Error(), tt.want)
			assert.Regexp(t, "^futures: ", errs[0].Error())
			if tt.is != nil {
				assert.ErrorIs(t, errs[0], tt.is)
			}
		})
	}
}

type ctxKey struct{}

func TestMapCallsSeeTheMapContextValues(t *testing.T) {
	p := newPool(t)
	ctx := context.WithValue(context.Background(), ctxKey{}, "traced")
	fn := func(ctx context.Context, _ int) (string, error) {
		s, _ := ctx.Value(ctxKey{}).(string)
		return s, nil
	}
	rs, _ := collect(futures.Map(ctx, p, fn, slices.Values([]int{1, 2})))
	assert.Equal(t, []string{"traced", "traced"}, rs)
}

func TestMapLargeInputAllChunkSizes(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(4))
	in := make([]int, 5000)
	for i := range in {
		in[i] = i
	}
	for _, opts := range [][]futures.MapOption{
		nil, {futures.Chunksize(7)}, {futures.Chunksize(256), futures.Buffer(2)},
		{futures.Unordered()}, {futures.Unordered(), futures.Chunksize(13)},
	} {
		sum := 0
		n := 0
		for v, err := range futures.Map(context.Background(), p, double, slices.Values(in), opts...) {
			require.NoError(t, err)
			sum += v
			n++
		}
		assert.Equal(t, 5000, n)
		assert.Equal(t, 5000*4999, sum)
	}
}

func TestMapProgress(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	var reports []futures.MapProgress
	fn := func(_ context.Context, x int) (int, error) {
		if x == 2 {
			return 0, errors.New("two")
		}
		return x, nil
	}
	progress := futures.Progress(func(mp futures.MapProgress) { reports = append(reports, mp) })
	n := 0
	for range futures.Map(context.Background(), p, fn, slices.Values([]int{1, 2, 3, 4, 5}), progress, futures.Buffer(2)) {
		n++
		last := reports[len(reports)-1]
		assert.Equal(t, n, last.Done, "reported before the item is yielded")
	}
	require.Len(t, reports, 5)
	assert.Equal(t, futures.MapProgress{Done: 5, Failed: 1, Total: 5}, reports[4])
	assert.Equal(t, -1, reports[0].Total, "unknown while input remains")
}

// goExecutor runs each task in a goroutine of its own through the Task
// interface only, as an executor in another package would: it decodes
// nothing, but completes calls with values it made itself.
type goExecutor struct {
	held chan futures.Task // when not nil, tasks wait here instead of running
}

func (e *goExecutor) Execute(t futures.Task) error {
	if e.held != nil {
		e.held <- t
		return nil
	}
	go func() {
		if t.State() != futures.Pending || !t.Start() {
			return
		}
		select {
		case <-t.Done():
			panic("Done is closed before the call completed")
		default:
		}
		a, _ := t.Arg()
		n := a.(int)
		var ok bool
		switch n % 3 {
		case 0: // a value of its own, not the one NewResult returned
			v := n * 10
			ok = t.Complete(&v, nil)
		case 1: // the wrong type
			ok = t.Complete("not an int", nil)
		default:
			ok = t.Complete(nil, fmt.Errorf("item %d failed", n))
		}
		if !ok || t.Complete(nil, errors.New("second outcome")) {
			panic("the first Complete must win, and only it")
		}
		<-t.Done()
	}()
	return nil
}

func (e *goExecutor) Shutdown(context.Context, ...futures.ShutdownOption) error { return nil }
func (e *goExecutor) Close() error                                              { return nil }

func TestMapThroughTheTaskInterface(t *testing.T) {
	for _, opts := range [][]futures.MapOption{nil, {futures.Unordered()}} {
		got := map[int]error{}
		vals := map[int]int{}
		i := 0
		for v, err := range futures.Map(t.Context(), &goExecutor{}, inc, slices.Values([]int{0, 1, 2, 3, 4, 5}), opts...) {
			got[i], vals[i] = err, v
			i++
		}
		require.Len(t, got, 6)
		if len(opts) > 0 { // completion order
			var ok []int
			for n, err := range got {
				if err == nil {
					ok = append(ok, vals[n])
				}
			}
			slices.Sort(ok)
			assert.Equal(t, []int{0, 30}, ok)
			continue
		}
		for n := range 6 {
			switch n % 3 {
			case 0:
				assert.NoError(t, got[n])
				assert.Equal(t, n*10, vals[n])
			case 1:
				assert.ErrorContains(t, got[n], "not the *R that NewResult returned")
				assert.Zero(t, vals[n])
			default:
				assert.EqualError(t, got[n], fmt.Sprintf("item %d failed", n))
			}
		}
	}
}

func TestMapItemsCancelledWhenTheLoopStops(t *testing.T) {
	held := make(chan futures.Task, 16)
	e := &goExecutor{held: held}
	stopped := make(chan struct{})
	var first error
	go func() {
		defer close(stopped)
		for _, err := range futures.Map(t.Context(), e, inc, slices.Values([]int{1, 2, 3}), futures.Buffer(3)) {
			first = err
			break
		}
	}()
	head := <-held
	done := head.Done()
	select {
	case <-done:
		t.Fatal("Done is closed before the item is done")
	default:
	}
	// Cancelled by the executor: Map yields that as the item's error.
	require.True(t, head.Cancel())
	<-done
	assert.Equal(t, futures.Cancelled, head.State())
	assert.ErrorIs(t, head.Err(), futures.ErrCancelled)
	assert.False(t, head.Start())
	<-stopped // the loop broke after that pair, cancelling the others
	assert.ErrorIs(t, first, futures.ErrCancelled)
	for range 2 {
		rest := <-held
		<-rest.Done()
		assert.Equal(t, futures.Cancelled, rest.State())
		assert.True(t, rest.Cancel(), "Cancel on a cancelled item reports true")
	}
}

// TestMapReusesItems checks that a long Map on a pool of this package
// allocates its items once, not once per input: the items of calls that
// finished are reused for later inputs, ordered or not.
func TestMapReusesItems(t *testing.T) {
	const n = 100_000
	p := newPool(t, futures.MaxWorkers(4))
	for _, tc := range []struct {
		name string
		opts []futures.MapOption
	}{{"ordered", nil}, {"unordered", []futures.MapOption{futures.Unordered()}}, {"chunks", []futures.MapOption{futures.Chunksize(10)}}} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			sum := 0
			for v, err := range futures.Map(context.Background(), p, double, count(n), tc.opts...) {
				require.NoError(t, err)
				sum += v
			}
			runtime.ReadMemStats(&after)
			assert.Equal(t, n*(n-1), sum)
			// Items take 64 bytes each: without reuse, 6.4 MB.
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated for %d items", n)
		})
	}
}

// TestMapReusedItemsFailedOnForcedShutdown runs Maps while a Shutdown gives
// up on their pool: a call failed by Shutdown while it still runs must not
// reach an item reused for a later input, and every success yielded is the
// result of an input read.
func TestMapReusedItemsFailedOnForcedShutdown(t *testing.T) {
	for round := range 20 {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		require.NoError(t, err)
		release := make(chan struct{})
		fn := func(_ context.Context, x int) (int, error) {
			if x == 1000+round {
				<-release // ignores its context, as a call may
			}
			return x + 1, nil
		}
		var produced atomic.Int64
		seen := map[int]bool{}
		var shut sync.WaitGroup
		var last error
		for v, err := range futures.Map(context.Background(), p, fn, counting(&produced), futures.Unordered()) {
			if err != nil {
				last = err
				continue
			}
			require.False(t, seen[v], "result %d yielded twice", v)
			seen[v] = true
			if len(seen) == 1500 {
				shut.Go(func() {
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					assert.ErrorIs(t, p.Shutdown(ctx), context.Canceled)
				})
			}
		}
		shut.Wait()
		close(release)
		require.NoError(t, p.Close())
		require.Error(t, last)
		for v := range seen {
			require.Less(t, int64(v-1), produced.Load(), "a result of an input never read")
		}
	}
}

// count yields 0, 1, ..., n-1.
func count(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}
