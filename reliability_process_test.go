//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/supervise"
)

// Functions the process-pool reliability tests run in worker processes.
func init() {
	futures.Register(chaosCall, initBlock)
}

// chaosResult is what chaosCall returns: the square of its argument and the
// worker that computed it.
type chaosResult struct{ Square, PID int }

// chaosCall returns x*x after a short pause, or exits the worker process
// for a negative x.
func chaosCall(_ context.Context, x int) (chaosResult, error) {
	if x < 0 {
		os.Exit(9)
	}
	time.Sleep(100 * time.Microsecond)
	return chaosResult{x * x, os.Getpid()}, nil
}

// TestReliabilityProcessChaos runs calls on a pool of 4 while a killer
// SIGKILLs a random worker (starting or serving) every 50 ms and some calls
// exit their worker: every future finishes, each with its correct result or
// a *WorkerExitError, the pool serves afterwards and leaves no process
// behind. The killer never kills more than two workers in a row that have
// not served a call yet: four workers killed in a row before they were
// ready break the pool, as a worker program that cannot start should.
func TestReliabilityProcessChaos(t *testing.T) {
	n := size(1_000, 10_000)
	p := newProcPool(t, futures.MaxWorkers(4))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	exits := map[int]bool{}
	fs := make([]*futures.Future[chaosResult], n)
	index := make(map[*futures.Future[chaosResult]]int, n)

	stop := make(chan struct{})
	var kills int
	var servedMu sync.Mutex
	served := map[int]bool{} // workers that returned a call
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		unserved := 0 // workers killed in a row before they served a call
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			pids := children(t)
			servedMu.Lock()
			if unserved >= 2 {
				pids = slices.DeleteFunc(pids, func(pid int) bool { return !served[pid] })
			}
			if len(pids) == 0 {
				servedMu.Unlock()
				continue
			}
			pid := pids[rand.IntN(len(pids))]
			if served[pid] {
				unserved = 0
			} else {
				unserved++
			}
			servedMu.Unlock()
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				kills++
			}
		}
	})

	start := time.Now()
	for i := range n {
		x := i
		if rng.IntN(200) == 0 {
			x = -1
			exits[i] = true
		}
		fs[i] = futures.Submit(p, chaosCall, x)
		fs[i].OnDone(func(f *futures.Future[chaosResult]) {
			if v, err := f.Result(bg); err == nil {
				servedMu.Lock()
				served[v.PID] = true
				servedMu.Unlock()
			}
		})
		index[fs[i]] = i
	}
	ctx, cancel := context.WithTimeout(bg, time.Duration(size(30, 300))*time.Second)
	defer cancel()
	var ok, exited, wrong, finished int
	for f, err := range futures.AsCompleted(ctx, fs...) {
		if f == nil {
			t.Fatalf("after %d futures: %v; %+v", finished, err, p.Stats())
		}
		finished++
		i := index[f]
		v, err := f.Result(ctx)
		var we *futures.WorkerExitError
		switch {
		case err == nil && !exits[i] && v.Square == i*i:
			ok++
		case errors.As(err, &we) && !errors.Is(err, futures.ErrBrokenExecutor):
			exited++
		default:
			if wrong++; wrong <= 5 {
				t.Errorf("call %d (exits: %v): %+v, %v", i, exits[i], v, err)
			}
		}
	}
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	t.Logf("%d calls in %v: %d succeeded, %d failed with *WorkerExitError (%d calls exited their worker, %d SIGKILLs sent); %d worker starts",
		n, elapsed.Round(time.Millisecond), ok, exited, len(exits), kills, p.Stats().WorkerStarts)
	assert.Equal(t, n, finished)
	assert.Zero(t, wrong)
	assert.Equal(t, n, ok+exited)

	// The pool keeps serving once the killing stops.
	for i := range 100 {
		v, err := futures.Submit(p, chaosCall, i).Result(ctx)
		require.NoError(t, err, "call %d after the chaos", i)
		require.Equal(t, i*i, v.Square)
	}
	require.NoError(t, p.Close())
	s := p.Stats()
	assert.Equal(t, s.Submitted, s.Succeeded+s.Failed, "%+v", s)
	assert.Empty(t, children(t), "child processes or zombies left after Close")
}

// envInitFifo names the pipe initBlock reports to.
const envInitFifo = "FUTURES_TEST_INIT_FIFO"

// initBlock is an Initializer that, when envInitFifo is set, writes the
// worker's pid to that pipe, then waits until the test opens and closes the
// pipe named by it plus ".release".
func initBlock(context.Context) error {
	fifo := os.Getenv(envInitFifo)
	if fifo == "" {
		return nil
	}
	if err := signalRunning(fifo); err != nil {
		return err
	}
	f, err := os.Open(fifo + ".release")
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

// TestReliabilityProcessWorkerKilledWhileStarting SIGKILLs a worker while
// its Initializer runs, before it is ready: the pool starts another one and
// the call succeeds, as when a serving worker is killed.
func TestReliabilityProcessWorkerKilledWhileStarting(t *testing.T) {
	fifo, running := runningSignal(t)
	require.NoError(t, syscall.Mkfifo(fifo+".release", 0o600))
	t.Setenv(envInitFifo, fifo)
	p := newProcPool(t, futures.MaxWorkers(1), futures.Initializer(initBlock))
	f := futures.Submit(p, chaosCall, 3)
	first := running()
	require.NoError(t, syscall.Kill(first, syscall.SIGKILL))

	// A replacement, if any, runs the Initializer too: let it finish. The
	// killed worker may still hold the pipe open for an instant, so an empty
	// read is not yet the replacement: read again.
	replaced := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		for {
			fifoFile, err := os.OpenFile(fifo, os.O_RDONLY, 0)
			if err != nil {
				return
			}
			var pid int
			fmt.Fscan(fifoFile, &pid)
			fifoFile.Close()
			select {
			case <-done:
				return
			default:
			}
			if pid == 0 || pid == first {
				continue
			}
			if rel, err := os.OpenFile(fifo+".release", os.O_WRONLY, 0); err == nil {
				rel.Close()
			}
			replaced <- pid
			return
		}
	}()
	t.Cleanup(func() {
		// Unblock the goroutine if no replacement came.
		close(done)
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	v, err := f.Result(testCtx(t))
	require.NoError(t, err, "the call failed because a starting worker was killed")
	assert.Equal(t, 9, v.Square)
	assert.NotEqual(t, first, <-replaced)
}

// buildParent builds testdata/parent into a temporary directory and returns
// its path.
func buildParent(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH:", err)
	}
	exe := filepath.Join(t.TempDir(), "parent")
	out, err := exec.Command(gobin, "build", "-o", exe, "./testdata/parent").CombinedOutput()
	require.NoError(t, err, "go build ./testdata/parent: %s", out)
	return exe
}

// startParent starts the parent program with args and lets it start one
// busy call per worker; it returns the workers' pids and the program's
// output, from which it has read the "running" lines.
func startParent(t *testing.T, cmd *exec.Cmd, workers int) ([]int, *bufio.Reader) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	var pids []int
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	out := bufio.NewReader(stdout)
	for i := range workers {
		var pid int
		_, err := fmt.Fscanf(out, "running %d\n", &pid)
		require.NoError(t, err, "reading the pid of worker %d", i)
		pids = append(pids, pid)
		_, err = io.WriteString(stdin, "next\n")
		require.NoError(t, err)
	}
	return pids, out
}

// TestReliabilityProcessParentKilled SIGKILLs a parent whose workers are
// busy, one computing and one asleep: every worker exits by itself within a
// second, leaving no orphan.
func TestReliabilityProcessParentKilled(t *testing.T) {
	const workers = 2
	exe := buildParent(t)
	var worst time.Duration
	for round := range size(3, 20) {
		cmd := exec.Command(exe, "-mode=kill", fmt.Sprintf("-workers=%d", workers))
		pids, out := startParent(t, cmd, workers)
		for _, pid := range pids {
			require.True(t, alive(pid), "worker %d", pid)
		}
		killed := time.Now()
		require.NoError(t, cmd.Process.Kill())
		// Orphans are killed after a while, for the test to fail, not hang.
		reap := time.AfterFunc(5*time.Second, func() {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		// The workers hold the write end of the parent's stdout: it ends
		// once the last of them has exited.
		_, err := io.Copy(io.Discard, out)
		require.NoError(t, err)
		gone := time.Since(killed)
		reap.Stop()
		worst = max(worst, gone)
		require.Less(t, gone, time.Second, "round %d: the workers outlived their parent", round)
		for _, pid := range pids {
			assert.Eventually(t, func() bool { return !alive(pid) }, time.Second, time.Millisecond, "worker %d", pid)
		}
		cmd.Wait()
	}
	t.Logf("workers gone at most %v after their parent was killed", worst)
}

// TestReliabilityProcessInterrupt sends SIGINT to the parent's whole process
// group, as Ctrl-C does: the workers, in groups of their own, are not
// interrupted, and the parent, which handles the signal, lets their calls
// finish.
func TestReliabilityProcessInterrupt(t *testing.T) {
	const workers = 2
	exe := buildParent(t)
	release := filepath.Join(t.TempDir(), "release")
	require.NoError(t, syscall.Mkfifo(release, 0o600))
	// Holding the pipe open for writing keeps the calls running; opening it
	// read-write does not wait for a reader.
	hold, err := os.OpenFile(release, os.O_RDWR, 0)
	require.NoError(t, err)
	defer hold.Close()

	cmd := exec.Command(exe, "-mode=interrupt", fmt.Sprintf("-workers=%d", workers), "-release="+release)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pids, out := startParent(t, cmd, workers)
	line, err := out.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)

	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT))
	line, err = out.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "interrupted\n", line)
	for _, pid := range pids {
		assert.True(t, alive(pid), "worker %d was interrupted", pid)
	}
	require.NoError(t, hold.Close())
	rest, err := io.ReadAll(out)
	require.NoError(t, err)
	var want strings.Builder
	for _, pid := range pids {
		fmt.Fprintf(&want, "result %d <nil>\n", pid)
	}
	assert.Equal(t, want.String(), string(rest), "every call finished in its worker")
	require.NoError(t, cmd.Wait(), "the parent exits normally")
}

// protoFault breaks the protocol from inside a call, as fault says, then
// returns its worker's pid unless the fault stops it.
func protoFault(_ context.Context, fault string) (int, error) {
	out := supervise.FDOut
	switch fault {
	case "garbage":
		syscall.Write(out, []byte("\x0b\x00\x00\x00\x63not a frame"))
	case "huge frame":
		syscall.Write(out, []byte{0xff, 0xff, 0xff, 0x7f, byte(7)})
	case "bad results record":
		// A results frame whose record is cut short.
		syscall.Write(out, []byte{0x05, 0x00, 0x00, 0x00, 7, 1, 0xe8, 0x07, 0})
	case "frame cut short":
		syscall.Write(out, []byte{0x00, 0x00, 0x10, 0x00, 7, 1, 2, 3})
	case "close":
		syscall.Close(out)
	case "close and hang":
		syscall.Close(out)
		select {}
	case "hang":
		for { // stopped again if anything continues it
			syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		}
	}
	return os.Getpid(), nil
}

func init() { futures.Register(protoFault) }

// TestReliabilityProcessProtocolFaults has a worker write garbage on its
// protocol pipe, close it, or stop: the call fails with an error saying so
// (a call that returns after closing the pipe has its result delivered from
// the page the worker shares with the pool), a call queued behind it runs,
// and the pool serves on.
func TestReliabilityProcessProtocolFaults(t *testing.T) {
	for _, tc := range []struct {
		fault string
		want  string // in the error, besides matching ErrWorkerExited
	}{
		{fault: "garbage", want: "malformed"},
		{fault: "huge frame", want: "malformed"},
		{fault: "bad results record", want: "malformed"},
		{fault: "frame cut short", want: "stopped sending"}, // caught by the TaskTimeout watchdog
		{fault: "close", want: ""},
		{fault: "close and hang", want: "closed"}, // or its own TaskTimeout, whichever comes first
		{fault: "hang", want: "TaskTimeout"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(1), futures.TaskTimeout(time.Second))
			ctx, cancel := context.WithTimeout(bg, 20*time.Second)
			defer cancel()
			f := futures.Submit(p, protoFault, tc.fault)
			after := futures.Submit(p, chaosCall, 5)
			_, err := f.Result(ctx)
			require.NotErrorIs(t, err, context.DeadlineExceeded, "the call hangs")
			switch {
			case tc.want == "":
				require.NoError(t, err)
			case tc.fault == "hang", tc.fault == "close and hang" && errors.Is(err, futures.ErrTimeout):
				require.ErrorIs(t, err, futures.ErrTimeout)
				tc.want = "TaskTimeout"
			default:
				require.ErrorIs(t, err, futures.ErrWorkerExited)
			}
			v, err2 := after.Result(ctx)
			require.NoError(t, err2, "the call queued behind the fault")
			assert.Equal(t, 25, v.Square)
			v, err2 = futures.Submit(p, chaosCall, 6).Result(ctx)
			require.NoError(t, err2, "a call after the fault")
			assert.Equal(t, 36, v.Square)
			if tc.want != "" {
				assert.Contains(t, err.Error(), tc.want, "the error says what the worker did")
			}
		})
	}
}

// TestReliabilityProcessWorkerCannotStart points the pool at programs that
// are no workers: each call fails with an ErrBrokenExecutor error that
// carries the cause, and nothing hangs.
func TestReliabilityProcessWorkerCannotStart(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "not-executable")
	require.NoError(t, os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644))
	for _, tc := range []struct {
		name    string
		command []string
		cause   error  // matched by the error, if set
		want    string // in the error
	}{
		{name: "missing", command: []string{filepath.Join(dir, "missing")}, cause: fs.ErrNotExist},
		{name: "not executable", command: []string{plain}, cause: fs.ErrPermission},
		{name: "a directory", command: []string{dir}, cause: fs.ErrPermission},
		{name: "exits at once", command: []string{"/bin/sh", "-c", "echo no worker here >&2; exit 3"}, cause: futures.ErrWorkerExited, want: "no worker here"},
		{name: "writes garbage", command: []string{"/bin/sh", "-c", "printf 'garbage garbage' >&4"}, want: "malformed"},
		{name: "closes the pipe and hangs", command: []string{"/bin/sh", "-c", "exec 4>&-; exec sleep 1000"}},
		{name: "hangs without output", command: []string{"/bin/sh", "-c", "exec sleep 1000"}, want: "did not say it was ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(2), futures.WorkerCommand(tc.command[0], tc.command[1:]...))
			ctx, cancel := context.WithTimeout(bg, 20*time.Second)
			defer cancel()
			_, err := futures.Submit(p, chaosCall, 1).Result(ctx)
			require.NotErrorIs(t, err, context.DeadlineExceeded, "the call hangs")
			require.ErrorIs(t, err, futures.ErrBrokenExecutor)
			if tc.cause != nil {
				assert.ErrorIs(t, err, tc.cause)
			}
			assert.ErrorIs(t, futures.Submit(p, chaosCall, 2).Err(), futures.ErrBrokenExecutor, "the next call")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestReliabilityProcessOutOfFileDescriptors starts a pool with no file
// descriptor to spare: the call fails with ErrBrokenExecutor and the cause,
// and the pool leaks none of the descriptors it did open.
func TestReliabilityProcessOutOfFileDescriptors(t *testing.T) {
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old))
	p := newProcPool(t, futures.MaxWorkers(1))
	before := openFiles(t)
	for _, spare := range []int{0, 1, 2, 3, 4} {
		lim := old
		setLimit(&lim.Cur, before+spare)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
		ctx, cancel := context.WithTimeout(bg, 20*time.Second)
		_, err := futures.Submit(p, chaosCall, 1).Result(ctx)
		cancel()
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old))
		require.NotErrorIs(t, err, context.DeadlineExceeded, "%d spare: the call hangs", spare)
		require.ErrorIs(t, err, futures.ErrBrokenExecutor, "%d spare", spare)
		assert.ErrorIs(t, err, syscall.EMFILE, "%d spare", spare)
		if spare == 0 {
			continue
		}
		p = newProcPool(t, futures.MaxWorkers(1))
	}
	require.NoError(t, p.Close())
	assert.Equal(t, before, openFiles(t), "file descriptors leaked")
}

// setLimit sets a resource limit, whose type differs between systems, to n.
func setLimit[T int64 | uint64](limit *T, n int) { *limit = T(n) }

// gobBomb is a value whose gob encoding panics.
type gobBomb struct{ X int }

func (gobBomb) GobEncode() ([]byte, error) { panic("GobEncode panics") }

func (*gobBomb) GobDecode([]byte) error { return nil }

// derefError is an error whose Error method dereferences its receiver, so
// that a typed nil one panics when printed.
type derefError struct{ msg string }

func (e *derefError) Error() string { return e.msg }

func takeChan(_ context.Context, c chan int) (int, error) { return cap(c), nil }

func makeChan(_ context.Context, n int) (chan int, error) { return make(chan int, n), nil }

func echoBytes(_ context.Context, b []byte) ([]byte, error) { return b, nil }

func takeBomb(_ context.Context, b gobBomb) (int, error) { return b.X, nil }

func makeBomb(_ context.Context, x int) (gobBomb, error) { return gobBomb{x}, nil }

func typedNil(_ context.Context, x int) (int, error) {
	var e *nilPtrError
	return x, e
}

func panickyErr(_ context.Context, x int) (int, error) { return x, panickyError{} }

func typedNilDeref(_ context.Context, x string) (string, error) {
	var e *derefError
	return x, e
}

func init() {
	futures.Register(takeChan, makeChan, echoBytes, takeBomb, makeBomb, typedNil, panickyErr, typedNilDeref)
}

// TestReliabilityProcessHostileValues sends a ProcessPool values and
// functions meant to break it: each call fails alone with a clear error (or
// works), never panics the caller, and the worker keeps serving.
func TestReliabilityProcessHostileValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		submit func(*futures.ProcessPool) futures.Awaitable
		check  func(t *testing.T, err error)
	}{
		{name: "an argument the codec cannot encode",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, takeChan, make(chan int)) },
			check: func(t *testing.T, err error) {
				assert.ErrorContains(t, err, "futures: cannot encode the argument of futures_test.takeChan with gob")
			}},
		{name: "a result the codec cannot encode",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, makeChan, 1) },
			check: func(t *testing.T, err error) {
				assert.ErrorContains(t, err, "futures: the worker cannot encode the result")
			}},
		{name: "an argument whose gob encoding panics",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, takeBomb, gobBomb{1}) },
			check: func(t *testing.T, err error) {
				assert.ErrorContains(t, err, "futures: cannot encode the argument")
			}},
		{name: "a result whose gob encoding panics",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, makeBomb, 1) },
			check: func(t *testing.T, err error) {
				// An encoder that panics is an encoding failure, as for
				// arguments: that call fails, the worker goes on.
				assert.ErrorContains(t, err, "futures: the worker cannot encode the result")
				assert.ErrorContains(t, err, "GobEncode panics")
			}},
		{name: "a typed nil error",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, typedNil, 1) },
			check: func(t *testing.T, err error) {
				var re *futures.RemoteError
				require.ErrorAs(t, err, &re, "a typed nil error is an error, as in a ThreadPool")
				assert.Equal(t, "*futures_test.nilPtrError", re.Type)
				assert.Equal(t, "typed nil", re.Message)
			}},
		{name: "an error whose Error method panics",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, panickyErr, 1) },
			check: func(t *testing.T, err error) {
				assert.NotErrorIs(t, err, futures.ErrWorkerExited, "printing the error killed the worker")
				assert.ErrorContains(t, err, "futures_test.panickyError")
			}},
		{name: "a typed nil error whose Error method panics",
			submit: func(p *futures.ProcessPool) futures.Awaitable { return futures.Submit(p, typedNilDeref, "x") },
			check: func(t *testing.T, err error) {
				assert.NotErrorIs(t, err, futures.ErrWorkerExited, "printing the error killed the worker")
				assert.ErrorContains(t, err, "*futures_test.derefError")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(1))
			ctx, cancel := context.WithTimeout(bg, 30*time.Second)
			defer cancel()
			before := futures.Submit(p, chaosCall, 2)
			var f futures.Awaitable
			require.NotPanics(t, func() { f = tc.submit(p) })
			after := futures.Submit(p, chaosCall, 3)
			select {
			case <-f.Done():
			case <-ctx.Done():
				t.Fatal("the call hangs")
			}
			tc.check(t, f.Err())
			for i, g := range []*futures.Future[chaosResult]{before, after, futures.Submit(p, chaosCall, 4)} {
				v, err := g.Result(ctx)
				require.NoError(t, err, "call %d beside it", i)
				assert.Equal(t, (i+2)*(i+2), v.Square)
			}
			assert.Equal(t, int64(1), p.Stats().WorkerStarts, "the worker did not survive")
		})
	}
	t.Run("a 64 MiB argument and result", func(t *testing.T) {
		big := make([]byte, size(16<<20, 64<<20))
		for i := range big {
			big[i] = byte(i * 7)
		}
		p := newProcPool(t, futures.MaxWorkers(1))
		start := time.Now()
		got, err := futures.Submit(p, echoBytes, big).Result(bg)
		require.NoError(t, err)
		t.Logf("%d MiB there and back in %v", len(big)>>20, time.Since(start).Round(time.Millisecond))
		assert.True(t, bytes.Equal(big, got), "the result is the argument")
		v, err := futures.Submit(p, chaosCall, 3).Result(bg)
		require.NoError(t, err)
		assert.Equal(t, 9, v.Square)
	})
}
