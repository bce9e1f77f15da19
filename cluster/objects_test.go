//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// The sizes of the large values of the tests: beyond the embedded server's
// max_payload of 1 MiB.
const (
	mib   = 1 << 20
	big8  = 8 * mib
	big64 = 64 * mib
)

// pattern returns n pseudo-random bytes, the same for the same n, so that
// a chunk of an object out of place shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)}).Read(b)
	return b
}

// reverseBytes returns b reversed.
func reverseBytes(_ context.Context, b []byte) ([]byte, error) {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r, nil
}

// makeBytes returns pattern(n).
func makeBytes(_ context.Context, n int) ([]byte, error) { return pattern(n), nil }

// checkBytes returns len(b) if b is pattern(len(b)), an error otherwise.
func checkBytes(_ context.Context, b []byte) (int, error) {
	if !bytes.Equal(b, pattern(len(b))) {
		return 0, errors.New("checkBytes: the argument arrived changed")
	}
	return len(b), nil
}

// rejectBytes fails, whatever its argument.
func rejectBytes(_ context.Context, b []byte) (int, error) {
	return 0, fmt.Errorf("rejectBytes: %d bytes refused", len(b))
}

// exitBytes ends the worker process that runs it, every time.
func exitBytes(context.Context, []byte) (int, error) {
	os.Exit(7)
	return 0, nil
}

// bigHold is the argument of holdBig.
type bigHold struct {
	Dir string
	Pad []byte
}

// holdBig is holdPID with an argument too big for a message; it fails if
// the padding arrived changed.
func holdBig(ctx context.Context, a bigHold) (int, error) {
	if !bytes.Equal(a.Pad, pattern(len(a.Pad))) {
		return 0, errors.New("holdBig: the padding arrived changed")
	}
	return holdPID(ctx, a.Dir)
}

func init() {
	futures.Register(reverseBytes)
	futures.Register(makeBytes)
	futures.Register(checkBytes)
	futures.Register(rejectBytes)
	futures.Register(exitBytes)
	futures.Register(holdBig)
}

// objectMsgs returns how many messages the stream of p's object store
// holds: chunks, descriptions and delete markers.
func objectMsgs(t testing.TB, l *link, p *Pool) uint64 {
	t.Helper()
	return streamMsgs(t, l, "OBJ_"+p.top.objects.Bucket)
}

// waitNoObjects waits, at most until ctx ends, until p's object store holds
// nothing.
func waitNoObjects(t *testing.T, ctx context.Context, p *Pool) {
	t.Helper()
	for {
		n := objectMsgs(t, p.link, p)
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the object store holds %d messages after the calls ended", n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestLargeValues: arguments and results beyond the server's max_payload
// (1 MiB on the embedded server) go through the object store and arrive
// whole; once the calls are over the object store holds nothing.
func TestLargeValues(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1))
	if p.maxPayload != mib {
		t.Errorf("the embedded server's max_payload is %d, want 1 MiB", p.maxPayload)
	}
	ctx := testContext(t, 2*time.Minute)
	t.Run("8MiB argument and result", func(t *testing.T) {
		in := pattern(big8)
		out, err := futures.Submit(p, reverseBytes, in).Result(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := reverseBytes(ctx, in)
		if !bytes.Equal(out, want) {
			t.Errorf("reverseBytes of %d bytes returned %d bytes, not the reversed argument", len(in), len(out))
		}
	})
	t.Run("64MiB argument", func(t *testing.T) {
		n, err := futures.Submit(p, checkBytes, pattern(big64)).Result(ctx)
		if n != big64 || err != nil {
			t.Errorf("checkBytes of 64 MiB = %d, %v", n, err)
		}
	})
	t.Run("64MiB result", func(t *testing.T) {
		out, err := futures.Submit(p, makeBytes, big64).Result(ctx)
		if err != nil || !bytes.Equal(out, pattern(big64)) {
			t.Errorf("makeBytes(64 MiB) returned %d bytes, %v; want the pattern", len(out), err)
		}
	})
	t.Run("failure", func(t *testing.T) {
		if _, err := futures.Submit(p, rejectBytes, pattern(big8)).Result(ctx); err == nil {
			t.Error("rejectBytes returned no error")
		}
	})
	t.Run("Map mixing small and large arguments", func(t *testing.T) {
		sizes := []int{10, 2 * mib, 100, 3 * mib, 5}
		i := 0
		for n, err := range futures.Map(ctx, p, checkBytes, func(yield func([]byte) bool) {
			for _, s := range sizes {
				if !yield(pattern(s)) {
					return
				}
			}
		}, futures.Chunksize(2)) {
			if n != sizes[i] || err != nil {
				t.Errorf("call %d: checkBytes = %d, %v; want %d", i, n, err, sizes[i])
			}
			i++
		}
	})
	waitNoObjects(t, ctx, p)
	if st := p.Stats(); st.Succeeded != 8 || st.Failed != 1 {
		t.Errorf("Stats %+v: want 8 successes and 1 failure", st)
	}
}

// TestLargeArgumentRedelivered: the large argument of a call whose worker
// is killed mid-call is still in the object store when the call is
// delivered again, and the second worker runs it; then nothing is left.
func TestLargeArgumentRedelivered(t *testing.T) {
	const lostAfter = 500 * time.Millisecond
	p := newTestPool(t, WorkerLostAfter(lostAfter), MaxAttempts(3))
	ctx := testContext(t, time.Minute)
	dir := t.TempDir()
	f := futures.Submit(p, holdBig, bigHold{dir, pattern(big8)})
	first := waitPIDs(t, ctx, dir, 1)[0]
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitPIDs(t, ctx, dir, 2)
	release(t, dir)
	if got, err := f.Result(ctx); err != nil || got == first {
		t.Fatalf("Result() = %d, %v after worker %d was killed; want another worker's pid", got, err, first)
	}
	waitNoObjects(t, ctx, p)
	waitEmptyStreams(t, ctx, p)
}

// TestLargeArgumentLost: the large argument of a call lost after
// MaxAttempts deliveries is deleted with the call.
func TestLargeArgumentLost(t *testing.T) {
	p := newTestPool(t, WorkerLostAfter(300*time.Millisecond), MaxAttempts(2))
	ctx := testContext(t, time.Minute)
	_, err := futures.Submit(p, exitBytes, pattern(2*mib)).Result(ctx)
	var lost *LostError
	if !errors.As(err, &lost) {
		t.Fatalf("a call ending its workers: error %v, want a *LostError", err)
	}
	waitNoObjects(t, ctx, p)
	waitEmptyStreams(t, ctx, p)
}

// TestLargeArgumentCancelled: the large arguments of calls cancelled while
// queued, by Future.Cancel and by the end of their context, are deleted at
// once; so are those of calls left when Shutdown gives up.
func TestLargeArgumentCancelled(t *testing.T) {
	ctx := testContext(t, time.Minute)
	srv := startTestServer(t)
	p, err := NewPool(Connect(srv.clientURL()), Name("bigcancel"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := futures.Submit(p, checkBytes, pattern(2*mib))
	cctx, cancel := context.WithCancel(ctx)
	g := futures.SubmitContext(cctx, p, checkBytes, pattern(2*mib))
	waitObjects(t, ctx, p, 2)
	f.Cancel()
	cancel()
	if _, err := g.Result(ctx); !errors.Is(err, futures.ErrCancelled) {
		t.Errorf("a call whose context ended: %v, want ErrCancelled", err)
	}
	p.Stats() // counts the cancelled call, which forgets it
	waitNoObjects(t, ctx, p)

	h := futures.Submit(p, checkBytes, pattern(2*mib))
	waitObjects(t, ctx, p, 1)
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if err := p.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with no worker = %v, want DeadlineExceeded", err)
	}
	if _, err := h.Result(ctx); !errors.Is(err, futures.ErrBrokenExecutor) {
		t.Errorf("a call left by Shutdown: %v, want ErrBrokenExecutor", err)
	}
	if n := objectMsgs(t, dialTest(t, Connect(srv.clientURL())), p); n != 0 {
		t.Errorf("after Shutdown the object store holds %d messages", n)
	}
}

// waitObjects waits, at most until ctx ends, until p's object store holds
// n objects.
func waitObjects(t *testing.T, ctx context.Context, p *Pool, n int) {
	t.Helper()
	for {
		infos, _ := p.objs.store.List(ctx)
		if len(infos) >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the object store holds %d objects, want %d", len(infos), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
