package futures_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// newPool returns a ThreadPool closed at the end of the test.
func newPool(t *testing.T, opts ...futures.Option) *futures.ThreadPool {
	t.Helper()
	p, err := futures.NewThreadPool(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

func double(_ context.Context, x int) (int, error) { return 2 * x, nil }

// gate is a call that blocks until the gate opens, counting how many calls
// are inside.
type gate struct {
	open    chan struct{}
	inside  atomic.Int32
	maxSeen atomic.Int32
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) call(ctx context.Context, x int) (int, error) {
	n := g.inside.Add(1)
	defer g.inside.Add(-1)
	for {
		m := g.maxSeen.Load()
		if n <= m || g.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-g.open:
		return x, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func TestNewThreadPoolRejectsBadOptions(t *testing.T) {
	tests := []struct {
		opt  futures.Option
		want string
	}{
		{futures.MaxWorkers(0), "MaxWorkers(0): must be at least 1"},
		{futures.MaxWorkers(-3), "MaxWorkers(-3)"},
		{futures.QueueSize(0), "QueueSize(0)"},
		{futures.Initializer(nil), "Initializer: the function is nil"},
		{futures.Name(""), "Name(\"\")"},
		{futures.Logger(nil), "Logger: the logger is nil"},
		{futures.MaxTasksPerWorker(2), "applies only to a ProcessPool"},
		{futures.TaskTimeout(time.Second), "applies only to a ProcessPool"},
		{futures.WorkerCommand("/bin/true"), "applies only to a ProcessPool"},
		{futures.Encoding(futures.JSON), "applies only to a ProcessPool"},
		{futures.Option{}, "zero Option"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			p, err := futures.NewThreadPool(futures.Name("ok"), tt.opt)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.True(t, strings.HasPrefix(err.Error(), "futures: NewThreadPool: "), err.Error())
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDefaultMaxWorkers(t *testing.T) {
	p := newPool(t)
	assert.Equal(t, min(32, runtime.NumCPU()+4), p.MaxWorkers())
	assert.Equal(t, futures.DefaultThreadWorkers(), p.MaxWorkers())
	huge := newPool(t, futures.MaxWorkers(1<<30))
	v, err := futures.Submit(huge, double, 4).Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 8, v)
	assert.Equal(t, 1, huge.Stats().Workers, "workers start lazily")
}

func TestSubmitAndGo(t *testing.T) {
	p := newPool(t)
	ctx := context.Background()
	v, err := futures.Submit(p, double, 21).Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 42, v)

	s, err := futures.Go(p, func(context.Context) (string, error) { return "hi", nil }).Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hi", s)

	errBad := errors.New("bad")
	_, err = futures.Go(p, func(context.Context) (int, error) { return 0, errBad }).Result(ctx)
	assert.Same(t, errBad, err, "the call's own error, unwrapped")
}

func TestSubmitBadInput(t *testing.T) {
	p := newPool(t)
	tests := []struct {
		name string
		f    *futures.Future[int]
		want string
	}{
		{"nil func", futures.Submit[int, int](p, nil, 1), "the function is nil"},
		{"nil Go func", futures.Go[int](p, nil), "the function is nil"},
		{"nil executor", futures.Submit(nil, double, 1), "the Executor is nil"},
		{"nil executor Go", futures.Go(nil, func(context.Context) (int, error) { return 1, nil }), "the Executor is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, futures.Finished, tt.f.State())
			_, err := tt.f.Result(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "futures: "))
		})
	}
	assert.Error(t, p.Execute(nil))
	assert.Error(t, p.ExecuteBatch([]futures.Task{nil}))
	assert.NoError(t, p.ExecuteBatch(nil))
	assert.Error(t, p.Shutdown(nil))
}

func TestPanicBecomesPanicError(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	errInner := errors.New("inner")
	for _, tt := range []struct {
		value any
		is    error
	}{{"boom", nil}, {errInner, errInner}} {
		_, err := futures.Go(p, func(context.Context) (int, error) { panic(tt.value) }).Result(context.Background())
		var pe *futures.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, tt.value, pe.Value)
		assert.Contains(t, string(pe.Stack), "threadpool_test.go")
		assert.True(t, strings.HasPrefix(pe.Error(), "futures: "))
		if tt.is != nil {
			assert.ErrorIs(t, err, tt.is)
		}
	}
	v, err := futures.Submit(p, double, 1).Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, v)
	assert.Equal(t, 1, p.Stats().Workers, "the worker survived the panics")
}

func TestGoexitLosesNoFutureAndNoWorker(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	f := futures.Go(p, func(context.Context) (int, error) {
		runtime.Goexit()
		return 1, nil
	})
	_, err := f.Result(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "runtime.Goexit")

	// Goexit in the middle of a chunk: the rest of the chunk still runs.
	in := []int{1, 2, -1, 4, 5}
	var got []int
	var errs int
	fn := func(_ context.Context, x int) (int, error) {
		if x < 0 {
			runtime.Goexit()
		}
		return x, nil
	}
	for v, err := range futures.Map(context.Background(), p, fn, slices.Values(in), futures.Chunksize(5)) {
		if err != nil {
			errs++
			continue
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2, 4, 5}, got)
	assert.Equal(t, 1, errs)

	v, err := futures.Submit(p, double, 3).Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 6, v)
	s := p.Stats()
	assert.Equal(t, int64(2), s.Failed)
	assert.Equal(t, s.Submitted, s.Succeeded+s.Failed)
}

func TestMaxWorkersHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(3))
		g := newGate()
		fs := make([]*futures.Future[int], 10)
		for i := range fs {
			fs[i] = futures.Submit(p, g.call, i)
		}
		synctest.Wait()
		s := p.Stats()
		assert.Equal(t, 3, s.Workers)
		assert.Equal(t, int64(3), s.Running)
		assert.Equal(t, int64(7), s.Queued)
		assert.Equal(t, futures.Running, fs[0].State())
		assert.Equal(t, futures.Pending, fs[9].State())
		close(g.open)
		for i, f := range fs {
			v, err := f.Result(context.Background())
			require.NoError(t, err)
			assert.Equal(t, i, v)
		}
		assert.Equal(t, int32(3), g.maxSeen.Load())
		assert.Equal(t, 3, p.Stats().Workers)
	})
}

func TestIdleWorkersReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(8))
		for i := range 3 {
			v, err := futures.Submit(p, double, i).Result(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 2*i, v)
			synctest.Wait() // the worker is idle again
		}
		assert.Equal(t, 1, p.Stats().Workers)
	})
}

func TestQueueSizeBlocksSubmit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, futures.MaxWorkers(1), futures.QueueSize(2))
		g := newGate()
		first := futures.Submit(p, g.call, 0)
		synctest.Wait()
		require.Equal(t, futures.Running, first.State())
		futures.Submit(p, g.call, 1)
		futures.Submit(p, g.call, 2)
		var fourth atomic.Pointer[futures.Future[int]]
		go func() { fourth.Store(futures.Submit(p, g.call, 3)) }()
		synctest.Wait()
		assert.Nil(t, fourth.Load(), "Submit returned although the queue is full")
		assert.Equal(t, int64(2), p.Stats().Queued)
		close(g.open)
		synctest.Wait()
		require.NotNil(t, fourth.Load())
		v, err := fourth.Load().Result(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 3, v)
	})
}

func TestQueueSizeSubmitFailsOnShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1), futures.QueueSize(1))
		require.NoError(t, err)
		g := newGate()
		futures.Submit(p, g.call, 0)
		synctest.Wait()
		futures.Submit(p, g.call, 1)
		blocked := make(chan *futures.Future[int])
		go func() { blocked <- futures.Submit(p, g.call, 2) }()
		synctest.Wait()
		closed := make(chan error)
		go func() { closed <- p.Close() }()
		f := <-blocked
		assert.ErrorIs(t, f.Err(), futures.ErrShutdown)
		close(g.open)
		require.NoError(t, <-closed)
	})
}

func TestInitializerRunsOncePerWorkerFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var events []string // "init 2", "call 2": what ran on which worker
		record := func(ctx context.Context, what string) {
			id, _ := pprof.Label(ctx, "futures.worker")
			mu.Lock()
			defer mu.Unlock()
			events = append(events, what+" "+id)
		}
		p := newPool(t, futures.MaxWorkers(3), futures.Initializer(func(ctx context.Context) error {
			record(ctx, "init")
			return nil
		}))
		g := newGate()
		var fs []*futures.Future[int]
		for i := range 6 {
			fs = append(fs, futures.Submit(p, func(ctx context.Context, x int) (int, error) {
				record(ctx, "call")
				return g.call(ctx, x)
			}, i))
		}
		synctest.Wait()
		close(g.open)
		_, notDone := futures.Wait(context.Background(), fs, futures.AllCompleted)
		require.Empty(t, notDone)
		inits := map[string]int{}
		for i, e := range events {
			what, id, _ := strings.Cut(e, " ")
			if what == "init" {
				inits[id]++
				continue
			}
			assert.Equal(t, 1, inits[id], "event %d: worker %s ran a call before its initializer: %v", i, id, events)
		}
		assert.Equal(t, map[string]int{"1": 1, "2": 1, "3": 1}, inits)
	})
}

func TestInitializerFailureBreaksPool(t *testing.T) {
	for _, failure := range []string{"error", "panic"} {
		t.Run(failure, func(t *testing.T) {
			errInit := errors.New("no database")
			p := newPool(t, futures.MaxWorkers(2), futures.Initializer(func(context.Context) error {
				if failure == "panic" {
					panic(errInit)
				}
				return errInit
			}))
			f := futures.Submit(p, double, 1)
			_, err := f.Result(context.Background())
			require.ErrorIs(t, err, futures.ErrBrokenExecutor)
			assert.ErrorIs(t, err, errInit)
			assert.Contains(t, err.Error(), "Initializer")

			later := futures.Submit(p, double, 2)
			assert.ErrorIs(t, later.Err(), futures.ErrBrokenExecutor)
			assert.ErrorIs(t, later.Err(), errInit)
			require.NoError(t, p.Close())
		})
	}
}

func TestShutdownWaitsForQueuedAndRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		require.NoError(t, err)
		g := newGate()
		var fs []*futures.Future[int]
		for i := range 5 {
			fs = append(fs, futures.Submit(p, g.call, i))
		}
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- p.Shutdown(context.Background()) }()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Shutdown returned while calls were running")
		default:
		}
		late := futures.Submit(p, double, 1)
		assert.ErrorIs(t, late.Err(), futures.ErrShutdown)
		assert.Contains(t, late.Err().Error(), "after shutdown")
		close(g.open)
		require.NoError(t, <-closed)
		for i, f := range fs {
			v, err := f.Result(context.Background())
			require.NoError(t, err, "queued calls still run")
			assert.Equal(t, i, v)
		}
		assert.Equal(t, 0, p.Stats().Workers)
		require.NoError(t, p.Close(), "Close again")
		require.NoError(t, p.Shutdown(context.Background(), futures.CancelPending()))
	})
}

func TestShutdownCancelPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1))
		require.NoError(t, err)
		g := newGate()
		running := futures.Submit(p, g.call, 0)
		var queued []*futures.Future[int]
		for i := 1; i <= 5; i++ {
			queued = append(queued, futures.Submit(p, g.call, i))
		}
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- p.Shutdown(context.Background(), futures.CancelPending()) }()
		synctest.Wait()

		// Every observer sees the cancellation at once, while the running
		// call still holds the only worker.
		done, notDone := futures.Wait(context.Background(), queued, futures.AllCompleted)
		assert.Len(t, done, 5)
		assert.Empty(t, notDone)
		n := 0
		for f, err := range futures.AsCompleted(context.Background(), queued...) {
			assert.Equal(t, futures.Cancelled, f.State())
			assert.ErrorIs(t, err, futures.ErrCancelled)
			n++
		}
		assert.Equal(t, 5, n)
		_, err = queued[0].Result(context.Background())
		assert.ErrorIs(t, err, futures.ErrCancelled)
		assert.Equal(t, futures.Running, running.State())

		close(g.open)
		require.NoError(t, <-closed)
		v, err := running.Result(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 0, v)
		s := p.Stats()
		assert.Equal(t, futures.Stats{Submitted: 6, Succeeded: 1, Cancelled: 5}, s)
	})
}

func TestShutdownDeadlineStopsCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1))
		require.NoError(t, err)
		sawCancel := make(chan error, 1)
		running := futures.Go(p, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			sawCancel <- context.Cause(ctx)
			return 0, ctx.Err()
		})
		queued := futures.Submit(p, double, 1)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err = p.Shutdown(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, <-sawCancel, futures.ErrBrokenExecutor, "the running call's context was cancelled")
		for _, f := range []*futures.Future[int]{running, queued} {
			_, err := f.Result(context.Background())
			assert.ErrorIs(t, err, futures.ErrBrokenExecutor)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}
		require.NoError(t, p.Close())
		s := p.Stats()
		assert.Equal(t, futures.Stats{Submitted: 2, Failed: 2}, s)
	})
}

func TestManyConcurrentSubmitters(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(4))
	const submitters, each = 64, 500
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for s := range submitters {
		wg.Go(func() {
			fs := make([]*futures.Future[int], each)
			for i := range fs {
				fs[i] = futures.Submit(p, double, s*each+i)
			}
			for i, f := range fs {
				v, err := f.Result(context.Background())
				if err != nil || v != 2*(s*each+i) {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, wrong.Load())
	st := p.Stats()
	assert.Equal(t, int64(submitters*each), st.Submitted)
	require.NoError(t, p.Close())
	st = p.Stats()
	assert.Equal(t, st.Submitted, st.Succeeded)
}

func TestStatsAddUpUnderLoad(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(3))
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Go(func() {
		for {
			s := p.Stats()
			if got := s.Queued + s.Running + s.Succeeded + s.Failed + s.Cancelled; got != s.Submitted {
				t.Errorf("counts do not add up: %+v", s)
				return
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	})
	errOdd := errors.New("odd")
	// Four submitters, so that calls also go through the pool's lock-free
	// inbox while Stats empties it.
	const submitters = 4
	fs := make([]*futures.Future[int], 2000)
	var submitting sync.WaitGroup
	for s := range submitters {
		submitting.Go(func() {
			for i := s; i < len(fs); i += submitters {
				fs[i] = futures.Submit(p, func(_ context.Context, x int) (int, error) {
					if x%2 == 1 {
						return 0, errOdd
					}
					return x, nil
				}, i)
				if i%7 == 0 {
					fs[i].Cancel()
				}
			}
		})
	}
	submitting.Wait()
	futures.Wait(context.Background(), fs, futures.AllCompleted)
	require.NoError(t, p.Close())
	close(stop)
	checker.Wait()
	s := p.Stats()
	assert.Equal(t, int64(2000), s.Submitted)
	assert.Equal(t, s.Submitted, s.Succeeded+s.Failed+s.Cancelled)
}

func TestWorkersCarryPprofLabels(t *testing.T) {
	p := newPool(t, futures.Name("labelled"))
	labels := futures.Go(p, func(ctx context.Context) ([]string, error) {
		var out []string
		for _, k := range []string{"futures.pool", "futures.worker"} {
			v, _ := pprof.Label(ctx, k)
			out = append(out, v)
		}
		return out, nil
	})
	got, err := labels.Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"labelled", "1"}, got)
	assert.Equal(t, "labelled", p.String())
}

func TestLoggerReportsWorkerLifecycle(t *testing.T) {
	var logs logBuffer
	l := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	errInit := errors.New("init failed")
	first := true
	p, err := futures.NewThreadPool(futures.Name("logged"), futures.MaxWorkers(1), futures.Logger(l),
		futures.Initializer(func(context.Context) error {
			if first {
				first = false
				return nil
			}
			return errInit
		}))
	require.NoError(t, err)
	_, err = futures.Go(p, func(context.Context) (int, error) { runtime.Goexit(); return 0, nil }).Result(context.Background())
	require.Error(t, err)
	_, err = futures.Submit(p, double, 1).Result(context.Background())
	require.ErrorIs(t, err, errInit)
	require.NoError(t, p.Close())
	out := logs.String()
	assert.Contains(t, out, `level=DEBUG msg="futures: worker started" pool=logged worker=1`)
	assert.Contains(t, out, `level=WARN msg="futures: worker exited through runtime.Goexit`)
	assert.Contains(t, out, `level=ERROR msg="futures: worker initializer failed; the pool is broken" pool=logged worker=2 error="init failed"`)
}

func TestShutdownFromInsideACall(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(2))
	other := newGate()
	busy := futures.Submit(p, other.call, 1)
	f := futures.Go(p, func(context.Context) (int, error) {
		return 0, p.Close()
	})
	_, err := f.Result(testCtx(t))
	require.ErrorIs(t, err, futures.ErrDeadlock)
	assert.Contains(t, err.Error(), "from a call running on the same pool")
	assert.ErrorIs(t, futures.Submit(p, double, 1).Err(), futures.ErrShutdown)
	close(other.open)
	_, err = busy.Result(context.Background())
	require.NoError(t, err, "the other calls finish")
	require.NoError(t, p.Close())
}

func TestNilContexts(t *testing.T) {
	p := futures.NewPromise[int]()
	_, err := p.Future().Result(nil)
	assert.ErrorContains(t, err, "futures: the context is nil")
	for f, err := range futures.AsCompleted(nil, p.Future()) {
		assert.Nil(t, f)
		assert.ErrorContains(t, err, "the context is nil")
	}
	require.NoError(t, p.SetResult(1))
	done, _ := futures.Wait(nil, []*futures.Future[int]{p.Future()}, futures.AllCompleted)
	assert.Len(t, done, 1)
}

// plainTask is a Task that is not one of this package's own: Execute takes
// its locked path for it.
type plainTask struct {
	mu    sync.Mutex
	state futures.State
	run   func()
	done  chan struct{}
}

func newPlainTask(run func()) *plainTask { return &plainTask{run: run, done: make(chan struct{})} }

func (t *plainTask) Context() context.Context { return context.Background() }
func (t *plainTask) Func() any                { return t.run }
func (t *plainTask) Arg() (any, bool)         { return nil, false }
func (t *plainTask) NewResult() any           { return new(struct{}) }
func (t *plainTask) Done() <-chan struct{}    { return t.done }
func (t *plainTask) Err() error               { return nil }

func (t *plainTask) State() futures.State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

func (t *plainTask) move(from, to futures.State) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != from {
		return false
	}
	t.state = to
	if to >= futures.Cancelled {
		close(t.done)
	}
	return true
}

func (t *plainTask) Start() bool              { return t.move(futures.Pending, futures.Running) }
func (t *plainTask) Cancel() bool             { return t.move(futures.Pending, futures.Cancelled) }
func (t *plainTask) Complete(any, error) bool { return t.move(futures.Running, futures.Finished) }
func (t *plainTask) Run(context.Context)      { t.run(); t.Complete(nil, nil) }

// TestCallsRunInSubmissionOrder queues calls behind a busy worker, mixing
// those of Submit and Go, which a busy pool takes without its lock, with
// tasks of another kind, which take the lock: they run in the order they
// were submitted, and Stats counts every call Execute took.
func TestCallsRunInSubmissionOrder(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	g := newGate()
	var opened sync.Once
	openGate := func() { opened.Do(func() { close(g.open) }) }
	t.Cleanup(openGate) // before the pool's Close, even if the test fails
	blocker := futures.Submit(p, g.call, -1)
	for g.inside.Load() == 0 {
		runtime.Gosched()
	}
	var mu sync.Mutex
	var order []int
	record := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, i)
	}
	const n = 302 // the last two stay in the inbox until Stats
	var fs []*futures.Future[int]
	var plain []*plainTask
	for i := range n {
		switch i % 3 {
		case 0:
			fs = append(fs, futures.Submit(p, func(_ context.Context, x int) (int, error) { record(x); return x, nil }, i))
		case 1:
			fs = append(fs, futures.Go(p, func(context.Context) (int, error) { record(i); return i, nil }))
		default:
			pt := newPlainTask(func() { record(i) })
			require.NoError(t, p.Execute(pt))
			plain = append(plain, pt)
		}
	}
	s := p.Stats()
	assert.Equal(t, int64(n+1), s.Submitted)
	assert.Equal(t, int64(n), s.Queued)
	assert.Equal(t, int64(1), s.Running)
	require.True(t, fs[5].Cancel(), "a queued call can be cancelled")
	s = p.Stats()
	assert.Equal(t, int64(1), s.Cancelled)
	assert.Equal(t, int64(n-1), s.Queued)
	openGate()
	_, err := blocker.Result(context.Background())
	require.NoError(t, err)
	for _, f := range fs {
		<-f.Done()
	}
	for _, pt := range plain {
		<-pt.Done()
	}
	want := make([]int, 0, n)
	for i := range n {
		if i != 7 { // fs[5] is call 7, cancelled
			want = append(want, i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, want, order)
}
