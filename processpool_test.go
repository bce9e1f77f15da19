//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/wire"
)

// Functions the tests run in worker processes. The workers re-execute this
// test binary, so these registrations happen in both processes.
func init() {
	futures.Register(procSquare, procPid, procInfo, procStruct, procMaybeFail, procPanic,
		procExit, procBlock, procHang, procSleep, procPrint, procNaN, procInit, procInitFail)
}

func procSquare(_ context.Context, x int) (int, error) { return x * x, nil }

func procPid(context.Context) (int, error) { return os.Getpid(), nil }

// procInfo describes the worker process it runs in.
type procInfoT struct {
	PID, PGID   int
	Args        []string
	PoolEnv     string
	Initialized string
}

// initialized is set by procInit, the Initializer, in worker processes only.
var initialized = "no"

func procInit(context.Context) error {
	initialized = "set by the initializer"
	return nil
}

func procInitFail(context.Context) error { return errors.New("the initializer failed on purpose") }

func procInfo(context.Context) (procInfoT, error) {
	pgid, err := syscall.Getpgid(0)
	return procInfoT{PID: os.Getpid(), PGID: pgid, Args: os.Args, PoolEnv: os.Getenv("GOFUTURES_POOL"), Initialized: initialized}, err
}

type point struct {
	X, Y  int
	Label string
}

type rect struct {
	Min, Max point
	Area     float64
	Tags     map[string]int
}

func procStruct(_ context.Context, p point) (rect, error) {
	return rect{Max: p, Area: float64(p.X * p.Y), Tags: map[string]int{p.Label: len(p.Label)}}, nil
}

var errMultipleOfSeven = errors.New("multiple of seven")

func procMaybeFail(_ context.Context, x int) (int, error) {
	if x%7 == 0 {
		return 0, fmt.Errorf("item %d: %w", x, errMultipleOfSeven)
	}
	return 2 * x, nil
}

func procPanic(_ context.Context, msg string) (int, error) { panic(msg) }

func procExit(_ context.Context, code int) (int, error) {
	fmt.Fprintf(os.Stderr, "worker %d exits with %d on purpose\n", os.Getpid(), code)
	os.Exit(code)
	return 0, nil
}

// procBlock tells the test it runs (see runningSignal), then waits for its
// context.
func procBlock(ctx context.Context, fifo string) (int, error) {
	if err := signalRunning(fifo); err != nil {
		return 0, err
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

// procHang tells the test it runs, then ignores its context and SIGTERM.
func procHang(_ context.Context, fifo string) (int, error) {
	signal.Ignore(syscall.SIGTERM)
	if err := signalRunning(fifo); err != nil {
		return 0, err
	}
	select {}
}

func procSleep(_ context.Context, d time.Duration) (int, error) {
	time.Sleep(d)
	return os.Getpid(), nil
}

func procPrint(_ context.Context, s string) (string, error) {
	fmt.Print(s)
	os.Stdout.Write([]byte{0xff, 0xff, 0xff, 0x7f, 7, 1, 2, 3})
	return s, nil
}

func procNaN(_ context.Context, x int) (float64, error) {
	if x == 0 {
		return math.NaN(), nil
	}
	return float64(x), nil
}

// signalRunning writes the worker's pid to the named pipe fifo.
func signalRunning(fifo string) error {
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, os.Getpid())
	return err
}

// runningSignal returns the path of a named pipe for signalRunning and a
// function that waits until a call has written to it and returns its pid.
func runningSignal(t *testing.T) (string, func() int) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "running")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	return fifo, func() int {
		t.Helper()
		f, err := os.Open(fifo) // blocks until the call opens it
		require.NoError(t, err)
		defer f.Close()
		line, err := bufio.NewReader(f).ReadString('\n')
		require.NoError(t, err)
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		require.NoError(t, err)
		return pid
	}
}

// newProcPool returns a ProcessPool that is closed at the end of the test,
// after which the test checks that no child process is left.
func newProcPool(t *testing.T, opts ...futures.Option) *futures.ProcessPool {
	t.Helper()
	p, err := futures.NewProcessPool(opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, p.Close())
		assert.Empty(t, children(t), "child processes left after Close")
	})
	return p
}

func TestProcessPoolRunsCallsInAnotherProcess(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2))
	v, err := futures.Submit(p, procSquare, 12).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 144, v)
	pid, err := futures.Go(p, procPid).Result(bg)
	require.NoError(t, err)
	assert.NotEqual(t, os.Getpid(), pid)
	assert.Contains(t, children(t), pid)
}

func TestProcessPoolStructsBothCodecs(t *testing.T) {
	for _, codec := range []futures.Codec{futures.Gob, futures.JSON} {
		t.Run(codec.Name(), func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(1), futures.Encoding(codec))
			in := point{X: 3, Y: 4, Label: "héllo"}
			got, err := futures.Submit(p, procStruct, in).Result(bg)
			require.NoError(t, err)
			assert.Equal(t, rect{Max: in, Area: 12, Tags: map[string]int{"héllo": 6}}, got)
		})
	}
}

func TestProcessPoolMapChunkSizes(t *testing.T) {
	const n = 5000
	p := newProcPool(t, futures.MaxWorkers(2))
	for _, opts := range [][]futures.MapOption{nil, {futures.Chunksize(1)}, {futures.Chunksize(7)}, {futures.Chunksize(100)}, {futures.Chunksize(1000), futures.Unordered()}} {
		t.Run(fmt.Sprint(len(opts)), func(t *testing.T) {
			seen := make([]bool, n)
			i := 0
			for v, err := range futures.Map(bg, p, procMaybeFail, count(n), opts...) {
				if len(opts) < 2 { // ordered
					if i%7 == 0 {
						var re *futures.RemoteError
						require.ErrorAs(t, err, &re, "item %d", i)
						assert.Equal(t, fmt.Sprintf("item %d: multiple of seven", i), re.Message)
						assert.Equal(t, "*fmt.wrapError", re.Type)
					} else {
						require.NoError(t, err)
						require.Equal(t, 2*i, v)
					}
				} else if err == nil {
					seen[v/2] = true
				}
				i++
			}
			assert.Equal(t, n, i)
			if len(opts) == 2 {
				for k := range n {
					assert.Equal(t, k%7 != 0, seen[k], "item %d", k)
				}
			}
		})
	}
	s := p.Stats()
	assert.Equal(t, int64(5*n), s.Submitted)
	assert.Equal(t, s.Submitted, s.Queued+s.Running+s.Succeeded+s.Failed+s.Cancelled)
	assert.Equal(t, int64(5*(n/7+1)), s.Failed)
}

func TestProcessPoolWorkerKilledMidCall(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2))
	fifo, running := runningSignal(t)
	victim := futures.Submit(p, procBlock, fifo)
	pid := running()
	var queued []*futures.Future[int]
	for i := range 40 {
		queued = append(queued, futures.Submit(p, procSquare, i))
	}
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	_, err := victim.Result(bg)
	var we *futures.WorkerExitError
	require.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, futures.ErrWorkerExited)
	assert.Equal(t, pid, we.PID)
	assert.Equal(t, "killed", we.Signal)
	assert.Equal(t, -1, we.ExitCode)
	for i, f := range queued {
		v, err := f.Result(bg)
		require.NoError(t, err, "queued call %d", i)
		assert.Equal(t, i*i, v)
	}
	pid2, err := futures.Go(p, procPid).Result(bg)
	require.NoError(t, err)
	assert.NotEqual(t, pid, pid2)
	assert.GreaterOrEqual(t, p.Stats().WorkerExits, int64(1))
}

func TestProcessPoolWorkerExitsWhileCallsQueued(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2))
	crash := futures.Submit(p, procExit, 3)
	var queued []*futures.Future[int]
	for i := range 40 {
		queued = append(queued, futures.Submit(p, procSquare, i))
	}
	_, err := crash.Result(bg)
	var we *futures.WorkerExitError
	require.ErrorAs(t, err, &we)
	assert.Equal(t, 3, we.ExitCode)
	assert.Empty(t, we.Signal)
	assert.Contains(t, we.Stderr, "exits with 3 on purpose")
	assert.Contains(t, err.Error(), "exits with 3 on purpose")
	for i, f := range queued {
		v, err := f.Result(bg)
		require.NoError(t, err, "queued call %d", i)
		assert.Equal(t, i*i, v)
	}
}

func TestProcessPoolCrashMidChunkFailsOnlyThatItem(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	codes := []int{0, 0, 0, 0, 0, 4, 0, 0, 0, 0}
	i := 0
	for _, err := range futures.Map(bg, p, procExitIf, slices.Values(codes), futures.Chunksize(10)) {
		switch {
		case i == 5:
			assert.ErrorIs(t, err, futures.ErrWorkerExited)
		default:
			// Items before it returned: their results arrive. Items the
			// worker never started go to its replacement.
			assert.NoError(t, err, "item %d", i)
		}
		i++
	}
	assert.Equal(t, 10, i)
	assert.Equal(t, int64(2), p.Stats().WorkerStarts)
}

func procExitIf(_ context.Context, code int) (int, error) {
	if code != 0 {
		os.Exit(code)
	}
	return 0, nil
}

func init() { futures.Register(procExitIf) }

func TestProcessPoolMaxTasksPerWorker(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.MaxTasksPerWorker(2))
	uses := map[int]int{}
	for range 6 {
		pid, err := futures.Go(p, procPid).Result(bg)
		require.NoError(t, err)
		uses[pid]++
	}
	assert.Len(t, uses, 3)
	for pid, n := range uses {
		assert.Equal(t, 2, n, "worker %d", pid)
	}
	assert.Equal(t, int64(3), p.Stats().WorkerStarts)
}

func TestProcessPoolTaskTimeout(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.TaskTimeout(200*time.Millisecond))
	slow := futures.Submit(p, procSleep, time.Hour)
	fast := futures.Submit(p, procSleep, 0)
	_, err := slow.Result(bg)
	assert.ErrorIs(t, err, futures.ErrTimeout)
	assert.Contains(t, err.Error(), "TaskTimeout(200ms)")
	pid, err := fast.Result(bg)
	require.NoError(t, err)
	assert.NotZero(t, pid)
	s := p.Stats()
	assert.Equal(t, int64(1), s.WorkerKills)
	assert.Equal(t, int64(2), s.WorkerStarts)
}

func TestProcessPoolInitializer(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.Initializer(procInit), futures.Name("init-test"))
	info, err := futures.Go(p, procInfo).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, "set by the initializer", info.Initialized)
	assert.Equal(t, "no", initialized, "the initializer ran in the parent")
	assert.Equal(t, "init-test", info.PoolEnv)
	assert.Contains(t, info.Args, "-futures.worker=init-test")
	parentPgid, err := syscall.Getpgid(0)
	require.NoError(t, err)
	assert.NotEqual(t, parentPgid, info.PGID, "a worker shares the parent's process group")
	assert.Equal(t, info.PID, info.PGID)
}

func TestProcessPoolInitializerFailureBreaksPool(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2), futures.Initializer(procInitFail))
	_, err := futures.Submit(p, procSquare, 2).Result(bg)
	require.ErrorIs(t, err, futures.ErrBrokenExecutor)
	var re *futures.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "the initializer failed on purpose", re.Message)
	_, err = futures.Submit(p, procSquare, 3).Result(bg)
	assert.ErrorIs(t, err, futures.ErrBrokenExecutor)
}

func TestProcessPoolUnregisteredInitializer(t *testing.T) {
	_, err := futures.NewProcessPool(futures.Initializer(func(context.Context) error { return nil }))
	assert.ErrorIs(t, err, futures.ErrNotRegistered)
}

func TestProcessPoolMissingWorkerCommand(t *testing.T) {
	p := newProcPool(t, futures.WorkerCommand(filepath.Join(t.TempDir(), "no-such-program")))
	_, err := futures.Submit(p, procSquare, 2).Result(bg)
	assert.ErrorIs(t, err, futures.ErrBrokenExecutor)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = futures.Submit(p, procSquare, 3).Result(bg)
	assert.ErrorIs(t, err, futures.ErrBrokenExecutor, "a broken pool accepted a call")
}

func TestProcessPoolForcedShutdown(t *testing.T) {
	for _, fn := range []func(context.Context, string) (int, error){procBlock, procHang} {
		name := "respects its context"
		if reflectName(fn) == reflectName(procHang) {
			name = "ignores its context and SIGTERM"
		}
		t.Run(name, func(t *testing.T) {
			p, err := futures.NewProcessPool(futures.MaxWorkers(1))
			require.NoError(t, err)
			fifo, running := runningSignal(t)
			f := futures.Submit(p, fn, fifo)
			queued := futures.Submit(p, procSquare, 2)
			running()
			ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
			defer cancel()
			assert.ErrorIs(t, p.Shutdown(ctx), context.DeadlineExceeded)
			assert.Empty(t, children(t), "child processes left after a forced Shutdown")
			_, err = f.Result(bg)
			assert.ErrorIs(t, err, futures.ErrBrokenExecutor)
			_, err = queued.Result(bg)
			assert.ErrorIs(t, err, futures.ErrBrokenExecutor)
			require.NoError(t, p.Close())
			s := p.Stats()
			assert.Equal(t, s.Submitted, s.Succeeded+s.Failed+s.Cancelled)
			if reflectName(fn) == reflectName(procHang) {
				assert.Equal(t, int64(1), s.WorkerKills, "the worker ignoring SIGTERM was not killed")
			}
		})
	}
}

func reflectName(fn any) string { return fmt.Sprintf("%p", fn) }

func TestProcessPoolShutdownCancelPending(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	fifo, running := runningSignal(t)
	ctx, cancel := context.WithCancel(bg)
	var results []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, err := range futures.Map(ctx, p, procBlock, slices.Values([]string{fifo}), futures.Chunksize(1)) {
			results = append(results, err)
		}
	}()
	running()
	queued := futures.Submit(p, procSquare, 3)
	assert.Equal(t, futures.Pending, queued.State())
	shut := make(chan error)
	go func() { shut <- p.Shutdown(bg, futures.CancelPending()) }()
	<-queued.Done()
	assert.Equal(t, futures.Cancelled, queued.State())
	cancel() // the Map stops: the worker cancels the running call's context
	require.NoError(t, <-shut)
	<-done
	require.Len(t, results, 1)
	assert.ErrorIs(t, results[0], futures.ErrCancelled)
	assert.ErrorIs(t, futures.Submit(p, procSquare, 1).Err(), futures.ErrShutdown)
}

func TestProcessPoolCancelQueued(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	fifo, running := runningSignal(t)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	seq := func(yield func(string) bool) { yield(fifo) }
	go func() {
		for range futures.Map(ctx, p, procBlock, seq) {
		}
	}()
	running()
	f := futures.Submit(p, procSquare, 5)
	assert.True(t, f.Cancel())
	assert.ErrorIs(t, f.Err(), futures.ErrCancelled)
	cancel()
	g := futures.Submit(p, procSquare, 6)
	v, err := g.Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 36, v)
}

func TestProcessPoolMapStopCancelsRunningCalls(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2))
	fifo, running := runningSignal(t)
	ctx, cancel := context.WithCancel(bg)
	got := make(chan error, 1)
	go func() {
		for _, err := range futures.Map(ctx, p, procBlock, slices.Values([]string{fifo})) {
			got <- err
		}
		close(got)
	}()
	running()
	cancel()
	err := <-got
	assert.ErrorIs(t, err, futures.ErrCancelled)
	_, open := <-got
	assert.False(t, open)
}

func TestProcessPoolTaskErrorsAndPanics(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(p, procPanic, "no way").Result(bg)
	var pe *futures.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "no way", pe.Value)
	assert.Contains(t, string(pe.Stack), "procPanic")
	_, err = futures.Submit(p, procMaybeFail, 14).Result(bg)
	var re *futures.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "item 14: multiple of seven", re.Message)
	assert.Contains(t, re.Stack, "procMaybeFail")
	v, err := futures.Submit(p, procMaybeFail, 3).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 6, v)
	assert.Equal(t, int64(1), p.Stats().WorkerStarts, "the worker did not survive the panic")
}

func procUnregistered(_ context.Context, x int) (int, error) { return x, nil }

func TestProcessPoolUnregisteredFunction(t *testing.T) {
	p := newProcPool(t)
	err := futures.Submit(p, procUnregistered, 1).Err()
	require.ErrorIs(t, err, futures.ErrNotRegistered)
	assert.Contains(t, err.Error(), "procUnregistered")
	closure := func(context.Context) (int, error) { return 0, nil }
	assert.ErrorIs(t, futures.Go(p, closure).Err(), futures.ErrNotRegistered)
	for _, err := range futures.Map(bg, p, procUnregistered, count(3)) {
		assert.ErrorIs(t, err, futures.ErrNotRegistered)
	}
	assert.Zero(t, p.Stats().WorkerStarts)
}

// TestProcessPoolClosureAdvice submits what Register refuses: the error
// advises a top-level function, not a Register call that would panic.
func TestProcessPoolClosureAdvice(t *testing.T) {
	p := newProcPool(t)
	captured := 2
	for _, tc := range []struct {
		name string
		err  error
		what string
	}{
		{"closure", futures.Submit(p, func(_ context.Context, x int) (int, error) { return x * captured, nil }, 1).Err(), "a closure"},
		{"method value", futures.Submit(p, regRecv{}.Method, 1).Err(), "a method value"},
		{"generic", futures.Submit(p, regGeneric[int], 1).Err(), "generic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.err, futures.ErrNotRegistered)
			assert.Contains(t, tc.err.Error(), tc.what)
			assert.Contains(t, tc.err.Error(), "declare a top-level function")
			assert.NotContains(t, tc.err.Error(), "futures.Register(", "advice that panics")
		})
	}
	assert.Zero(t, p.Stats().WorkerStarts)
}

func TestProcessPoolUnencodableValuesFailOneCall(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.Encoding(futures.JSON))
	bad := futures.Submit(p, procStruct, point{})
	_ = bad
	nan := futures.Submit(p, procNaN, 0)
	ok := futures.Submit(p, procNaN, 2)
	_, err := nan.Result(bg)
	assert.ErrorContains(t, err, "cannot encode the result")
	v, err := ok.Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 2.0, v)
	inf := futures.Submit(p, procFloat, math.Inf(1))
	assert.ErrorContains(t, inf.Err(), "cannot encode the argument")
	v, err = futures.Submit(p, procFloat, 1.5).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 1.5, v)

	// In a chunk, the item that cannot be encoded fails alone.
	in := []float64{1, 2, math.Inf(1), 4, 5, 6}
	i := 0
	for v, err := range futures.Map(bg, p, procFloat, slices.Values(in), futures.Chunksize(4)) {
		if i == 2 {
			assert.ErrorContains(t, err, "cannot encode the argument", "item %d", i)
		} else if assert.NoError(t, err, "item %d", i) {
			assert.Equal(t, in[i], v)
		}
		i++
	}
	assert.Equal(t, len(in), i)
}

func procFloat(_ context.Context, x float64) (float64, error) { return x, nil }

func init() { futures.Register(procFloat) }

func TestProcessPoolStdoutDoesNotDisturbTheProtocol(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	s := "\x05\x00\x00\x00\x07garbage on stdout\n"
	for range 3 {
		v, err := futures.Submit(p, procPrint, s).Result(bg)
		require.NoError(t, err)
		assert.Equal(t, s, v)
	}
}

func TestProcessPoolLifecycleIsLogged(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	p, err := futures.NewProcessPool(futures.MaxWorkers(1), futures.Name("logged"), futures.Logger(logger), futures.MaxTasksPerWorker(1))
	require.NoError(t, err)
	_, err = futures.Go(p, procPid).Result(bg)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	out := buf.String()
	assert.Contains(t, out, `level=INFO msg="futures: worker process started" pool=logged`)
	assert.Contains(t, out, `level=INFO msg="futures: worker process recycled after MaxTasksPerWorker calls" pool=logged`)
	assert.Contains(t, out, `level=INFO msg="futures: worker process exited" pool=logged`)
	s := p.Stats()
	assert.Equal(t, futures.Stats{Submitted: 1, Succeeded: 1, WorkerStarts: 1, WorkerExits: 1}, s)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestProcessPoolStatsAddUp(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(2))
	var fs []*futures.Future[int]
	stop := make(chan struct{})
	checked := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				checked <- n
				return
			default:
			}
			s := p.Stats()
			if s.Submitted != s.Queued+s.Running+s.Succeeded+s.Failed+s.Cancelled {
				t.Errorf("inconsistent stats: %+v", s)
			}
			n++
		}
	}()
	for i := range 2000 {
		fs = append(fs, futures.Submit(p, procSquare, i))
		if i%3 == 0 {
			fs[i].Cancel()
		}
	}
	for _, f := range fs {
		<-f.Done()
	}
	close(stop)
	assert.Positive(t, <-checked)
	s := p.Stats()
	assert.Equal(t, int64(2000), s.Submitted)
	assert.Equal(t, int64(2000), s.Succeeded+s.Cancelled)
}

func TestProcessPoolNewRejectsBadOptions(t *testing.T) {
	for _, opt := range []futures.Option{futures.MaxWorkers(0), futures.TaskTimeout(0), futures.MaxTasksPerWorker(0), futures.Encoding(nil), futures.WorkerCommand("")} {
		_, err := futures.NewProcessPool(opt)
		assert.Error(t, err)
	}
	_, err := futures.NewProcessPool(futures.Encoding(upperCodec{}))
	assert.ErrorContains(t, err, "RegisterCodec")
	// Workers would use Gob, and speak gob streams, where the pool does not.
	_, err = futures.NewProcessPool(futures.Encoding(gobNamed{futures.Gob}))
	assert.ErrorContains(t, err, `another codec is registered as "gob"`)
}

type upperCodec struct{ futures.Codec }

func (upperCodec) Name() string { return "upper" }

// gobNamed is a codec of its own that takes Gob's name.
type gobNamed struct{ futures.Codec }

func TestWorkerStartedByHand(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-futures.worker=by-hand")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
	assert.Contains(t, string(out), "worker process of ProcessPool")

	cmd = exec.Command(exe)
	cmd.Env = append(os.Environ(), "GOFUTURES_WORKER="+strconv.Itoa(wire.Version))
	out, err = cmd.CombinedOutput()
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
	assert.Contains(t, string(out), "file descriptor 3")
}

// TestWorkersDieWithTheirParent runs a helper process that starts a pool
// and a long call, kills the helper, and checks that the worker exits too.
func TestWorkersDieWithTheirParent(t *testing.T) {
	if os.Getenv("FUTURES_TEST_ORPHAN_HELPER") != "" {
		p, err := futures.NewProcessPool(futures.MaxWorkers(1))
		require.NoError(t, err)
		fifo, running := runningSignal(t)
		futures.Submit(p, procBlock, fifo)
		fmt.Println("worker", running())
		select {}
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^TestWorkersDieWithTheirParent$")
	cmd.Env = append(os.Environ(), "FUTURES_TEST_ORPHAN_HELPER=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var worker int
	_, err = fmt.Fscanf(bufio.NewReader(out), "worker %d\n", &worker)
	require.NoError(t, err)
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	// The worker sees EOF on its pipe and gets its parent-death signal; wait
	// for the kernel to report it gone.
	deadline := time.Now().Add(10 * time.Second)
	for alive(worker) {
		if time.Now().After(deadline) {
			syscall.Kill(worker, syscall.SIGKILL)
			t.Fatalf("worker %d outlived its parent", worker)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestProcessPoolQueueSizeBlocksUntilRoomOrContext(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1), futures.QueueSize(1))
	fifo, running := runningSignal(t)
	ctx, cancel := context.WithCancel(bg)
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		for range futures.Map(ctx, p, procBlock, slices.Values([]string{fifo})) {
		}
	}()
	running()
	queued := futures.Submit(p, procSquare, 4) // the one place in the queue
	short, stop := context.WithTimeout(bg, 50*time.Millisecond)
	defer stop()
	var errs []error
	for _, err := range futures.Map(short, p, procSquare, count(1)) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], futures.ErrTimeout)
	cancel()
	<-blocked
	v, err := queued.Result(bg)
	require.NoError(t, err)
	assert.Equal(t, 16, v)
}

// procShape returns a rect with one of three parts set, picked by x.
func procShape(_ context.Context, x int) (rect, error) {
	switch x % 7 {
	case 0, 1:
		return rect{Min: point{X: x}}, nil
	case 2, 3:
		return rect{Max: point{Y: x, Label: "max"}}, nil
	}
	return rect{Area: float64(x), Tags: map[string]int{"x": x}}, nil
}

func init() { futures.Register(procShape) }

// TestProcessPoolMapResultsDecodeIntoFreshValues maps over enough items that
// Map reuses its items: a result decodes into a zero value, never into what
// an earlier item left (gob leaves out zero fields, JSON merges maps).
func TestProcessPoolMapResultsDecodeIntoFreshValues(t *testing.T) {
	const n = 3000
	for _, codec := range []futures.Codec{futures.Gob, futures.JSON} {
		t.Run(codec.Name(), func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(2), futures.Encoding(codec))
			for _, size := range []int{1, 10} {
				i := 0
				for v, err := range futures.Map(bg, p, procShape, count(n), futures.Chunksize(size), futures.Buffer(8)) {
					require.NoError(t, err)
					want, _ := procShape(bg, i)
					require.Equal(t, want, v, "chunksize %d, item %d", size, i)
					i++
				}
				require.Equal(t, n, i)
			}
		})
	}
}

// procNotRegistered is never registered.
func procNotRegistered(_ context.Context, x int) (int, error) { return x, nil }

func TestProcessPoolMapOnEmptyInputAndShutdownOfClosedPool(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	var errs []error
	for _, err := range futures.Map(context.Background(), p, procNotRegistered, slices.Values([]int(nil))) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], futures.ErrNotRegistered)

	require.NoError(t, p.Close())
	errs = nil
	for _, err := range futures.Map(context.Background(), p, procSquare, slices.Values([]int(nil))) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], futures.ErrShutdown)
	ctx := cancelledContext()
	for range 64 { // the old select chose at random
		require.NoError(t, p.Shutdown(ctx))
	}
}
