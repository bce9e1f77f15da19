//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// holdPID marks that it started in the worker process of pid p by creating
// the file started-<p> in dir, then waits for the file release there and
// returns p. It gives up after a minute.
func holdPID(ctx context.Context, dir string) (int, error) {
	pid := os.Getpid()
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("started-%d", pid)), nil, 0o644); err != nil {
		return 0, err
	}
	giveUp := time.Now().Add(time.Minute)
	for time.Now().Before(giveUp) {
		if _, err := os.Stat(filepath.Join(dir, "release")); err == nil {
			return pid, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return 0, errors.New("holdPID: never released")
}

// exitWorker ends the worker process that runs it, every time.
func exitWorker(context.Context, int) (int, error) {
	os.Exit(7)
	return 0, nil
}

func init() {
	futures.Register(holdPID)
	futures.Register(exitWorker)
}

// startedPIDs returns the pids of the workers that started holdPID in dir.
func startedPIDs(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		if s, ok := strings.CutPrefix(e.Name(), "started-"); ok {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// release opens the gate of holdPID in dir.
func release(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// holdSlot submits a holdPID call in a directory of its own to p and waits
// until a worker runs it: the call holds that worker slot until release of
// dir. With one slot, the calls submitted next wait in the pool.
func holdSlot(t *testing.T, ctx context.Context, p *Pool) (dir string, held *futures.Future[int]) {
	t.Helper()
	dir = t.TempDir()
	held = futures.Submit(p, holdPID, dir)
	waitPIDs(t, ctx, dir, 1)
	return dir, held
}

// waitPIDs waits, at most until ctx ends, until n workers have started
// holdPID in dir, and returns their pids.
func waitPIDs(t *testing.T, ctx context.Context, dir string, n int) []int {
	t.Helper()
	for {
		if pids := startedPIDs(t, dir); len(pids) >= n {
			return pids
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d workers did not start the call: %v", n, startedPIDs(t, dir))
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestWorkerKilledMidCall: the call of a worker killed with SIGKILL while
// it runs is delivered again once WorkerLostAfter passed, and completes on
// another worker process; the killed one is started again.
func TestWorkerKilledMidCall(t *testing.T) {
	const lostAfter = 500 * time.Millisecond
	p := newTestPool(t, WorkerLostAfter(lostAfter), MaxAttempts(3))
	ctx := testContext(t, time.Minute)
	dir := t.TempDir()
	f := futures.Submit(p, holdPID, dir)
	first := waitPIDs(t, ctx, dir, 1)[0]
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	pids := waitPIDs(t, ctx, dir, 2)
	// The server counts WorkerLostAfter from the last heartbeat, which
	// the worker sends every quarter of it.
	if took := time.Since(killed); took < lostAfter/2 {
		t.Errorf("the call was delivered again %v after its worker was killed, long before WorkerLostAfter (%v)", took, lostAfter)
	}
	release(t, dir)
	got, err := f.Result(ctx)
	if err != nil || got == first || len(pids) != 2 {
		t.Fatalf("Result() = %d, %v after worker %d was killed (started in %v); want another worker's pid, nil", got, err, first, pids)
	}
	if st := p.Stats(); st.Succeeded != 1 || st.Failed != 0 || st.WorkerStarts < 3 {
		t.Errorf("Stats %+v: want 1 success and a worker started again", st)
	}
}

// TestPoisonCallLost: a call that ends every worker process that runs it is
// delivered MaxAttempts times, then fails with a *LostError saying so,
// within MaxAttempts × WorkerLostAfter and some slack; neither stream keeps
// anything of it, and the pool goes on serving.
func TestPoisonCallLost(t *testing.T) {
	const (
		lostAfter = 300 * time.Millisecond
		attempts  = 3
		slack     = 15 * time.Second // worker restarts on a loaded machine
	)
	p := newTestPool(t, WorkerLostAfter(lostAfter), MaxAttempts(attempts))
	ctx := testContext(t, time.Minute)
	start := time.Now()
	_, err := futures.Submit(p, exitWorker, 13).Result(ctx)
	took := time.Since(start)
	var lost *LostError
	if !errors.As(err, &lost) || !errors.Is(err, futures.ErrWorkerExited) {
		t.Fatalf("the poison call: error %v, want a *LostError matching ErrWorkerExited", err)
	}
	if lost.Attempts != attempts || lost.Worker == "" {
		t.Errorf("LostError %+v: want %d attempts and the last worker", lost, attempts)
	}
	if limit := attempts*lostAfter + slack; took > limit {
		t.Errorf("the poison call failed after %v, more than %v", took, limit)
	}
	if v, err := futures.Submit(p, square, 7).Result(ctx); v != 49 || err != nil {
		t.Errorf("after the poison call: square(7) = %d, %v", v, err)
	}
	waitEmptyStreams(t, ctx, p)
	if st := p.Stats(); st.Failed != 1 || st.Succeeded != 1 {
		t.Errorf("Stats %+v: want 1 failure, 1 success", st)
	}
}

// waitEmptyStreams waits, at most until ctx ends, until neither the calls
// stream nor the lost stream of p holds a message: the reaper tells the
// pool of a lost call before it deletes the call's message.
func waitEmptyStreams(t *testing.T, ctx context.Context, p *Pool) {
	t.Helper()
	for {
		calls, lost := streamMsgs(t, p.link, p.top.calls.Name), streamMsgs(t, p.link, p.top.lost.Name)
		if calls == 0 && lost == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the calls stream holds %d messages and the lost stream %d after the calls ended", calls, lost)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
