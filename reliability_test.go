package futures_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// size returns full under `make stress`, quick otherwise.
func size(quick, full int) int {
	if stress {
		return full
	}
	return quick
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// peakRSS returns the process's peak resident set size, from /proc.
func peakRSS(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// TestReliabilityMixedCalls sends calls that succeed, fail, panic, call
// runtime.Goexit or are cancelled, and Map loops that break, through one
// pool: every future finishes with the right outcome, the counts add up, and
// goroutines and heap return to where they started.
func TestReliabilityMixedCalls(t *testing.T) {
	n := size(20_000, 1_000_000)
	goroutines := runtime.NumGoroutine()
	heap := heapInUse()
	p, err := futures.NewThreadPool(futures.MaxWorkers(8))
	require.NoError(t, err)

	errKind := errors.New("planned failure")
	fn := func(_ context.Context, i int) (int, error) {
		switch i % 10 {
		case 1:
			return 0, fmt.Errorf("call %d: %w", i, errKind)
		case 2:
			panic(i)
		case 3:
			if i%1000 == 3 {
				runtime.Goexit()
			}
		}
		return i, nil
	}
	type outcome struct{ ok, failed, panicked, goexit, cancelled, wrong int }
	var got outcome
	const batch = 10_000
	for start := 0; start < n; start += batch {
		fs := make([]*futures.Future[int], 0, batch)
		for i := start; i < start+batch && i < n; i++ {
			f := futures.Submit(p, fn, i)
			if i%10 == 4 {
				f.Cancel()
			}
			fs = append(fs, f)
		}
		for j, f := range fs {
			i := start + j
			v, err := f.Result(context.Background())
			var pe *futures.PanicError
			switch {
			case err == nil && v == i:
				got.ok++
			case errors.Is(err, futures.ErrCancelled):
				got.cancelled++
			case errors.Is(err, errKind):
				got.failed++
			case errors.As(err, &pe) && pe.Value == i:
				got.panicked++
			case err != nil && strings.Contains(err.Error(), "Goexit"):
				got.goexit++
			default:
				got.wrong++
			}
		}
		// A Map loop that breaks half way.
		k := 0
		for range futures.Map(context.Background(), p, fn, counting(new(atomic.Int64)), futures.Chunksize(3)) {
			if k++; k == 50 {
				break
			}
		}
	}
	require.NoError(t, p.Close())
	assert.Zero(t, got.wrong)
	assert.Equal(t, n, got.ok+got.failed+got.panicked+got.goexit+got.cancelled)
	assert.Equal(t, n/10, got.failed)
	assert.Equal(t, n/10, got.panicked)
	assert.Equal(t, n/1000, got.goexit)
	assert.LessOrEqual(t, got.cancelled, n/10, "only cancelled calls are cancelled")
	s := p.Stats()
	assert.Equal(t, s.Submitted, s.Succeeded+s.Failed+s.Cancelled)
	assert.Zero(t, s.Queued+s.Running)
	assert.Zero(t, s.Workers)

	// Exited workers may still be unwinding; wait for them without a guess.
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines back to their starting count")
	grown := int64(heapInUse()) - int64(heap)
	t.Logf("%d calls: %+v; heap grew by %d B; peak RSS %s", n, got, grown, peakRSS(t))
	assert.Less(t, grown, int64(4<<20), "heap returned near its starting level")
}

// TestReliabilitySubmittersRacingShutdown has 64 goroutines submitting while
// another shuts the pool down: every future finishes, either with its result
// or with ErrShutdown, ErrCancelled or (with a deadline) ErrBrokenExecutor.
func TestReliabilitySubmittersRacingShutdown(t *testing.T) {
	rounds := size(5, 50)
	for _, mode := range []string{"wait", "cancel pending", "deadline"} {
		t.Run(mode, func(t *testing.T) {
			for range rounds {
				raceShutdown(t, mode)
			}
		})
	}
}

func raceShutdown(t *testing.T, mode string) {
	p, err := futures.NewThreadPool(futures.MaxWorkers(4))
	require.NoError(t, err)
	slow := func(ctx context.Context, i int) (int, error) {
		if i%50 == 0 {
			select {
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		return i, nil
	}
	var mu sync.Mutex
	var all []*futures.Future[int]
	var wg sync.WaitGroup
	start := make(chan struct{})
	for s := range 64 {
		wg.Go(func() {
			<-start
			var mine []*futures.Future[int]
			for i := 0; ; i++ {
				f := futures.Submit(p, slow, s*1_000_000+i)
				mine = append(mine, f)
				if errors.Is(f.Err(), futures.ErrShutdown) || i > 2000 {
					break
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	close(start)
	runtime.Gosched()
	switch mode {
	case "wait":
		require.NoError(t, p.Close())
	case "cancel pending":
		require.NoError(t, p.Shutdown(context.Background(), futures.CancelPending()))
	case "deadline":
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Microsecond)
		err := p.Shutdown(ctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		require.NoError(t, p.Close(), "a second Shutdown waits for the goroutines")
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, notDone := futures.Wait(ctx, all, futures.AllCompleted)
	require.Empty(t, notDone, "futures left unfinished")
	for _, f := range all {
		_, err := f.Result(ctx)
		switch {
		case err == nil, errors.Is(err, futures.ErrShutdown):
		case mode == "cancel pending" && errors.Is(err, futures.ErrCancelled):
		case mode == "deadline" && errors.Is(err, futures.ErrBrokenExecutor):
		default:
			t.Fatalf("%s: unexpected outcome %v", mode, err)
		}
	}
	s := p.Stats()
	require.Equal(t, s.Submitted, s.Succeeded+s.Failed+s.Cancelled, "%+v", s)
}

// TestReliabilityMapConstantMemory maps over an endless generator with the
// default buffer: the live heap stays flat however many items go through.
func TestReliabilityMapConstantMemory(t *testing.T) {
	n := size(200_000, 10_000_000)
	p := newPool(t, futures.MaxWorkers(4))
	var produced atomic.Int64
	base := heapInUse()
	var peak uint64
	var ms runtime.MemStats
	sample := func(mp futures.MapProgress) {
		if mp.Done%(n/20) == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	k := 0
	for v, err := range futures.Map(context.Background(), p, double, counting(&produced), futures.Progress(sample)) {
		if err != nil || v != 2*k {
			t.Fatalf("item %d: %d, %v", k, v, err)
		}
		if k++; k == n {
			break
		}
	}
	grown := int64(peak) - int64(base)
	t.Logf("%d items through Map: heap peak %d B above the start (sampled), peak RSS %s", n, grown, peakRSS(t))
	assert.Less(t, grown, int64(16<<20), "Map's memory must not grow with its input")
	assert.LessOrEqual(t, produced.Load(), int64(n+16*4+1)) // the default Buffer: 16 chunks per worker
}

// TestReliabilityPendingFutureBytes queues futures behind a blocked worker and
// measures the heap each pending future costs.
func TestReliabilityPendingFutureBytes(t *testing.T) {
	n := size(100_000, 1_000_000)
	p, err := futures.NewThreadPool(futures.MaxWorkers(1))
	require.NoError(t, err)
	g := newGate()
	blocker := futures.Submit(p, g.call, -1)
	base := heapInUse()
	fs := make([]*futures.Future[int], n)
	after := heapInUse() // the slice itself is not the futures' cost
	for i := range fs {
		fs[i] = futures.Submit(p, double, i)
	}
	perFuture := float64(int64(heapInUse())-int64(after)) / float64(n)
	t.Logf("%d pending futures: %.0f B each on the heap (slice of %d B/future excluded; base heap %d B); peak RSS %s",
		n, perFuture, 8, base, peakRSS(t))
	assert.Less(t, perFuture, 200.0, "bytes per pending future")
	close(g.open)
	_, err = blocker.Result(context.Background())
	require.NoError(t, err)
	require.NoError(t, p.Close())
	for i, f := range fs {
		if v, err := f.Result(context.Background()); err != nil || v != 2*i {
			t.Fatalf("future %d: %d, %v", i, v, err)
		}
	}
}

// panickyError is an error whose Error method panics.
type panickyError struct{}

func (panickyError) Error() string { panic("Error() panics") }

// nilPtrError is returned as a typed nil error.
type nilPtrError struct{}

func (*nilPtrError) Error() string { return "typed nil" }

// TestReliabilityHostileInput gives every entry point arguments meant to
// break it: each gets a clear error or documented behaviour, never a panic in
// the caller, a hang, or harm to other calls.
func TestReliabilityHostileInput(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	ctx := testCtx(t)

	t.Run("options", func(t *testing.T) {
		for _, opt := range []futures.Option{
			futures.MaxWorkers(0), futures.MaxWorkers(-1), futures.MaxWorkers(-1 << 62),
			futures.QueueSize(0), futures.QueueSize(-5), futures.Name(""),
			futures.Initializer(nil), futures.Logger(nil), futures.Option{},
			futures.TaskTimeout(-time.Second), futures.TaskTimeout(0), futures.MaxTasksPerWorker(0),
			futures.WorkerCommand(""), futures.Encoding(nil),
		} {
			tp, err := futures.NewThreadPool(opt)
			assert.Nil(t, tp)
			assert.ErrorContains(t, err, "futures: NewThreadPool: ")
		}
		huge, err := futures.NewThreadPool(futures.MaxWorkers(1<<62), futures.QueueSize(1<<62))
		require.NoError(t, err)
		v, err := futures.Submit(huge, double, 2).Result(ctx)
		assert.Equal(t, 4, v)
		assert.NoError(t, err)
		require.NoError(t, huge.Close())
	})
	t.Run("an error whose Error method panics", func(t *testing.T) {
		f := futures.Go(p, func(context.Context) (int, error) { return 0, panickyError{} })
		_, err := f.Result(ctx)
		assert.IsType(t, panickyError{}, err, "returned as it was")
		var pe *futures.PanicError
		g := futures.Go(p, func(context.Context) (int, error) { panic(panickyError{}) })
		_, err = g.Result(ctx)
		require.ErrorAs(t, err, &pe)
		assert.NotPanics(t, func() { _ = pe.Error() }, "formatting the panic value")
	})
	t.Run("a typed nil error is an error", func(t *testing.T) {
		failed := p.Stats().Failed
		f := futures.Go(p, func(context.Context) (int, error) {
			var e *nilPtrError
			return 1, e
		})
		v, err := f.Result(ctx)
		assert.Equal(t, 1, v, "the result as the call returned it")
		var target *nilPtrError
		assert.ErrorAs(t, err, &target)
		assert.Equal(t, failed+1, p.Stats().Failed)
	})
	t.Run("huge Map options", func(t *testing.T) {
		// A chunk is sent when full or when the input ends: huge values are
		// the caller's to choose, and must not overflow or hang.
		in := slices.Values([]int{1, 2, 3})
		rs, errs := collect(futures.Map(ctx, p, double, in, futures.Buffer(1<<62), futures.Chunksize(1<<40)))
		assert.Equal(t, []int{2, 4, 6}, rs)
		assert.Equal(t, []error{nil, nil, nil}, errs)
		rs, _ = collect(futures.Map(ctx, p, double, in, futures.Buffer(1<<62), futures.Unordered()))
		assert.ElementsMatch(t, []int{2, 4, 6}, rs)
	})
	t.Run("the pool still serves", func(t *testing.T) {
		v, err := futures.Submit(p, double, 21).Result(ctx)
		require.NoError(t, err)
		assert.Equal(t, 42, v)
	})
}
