//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// chaosArg is the argument of chaosCall.
type chaosArg struct {
	Dir string
	N   int
}

// chaosCall records that it runs for a.N in the file runs of a.Dir, takes
// a millisecond, and returns a.N squared.
func chaosCall(ctx context.Context, a chaosArg) (int, error) {
	f, err := os.OpenFile(filepath.Join(a.Dir, "runs"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	_, err = fmt.Fprintf(f, "%d\n", a.N) // one write, appended whole
	f.Close()
	if err != nil {
		return 0, err
	}
	select {
	case <-time.After(time.Millisecond):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return a.N * a.N, nil
}

func init() { futures.Register(chaosCall) }

// TestChaos: 2,000 calls on 3 local workers while a random worker is killed
// every 300 ms: every call succeeds with the right value or fails with a
// *LostError, none runs more than MaxAttempts times, and nothing is left in
// the streams.
func TestChaos(t *testing.T) {
	const (
		calls    = 2000
		attempts = 3
	)
	p := newTestPool(t, LocalWorkers(3), WorkerLostAfter(500*time.Millisecond), MaxAttempts(attempts))
	ctx := testContext(t, 2*time.Minute)
	dir := t.TempDir()
	fs := make([]*futures.Future[int], calls)
	for i := range fs {
		fs[i] = futures.Submit(p, chaosCall, chaosArg{dir, i})
	}
	killerDone := make(chan int)
	stop := make(chan struct{})
	go func() {
		kills := 0
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				killerDone <- kills
				return
			case <-tick.C:
			}
			if pids := p.locals.pids(); len(pids) > 0 {
				if syscall.Kill(pids[rand.IntN(len(pids))], syscall.SIGKILL) == nil {
					kills++
				}
			}
		}
	}()
	ok, lost := 0, 0
	for i, f := range fs {
		v, err := f.Result(ctx)
		var le *LostError
		switch {
		case err == nil && v == i*i:
			ok++
		case errors.As(err, &le):
			lost++
		default:
			t.Fatalf("call %d: %d, %v; want %d or a *LostError", i, v, err, i*i)
		}
	}
	close(stop)
	kills := <-killerDone
	if ok+lost != calls {
		t.Errorf("%d successes + %d lost != %d calls", ok, lost, calls)
	}
	runs := make(map[int]int)
	fh, err := os.Open(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("runs file line %q", sc.Text())
		}
		runs[n]++
	}
	again := 0
	for n, k := range runs {
		if k > attempts {
			t.Errorf("call %d ran %d times, more than MaxAttempts (%d)", n, k, attempts)
		}
		if k > 1 {
			again++
		}
	}
	waitEmptyStreams(t, ctx, p)
	t.Logf("%d kills: %d successes, %d lost, %d calls ran more than once", kills, ok, lost, again)
}
