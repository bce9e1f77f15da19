package futures_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// promises returns n pending promises and their futures.
func promises(n int) ([]*futures.Promise[int], []*futures.Future[int]) {
	ps := make([]*futures.Promise[int], n)
	fs := make([]*futures.Future[int], n)
	for i := range ps {
		ps[i] = futures.NewPromise[int]()
		fs[i] = ps[i].Future()
	}
	return ps, fs
}

// foreign is an Awaitable implemented outside the package.
type foreign struct {
	done chan struct{}
	err  error
}

func (f *foreign) Done() <-chan struct{} { return f.done }
func (f *foreign) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

func TestAsCompletedOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps, fs := promises(5)
		errThree := errors.New("three")
		require.NoError(t, ps[3].SetError(errThree))
		require.NoError(t, ps[1].SetResult(1))
		var got []*futures.Future[int]
		var errs []error
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			for f, err := range futures.AsCompleted(context.Background(), fs...) {
				got = append(got, f)
				errs = append(errs, err)
			}
		}()
		synctest.Wait()
		require.Equal(t, []*futures.Future[int]{fs[1], fs[3]}, got, "already done first, in input order")
		for _, i := range []int{4, 0, 2} {
			require.NoError(t, ps[i].SetResult(i))
			synctest.Wait()
		}
		<-finished
		assert.Equal(t, []*futures.Future[int]{fs[1], fs[3], fs[4], fs[0], fs[2]}, got)
		assert.Equal(t, []error{nil, errThree, nil, nil, nil}, errs, "each future's own error")
	})
}

func TestAsCompletedDuplicatesAndNils(t *testing.T) {
	ps, fs := promises(2)
	for i, p := range ps {
		require.NoError(t, p.SetResult(i))
	}
	n := 0
	for f, err := range futures.AsCompleted(context.Background(), fs[0], nil, fs[1], fs[0], fs[1]) {
		require.NoError(t, err)
		require.NotNil(t, f)
		n++
	}
	assert.Equal(t, 2, n)
	for range futures.AsCompleted[*futures.Future[int]](context.Background()) {
		t.Fatal("nothing to yield")
	}
}

func TestAsCompletedTimeoutPair(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps, fs := promises(4)
		require.NoError(t, ps[2].SetResult(2))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var got []*futures.Future[int]
		var last error
		for f, err := range futures.AsCompleted(ctx, fs[0], fs[1], fs[2], fs[3], fs[3]) {
			if f == nil {
				last = err
				continue
			}
			got = append(got, f)
		}
		assert.Equal(t, []*futures.Future[int]{fs[2]}, got)
		require.Error(t, last)
		assert.ErrorIs(t, last, futures.ErrTimeout)
		assert.ErrorIs(t, last, context.DeadlineExceeded)
		assert.Contains(t, last.Error(), "3 (of 4) futures unfinished")
		assert.Equal(t, futures.Pending, fs[0].State(), "the futures go on")
	})
}

func TestAsCompletedCancelledContext(t *testing.T) {
	_, fs := promises(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for f, err := range futures.AsCompleted(ctx, fs...) {
		assert.Nil(t, f)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, futures.ErrTimeout)
	}
}

func TestAsCompletedSeesCancelledFutures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, fs := promises(3)
		got := make(chan futures.State, 3)
		go func() {
			for f, err := range futures.AsCompleted(context.Background(), fs...) {
				assert.ErrorIs(t, err, futures.ErrCancelled)
				got <- f.State()
			}
			close(got)
		}()
		synctest.Wait()
		for _, f := range fs {
			f.Cancel()
		}
		n := 0
		for s := range got {
			assert.Equal(t, futures.Cancelled, s)
			n++
		}
		assert.Equal(t, 3, n)
	})
}

func TestAsCompletedBreakReleases(t *testing.T) {
	ps, fs := promises(3)
	require.NoError(t, ps[0].SetResult(0))
	for range futures.AsCompleted(context.Background(), fs...) {
		break
	}
	// The others finish later with nobody listening: nothing blocks.
	require.NoError(t, ps[1].SetResult(1))
	require.NoError(t, ps[2].SetResult(2))
}

func TestAsCompletedMixedAndForeignAwaitables(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := futures.NewPromise[string]()
		ext := &foreign{done: make(chan struct{}), err: errors.New("ext")}
		items := []futures.Awaitable{p.Future(), ext}
		var errs []error
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, err := range futures.AsCompleted(context.Background(), items...) {
				errs = append(errs, err)
			}
		}()
		synctest.Wait()
		close(ext.done)
		synctest.Wait()
		require.NoError(t, p.SetResult("x"))
		<-done
		assert.Equal(t, []error{ext.err, nil}, errs)
	})
	// Breaking out leaves no goroutine behind for a foreign awaitable
	// (goleak checks at the end of the package).
	ext := &foreign{done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range futures.AsCompleted(ctx, futures.Awaitable(ext)) {
	}
}

func TestWaitConditions(t *testing.T) {
	errFail := errors.New("fail")
	type step struct {
		i   int
		err error
	}
	tests := []struct {
		name        string
		when        futures.Condition
		pre         []step // done before Wait
		during      []step // done while Wait waits, in order
		cancel      []int  // cancelled while Wait waits, before during
		wantDone    []int
		wantNotDone []int
	}{
		{"all already done", futures.AllCompleted, []step{{0, nil}, {1, errFail}, {2, nil}}, nil, nil, []int{0, 1, 2}, nil},
		{"all", futures.AllCompleted, []step{{1, nil}}, []step{{0, nil}, {2, errFail}}, nil, []int{0, 1, 2}, nil},
		{"first completed already done", futures.FirstCompleted, []step{{2, nil}}, nil, nil, []int{2}, []int{0, 1}},
		{"first completed", futures.FirstCompleted, nil, []step{{1, nil}}, nil, []int{1}, []int{0, 2}},
		{"first completed by cancel", futures.FirstCompleted, nil, nil, []int{0}, []int{0}, []int{1, 2}},
		{"first error", futures.FirstError, []step{{0, nil}}, []step{{2, errFail}}, nil, []int{0, 2}, []int{1}},
		{"first error already failed", futures.FirstError, []step{{1, errFail}}, nil, nil, []int{1}, []int{0, 2}},
		{"first error ignores cancellation", futures.FirstError, nil, []step{{1, nil}, {2, nil}}, []int{0}, []int{0, 1, 2}, nil},
		{"first error without errors", futures.FirstError, []step{{0, nil}}, []step{{1, nil}, {2, nil}}, nil, []int{0, 1, 2}, nil},
		{"unknown condition waits for all", futures.Condition(42), []step{{0, nil}}, []step{{1, nil}, {2, nil}}, nil, []int{0, 1, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ps, fs := promises(3)
				for _, s := range tt.pre {
					require.NoError(t, ps[s.i].SetError(s.err))
				}
				in := []*futures.Future[int]{fs[0], fs[1], fs[0], fs[2], nil, fs[1]}
				var done, notDone []*futures.Future[int]
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					done, notDone = futures.Wait(context.Background(), in, tt.when)
				}()
				synctest.Wait()
				for _, i := range tt.cancel {
					fs[i].Cancel()
					synctest.Wait()
				}
				for _, s := range tt.during {
					select {
					case <-returned:
					default:
						require.NoError(t, ps[s.i].SetError(s.err))
						synctest.Wait()
					}
				}
				<-returned
				pick := func(is []int) []*futures.Future[int] {
					var out []*futures.Future[int]
					for _, i := range is {
						out = append(out, fs[i])
					}
					return out
				}
				assert.Equal(t, pick(tt.wantDone), done)
				assert.Equal(t, pick(tt.wantNotDone), notDone)
				for _, p := range ps { // let nothing pend
					p.SetResult(0)
				}
			})
		})
	}
}

func TestWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps, fs := promises(3)
		require.NoError(t, ps[1].SetResult(1))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		done, notDone := futures.Wait(ctx, fs, futures.AllCompleted)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, []*futures.Future[int]{fs[1]}, done)
		assert.Equal(t, []*futures.Future[int]{fs[0], fs[2]}, notDone)
	})
}

func TestWaitOnPoolFutures(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(4))
	var fs []futures.Awaitable
	for i := range 100 {
		fs = append(fs, futures.Submit(p, double, i))
	}
	fs = append(fs, futures.Go(p, func(context.Context) (string, error) { return "", errors.New("x") }))
	done, notDone := futures.Wait(context.Background(), fs, futures.AllCompleted)
	assert.Len(t, done, 101)
	assert.Empty(t, notDone)
	assert.Equal(t, "FirstError", futures.FirstError.String())
	assert.Equal(t, "Condition(9)", futures.Condition(9).String())
}

func TestDuplicatesCollapseUnderConcurrentWaits(t *testing.T) {
	ps, fs := promises(50)
	for i, p := range ps {
		require.NoError(t, p.SetResult(i))
	}
	in := append(append([]*futures.Future[int]{}, fs...), fs...) // every future twice
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				done, notDone := futures.Wait(context.Background(), in, futures.AllCompleted)
				if len(done) != 50 || len(notDone) != 0 {
					t.Errorf("Wait returned %d done, %d not done; want 50, 0", len(done), len(notDone))
					return
				}
				n := 0
				for range futures.AsCompleted(context.Background(), in...) {
					n++
				}
				if n != 50 {
					t.Errorf("AsCompleted yielded %d futures, want 50", n)
					return
				}
			}
		})
	}
	wg.Wait()
}
