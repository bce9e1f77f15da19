//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/pace"
)

// pause returns n after sleeping n milliseconds: a call as slow as its
// argument says.
func pause(_ context.Context, n int) (int, error) {
	time.Sleep(time.Duration(n) * time.Millisecond)
	return n, nil
}

// dieArg is the argument of dieOnce.
type dieArg struct {
	Dir string
	N   int
}

// dieOnce returns a.N squared, and ends its worker process the first time
// it is called with a.N = dieAt, as a crash in the middle of a message.
func dieOnce(_ context.Context, a dieArg) (int, error) {
	if a.N == dieAt {
		if f, err := os.OpenFile(filepath.Join(a.Dir, "died"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
			f.Close()
			os.Exit(1)
		}
	}
	return a.N * a.N, nil
}

const dieAt = 500

func init() { futures.Register(pause, dieOnce) }

// published returns how many messages were ever published to p's calls
// stream.
func published(t testing.TB, p *Pool) uint64 {
	t.Helper()
	return streamState(t, p.link, p.top.calls.Name).LastSeq
}

// queueBehind holds p's one worker slot (holdSlot), calls queue, which
// submits the calls that are to wait in the pool behind it, then releases
// the slot and waits for the held call. It returns published(p) from
// before queue was called.
func queueBehind(t *testing.T, ctx context.Context, p *Pool, queue func()) (before uint64) {
	t.Helper()
	dir, held := holdSlot(t, ctx, p)
	before = published(t, p)
	queue()
	release(t, dir)
	if _, err := held.Result(ctx); err != nil {
		t.Fatal(err)
	}
	return before
}

// learn runs fn(i) for 20 values of i one after the other, so that p
// knows how long its calls take before the test queues more.
func learn[A any](t *testing.T, ctx context.Context, p *Pool, fn func(context.Context, A) (int, error), arg func(i int) A) {
	t.Helper()
	for i := range 20 {
		if _, err := futures.Submit(p, fn, arg(i)).Result(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// itself is the argument i.
func itself(i int) int { return i }

// TestQuickLoneCallsShareMessages: quick calls submitted one by one that
// wait in the pool together go out in a few messages, not one each, and
// each gets its own result.
func TestQuickLoneCallsShareMessages(t *testing.T) {
	const calls = 1000
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, square, itself) // the pool learns that square is quick
	fs := make([]*futures.Future[int], calls)
	before := queueBehind(t, ctx, p, func() {
		for i := range fs {
			fs[i] = futures.Submit(p, square, i)
		}
	})
	for i, f := range fs {
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Fatalf("square(%d) = %d, %v", i, v, err)
		}
	}
	if n := published(t, p) - before; n > calls/10 {
		t.Errorf("%d quick calls that waited together took %d messages, want at most %d", calls, n, calls/10)
	}
	if st := p.Stats(); st.Submitted != st.Succeeded || st.Succeeded != calls+21 {
		t.Errorf("Stats %+v: want %d submitted and succeeded", st, calls+21)
	}
}

// TestSlowLoneCallsGoAlone: calls that take longer than pace.AheadTarget
// get a message each, so that one worker slot never holds several.
func TestSlowLoneCallsGoAlone(t *testing.T) {
	const calls = 10
	slow := int(2 * pace.AheadTarget / time.Millisecond)
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	for range 3 {
		if _, err := futures.Submit(p, pause, slow).Result(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fs := make([]*futures.Future[int], calls)
	before := queueBehind(t, ctx, p, func() {
		for i := range fs {
			fs[i] = futures.Submit(p, pause, slow)
		}
	})
	for _, f := range fs {
		if _, err := f.Result(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := published(t, p) - before; n != calls {
		t.Errorf("%d calls of %d ms each took %d messages, want one each", calls, slow, n)
	}
}

// TestJoinedCallsCancelAlone: of quick calls waiting in the pool together,
// those cancelled before a worker has room are cancelled, the others, of
// the same and of another context, succeed, none joins a call of another
// context, and Stats add up.
func TestJoinedCallsCancelAlone(t *testing.T) {
	const calls = 600
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, square, itself)
	other, cancelOther := context.WithCancel(ctx)
	defer cancelOther()
	fs := make([]*futures.Future[int], calls)
	cancelled := 0
	before := queueBehind(t, ctx, p, func() {
		for i := range fs {
			if i >= calls/2 && i%2 == 1 { // alternating contexts: no two join
				fs[i] = futures.SubmitContext(other, p, square, i)
			} else {
				fs[i] = futures.Submit(p, square, i)
			}
		}
		for i := 0; i < calls/2; i += 3 {
			if !fs[i].Cancel() {
				t.Fatalf("Cancel of call %d, waiting in the pool, returned false", i)
			}
			cancelled++
		}
	})
	for i, f := range fs {
		v, err := f.Result(ctx)
		switch {
		case i < calls/2 && i%3 == 0:
			if !errors.Is(err, futures.ErrCancelled) {
				t.Errorf("cancelled call %d: %d, %v, want ErrCancelled", i, v, err)
			}
		case v != i*i || err != nil:
			t.Errorf("square(%d) = %d, %v", i, v, err)
		}
	}
	// The first half joins in a few messages; the second half alternates
	// contexts and needs a message per call.
	if n, most := published(t, p)-before, uint64(calls/2+calls/20); n > most || n < calls/2 {
		t.Errorf("%d calls took %d messages, want %d to %d", calls, n, calls/2, most)
	}
	st := p.Stats()
	if st.Cancelled != int64(cancelled) || st.Succeeded != int64(calls-cancelled+21) || st.Submitted != st.Succeeded+st.Cancelled+st.Failed {
		t.Errorf("Stats %+v: want %d cancelled, %d succeeded, adding up", st, cancelled, calls-cancelled+21)
	}
}

// TestWorkerDiesInJoinedCalls: a worker that dies in the middle of a
// message of joined calls has the message delivered again, and every call
// gets its own right value.
func TestWorkerDiesInJoinedCalls(t *testing.T) {
	const calls = 1000
	p := newTestPool(t, LocalWorkers(1), WorkerLostAfter(time.Second))
	ctx := testContext(t, time.Minute)
	dir := t.TempDir()
	learn(t, ctx, p, dieOnce, func(i int) dieArg { return dieArg{dir, i} })
	fs := make([]*futures.Future[int], calls)
	queueBehind(t, ctx, p, func() {
		for i := range fs {
			fs[i] = futures.Submit(p, dieOnce, dieArg{dir, i})
		}
	})
	for i, f := range fs {
		if v, err := f.Result(ctx); v != i*i || err != nil {
			t.Fatalf("dieOnce(%d) = %d, %v", i, v, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "died")); err != nil {
		t.Fatalf("the worker did not die in the middle: %v", err)
	}
	if st := p.Stats(); st.WorkerExits == 0 || st.Succeeded != calls+21 {
		t.Errorf("Stats %+v: want a worker exit and %d succeeded", st, calls+21)
	}
}

// TestQuickMapItemsShareMessages: the items of a Map with Chunksize 1
// that wait in the pool together go out in a few messages, as lone calls
// do, and are yielded in order.
func TestQuickMapItemsShareMessages(t *testing.T) {
	const items = 1000
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, square, itself)
	done := make(chan error, 1)
	before := queueBehind(t, ctx, p, func() {
		go func() {
			i := 0
			for v, err := range futures.Map(ctx, p, square, count(items), futures.Chunksize(1), futures.Buffer(items)) {
				if v != i*i || err != nil {
					done <- fmt.Errorf("item %d: %d, %v", i, v, err)
					return
				}
				i++
			}
			done <- nil
		}()
		for p.Stats().Queued < items { // every item waits in the pool
			select {
			case <-ctx.Done():
				t.Fatalf("Stats %+v: the Map's items did not reach the pool", p.Stats())
			case <-time.After(time.Millisecond):
			}
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := published(t, p) - before; n > items/10 {
		t.Errorf("%d quick Map items that waited together took %d messages, want at most %d", items, n, items/10)
	}
}

// TestLoneCallsSpreadOverFreeSlots: quick calls waiting in the pool do not
// join while the workers have a free slot for each of them.
func TestLoneCallsSpreadOverFreeSlots(t *testing.T) {
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, square, itself)
	dir, held := holdSlot(t, ctx, p)
	before := published(t, p)
	fs := []*futures.Future[int]{futures.Submit(p, square, 2), futures.Submit(p, square, 3)}
	ghostSlots(t, p, 2) // room for both
	<-p.pub.PublishAsyncComplete()
	if n := published(t, p) - before; n != 2 {
		t.Errorf("two calls with a free slot each took %d messages, want 2", n)
	}
	release(t, dir)
	if _, err := held.Result(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if v, err := f.Result(ctx); v != (i+2)*(i+2) || err != nil {
			t.Errorf("square(%d) = %d, %v", i+2, v, err)
		}
	}
}

// quirk returns n, but panics for n%7 == 3 and calls runtime.Goexit for
// n%7 == 5.
func quirk(_ context.Context, n int) (int, error) {
	switch n % 7 {
	case 3:
		panic(fmt.Sprint("quirk ", n))
	case 5:
		runtime.Goexit()
	}
	return n, nil
}

func init() { futures.Register(quirk) }

// TestJoinedCallsPanicAndGoexit: calls that panic or call runtime.Goexit
// in the middle of a message of joined calls fail on their own; the calls
// after them in the message run and succeed, and Stats add up.
func TestJoinedCallsPanicAndGoexit(t *testing.T) {
	const calls = 700
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, quirk, func(i int) int { return i * 7 }) // neither panics nor exits
	fs := make([]*futures.Future[int], calls)
	before := queueBehind(t, ctx, p, func() {
		for i := range fs {
			fs[i] = futures.Submit(p, quirk, i)
		}
	})
	failed := 0
	for i, f := range fs {
		v, err := f.Result(ctx)
		var pe *futures.PanicError
		switch i % 7 {
		case 3:
			if !errors.As(err, &pe) {
				t.Errorf("quirk(%d): %d, %v, want a *PanicError", i, v, err)
			}
			failed++
		case 5:
			if err == nil || !strings.Contains(err.Error(), "Goexit") {
				t.Errorf("quirk(%d): %d, %v, want an error naming runtime.Goexit", i, v, err)
			}
			failed++
		default:
			if v != i || err != nil {
				t.Errorf("quirk(%d) = %d, %v", i, v, err)
			}
		}
	}
	if n := published(t, p) - before; n > calls/10 {
		t.Errorf("%d quick calls took %d messages, want at most %d: they did not join", calls, n, calls/10)
	}
	st := p.Stats()
	checkStats(t, st)
	if st.Failed != int64(failed) || st.Succeeded != int64(calls-failed+21) {
		t.Errorf("Stats %+v: want %d failed, %d succeeded", st, failed, calls-failed+21)
	}
}

// TestMapBreaksInJoinedItems: a Map with Chunksize 1 whose loop breaks
// while its items run joined in one message returns once they are over:
// the pool then holds nothing, and Stats add up.
func TestMapBreaksInJoinedItems(t *testing.T) {
	const items = 2000
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, square, itself)
	dir, held := holdSlot(t, ctx, p)
	yielded := 0
	go func() {
		for p.Stats().Queued < items/2 { // a backlog waits behind the held slot
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
			t.Error(err) // release would call t.Fatal outside the test's goroutine
		}
	}()
	for v, err := range futures.Map(ctx, p, square, count(items), futures.Chunksize(1), futures.Buffer(items)) {
		if v != yielded*yielded || err != nil {
			t.Fatalf("item %d: %d, %v", yielded, v, err)
		}
		yielded++
		if yielded == 10 {
			break
		}
	}
	if _, err := held.Result(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, ctx, p)
	st := p.Stats()
	checkStats(t, st)
	if st.Queued != 0 || st.Running != 0 || st.Succeeded < 31 {
		t.Errorf("Stats %+v after the Map broke: want nothing queued or running, at least 31 succeeded", st)
	}
}

// waitOut returns n, except for n = waitOutAt, which waits for its context
// to end and returns its error.
func waitOut(ctx context.Context, n int) (int, error) {
	if n == waitOutAt {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return n, nil
}

const waitOutAt = 100

func init() { futures.Register(waitOut) }

// TestJoinedCallsContextEndsMidMessage: calls joined in messages share
// their context; when it ends while a call of a message runs, the calls
// after it are not invoked (waitOut would succeed): they end with the
// context's error, and the calls before succeeded.
func TestJoinedCallsContextEndsMidMessage(t *testing.T) {
	const calls = 400
	p := newTestPool(t, LocalWorkers(1))
	ctx := testContext(t, time.Minute)
	learn(t, ctx, p, waitOut, itself)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fs := make([]*futures.Future[int], calls)
	before := queueBehind(t, ctx, p, func() {
		for i := range fs {
			fs[i] = futures.SubmitContext(dctx, p, waitOut, i)
		}
	})
	for i := range waitOutAt {
		if v, err := fs[i].Result(ctx); v != i || err != nil {
			t.Fatalf("waitOut(%d) = %d, %v", i, v, err)
		}
	}
	if n := published(t, p) - before; n > calls/10 {
		t.Fatalf("%d quick calls took %d messages: they did not join", calls, n)
	}
	cancel()
	for i := waitOutAt; i < calls; i++ {
		if _, err := fs[i].Result(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("call %d after its context ended in the middle of its message: %v, want its context's error", i, err)
		}
	}
	st := p.Stats()
	checkStats(t, st)
	if st.Succeeded != waitOutAt+21 || st.Succeeded+st.Cancelled+st.Failed != st.Submitted {
		t.Errorf("Stats %+v: want %d succeeded and the rest ended", st, waitOutAt+21)
	}
}
