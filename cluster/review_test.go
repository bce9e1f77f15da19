//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// waitForStack waits until a goroutine's stack holds fn, or fails the test
// when ctx ends.
func waitForStack(t *testing.T, ctx context.Context, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for ctx.Err() == nil {
		if strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn) {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("no goroutine reached %s", fn)
}

// TestShutdownWhileMapWaitsForRoom: a Map whose chunk waits for room in the
// queue (QueueSize) when Shutdown starts ends with ErrShutdown at once,
// instead of leaving the chunk's futures never completed.
func TestShutdownWhileMapWaitsForRoom(t *testing.T) {
	p := newTestPool(t, LocalWorkers(0), QueueSize(1))
	ctx := testContext(t, 3*time.Second)
	queued := futures.Submit(p, square, 1) // no worker: it stays queued
	got := make(chan error, 1)
	go func() {
		var first error
		for _, err := range futures.Map(ctx, p, square, slices.Values([]int{1, 2, 3, 4}), futures.Chunksize(4)) {
			if err != nil && first == nil {
				first = err
			}
		}
		got <- first
	}()
	waitForStack(t, ctx, "waitRoomLocked")
	if err := p.Shutdown(ctx, futures.CancelPending()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-got; !errors.Is(err, futures.ErrShutdown) {
		t.Errorf("Map waiting for room during Shutdown: first error %v, want ErrShutdown", err)
	}
	if err := queued.Err(); !errors.Is(err, futures.ErrCancelled) {
		t.Errorf("queued call after Shutdown with CancelPending: %v, want ErrCancelled", err)
	}
}

// TestEndedCallNotRunAgain: a running call whose worker was killed and
// whose context then ended is not run again (its message left the stream
// with its context); once WorkerLostAfter passed without an outcome it fails
// with a *LostError wrapping the context's error, counted, and Close returns.
func TestEndedCallNotRunAgain(t *testing.T) {
	p := newTestPool(t, WorkerLostAfter(200*time.Millisecond), MaxAttempts(3))
	ctx := testContext(t, 4*time.Second)
	dir := t.TempDir()
	defer os.WriteFile(filepath.Join(dir, "release"), nil, 0o644) // lets a call run again end
	cctx, cancel := context.WithCancel(ctx)
	f := futures.SubmitContext(cctx, p, holdPID, dir)
	first := waitPIDs(t, ctx, dir, 1)[0]
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := f.Result(ctx); !errors.Is(err, context.Canceled) || !errors.Is(err, futures.ErrWorkerExited) {
		t.Fatalf("Result after its context ended: %v, want a *LostError matching context.Canceled and futures.ErrWorkerExited; Stats %+v, started in %v", err, p.Stats(), startedPIDs(t, dir))
	}
	for st := p.Stats(); st.Running+st.Queued > 0; st = p.Stats() {
		if ctx.Err() != nil {
			t.Fatalf("the call is still counted after its message was delivered again: %+v; started in %v", st, startedPIDs(t, dir))
		}
		runtime.Gosched()
	}
	if pids := startedPIDs(t, dir); len(pids) != 1 {
		t.Errorf("a call whose context ended ran again: started in %v", pids)
	}
	if st := p.Stats(); st.Submitted != st.Succeeded+st.Failed+st.Cancelled || st.Submitted != 1 {
		t.Errorf("Stats %+v do not add up to the one call", st)
	}
}
