//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

func init() { futures.Register(procPidOf, procStopCheck, procStep) }

// procPidOf returns the pid of the worker running it.
func procPidOf(context.Context, int) (int, error) { return os.Getpid(), nil }

func TestProcessPoolMaxTasksPerWorkerSplitsChunks(t *testing.T) {
	for _, chunk := range []int{3, 10} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(2), futures.MaxTasksPerWorker(2))
			uses := map[int]int{}
			for pid, err := range futures.Map(bg, p, procPidOf, slices.Values(make([]int, 25)), futures.Chunksize(chunk)) {
				require.NoError(t, err)
				uses[pid]++
			}
			for pid, n := range uses {
				assert.LessOrEqual(t, n, 2, "worker %d", pid)
			}
			assert.Equal(t, int64(13), p.Stats().WorkerStarts)
		})
	}
}

func TestProcessPoolWorkerExitKeepsResultsOfReturnedCalls(t *testing.T) {
	const n, exitAt = 4001, 2000
	codes := make([]int, n)
	codes[exitAt] = 3
	for _, tc := range []struct {
		name  string
		chunk int // 0: Submit each
	}{{"Submit", 0}, {"Map", 1000}, {"Map unchunked", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProcPool(t, futures.MaxWorkers(1))
			errs := make([]error, 0, n)
			if tc.chunk == 0 {
				fs := make([]*futures.Future[int], n)
				for i, c := range codes {
					fs[i] = futures.Submit(p, procExitIf, c)
				}
				for _, f := range fs {
					_, err := f.Result(bg)
					errs = append(errs, err)
				}
			} else {
				for _, err := range futures.Map(bg, p, procExitIf, slices.Values(codes), futures.Chunksize(tc.chunk)) {
					errs = append(errs, err)
				}
			}
			require.Len(t, errs, n)
			lost := 0
			for i, err := range errs {
				if i == exitAt {
					assert.ErrorIs(t, err, futures.ErrWorkerExited)
				} else if err != nil {
					lost++
				}
			}
			assert.Zero(t, lost, "calls that returned or never started failed; the first: %v", firstErr(errs, exitAt))
		})
	}
}

// firstErr returns the first error of errs but the one at skip.
func firstErr(errs []error, skip int) error {
	for i, err := range errs {
		if i != skip && err != nil {
			return err
		}
	}
	return nil
}

// stopCheck is an item of a Map that TestProcessPoolMapStopInvokesNoMore
// stops.
type stopCheck struct {
	X         int
	Fifo, Log string
}

// procStopCheck, for item 0, says it runs and waits for its context; any
// other item notes in the Log file that it was invoked with its context
// ended.
func procStopCheck(ctx context.Context, a stopCheck) (int, error) {
	if a.X == 0 {
		if err := signalRunning(a.Fifo); err != nil {
			return 0, err
		}
		<-ctx.Done()
		return 0, ctx.Err()
	}
	if ctx.Err() != nil {
		f, err := os.OpenFile(a.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		fmt.Fprintln(f, a.X)
	}
	return a.X, nil
}

func TestProcessPoolMapStopInvokesNoMore(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	fifo, running := runningSignal(t)
	log := filepath.Join(t.TempDir(), "late")
	items := make([]stopCheck, 100)
	for i := range items {
		items[i] = stopCheck{i, fifo, log}
	}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range futures.Map(ctx, p, procStopCheck, slices.Values(items), futures.Chunksize(len(items))) {
		}
	}()
	running()
	cancel()
	<-done
	require.NoError(t, p.Close())
	late, err := os.ReadFile(log)
	if !errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, err)
	}
	assert.Empty(t, string(late), "items of the stopped Map were invoked with their context ended")
	s := p.Stats()
	assert.Equal(t, int64(99), s.Cancelled)
	assert.Equal(t, int64(1), s.Failed)
}

// step is what procStep does: sleep, then, with Mark, create that file and
// sleep as long again.
type step struct {
	Sleep time.Duration
	Mark  string
}

func procStep(_ context.Context, s step) (int, error) {
	time.Sleep(s.Sleep)
	if s.Mark != "" {
		if err := os.WriteFile(s.Mark, nil, 0o600); err != nil {
			return 0, err
		}
		time.Sleep(s.Sleep)
	}
	return os.Getpid(), nil
}

// stallReader has the callback of a ProcessPool future, which runs on the
// goroutine reading its worker's results, wait until done returns true or
// the bound passes.
func stallReader(f *futures.Future[int], bound time.Duration, done func() bool) {
	f.OnDone(func(*futures.Future[int]) {
		for end := time.Now().Add(bound); !done() && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func TestProcessPoolTimeoutKillsOnlyTheCallThatOverran(t *testing.T) {
	const limit = time.Second
	p := newProcPool(t, futures.MaxWorkers(1), futures.TaskTimeout(limit))
	mark := filepath.Join(t.TempDir(), "started")
	first := futures.Submit(p, procStep, step{})
	// While the pool does not read the timeout, the worker would start
	// the next call, which the kill for the timeout would then hit.
	stallReader(first, 3*time.Second, func() bool {
		_, err := os.Stat(mark)
		return err == nil
	})
	slow := futures.Submit(p, procStep, step{Sleep: limit + 300*time.Millisecond})
	next := futures.Submit(p, procStep, step{Sleep: 300 * time.Millisecond, Mark: mark})
	_, err := first.Result(bg)
	require.NoError(t, err)
	_, err = slow.Result(bg)
	assert.ErrorIs(t, err, futures.ErrTimeout)
	_, err = next.Result(bg)
	assert.NoError(t, err, "a call within the limit failed")
}

func TestProcessPoolTimeoutCountsOnlyTheCallsRunTime(t *testing.T) {
	const limit = 300 * time.Millisecond
	p := newProcPool(t, futures.MaxWorkers(1), futures.TaskTimeout(limit))
	first := futures.Submit(p, procStep, step{})
	// The pool reads no result while the callback runs: the calls after
	// the first are within the limit all the same.
	stallReader(first, 2*time.Second, func() bool { return p.Stats().WorkerKills > 0 })
	var fs []*futures.Future[int]
	for range 4 {
		fs = append(fs, futures.Submit(p, procStep, step{Sleep: limit / 2}))
	}
	_, err := first.Result(bg)
	require.NoError(t, err)
	for i, f := range fs {
		_, err := f.Result(bg)
		assert.NoError(t, err, "call %d", i)
	}
	s := p.Stats()
	assert.Zero(t, s.WorkerKills)
	assert.Equal(t, int64(1), s.WorkerStarts)
}
