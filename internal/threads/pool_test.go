package threads

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gofutures/futures/internal/counts"
	"github.com/gofutures/futures/internal/mpsc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// call is the task type of these tests: an interface, as Pool needs.
type call interface {
	Task
	run(ctx context.Context, before func(error))
	fail(err error)
}

// fake is a call that runs fn, with a Done channel and an owner to tell of
// its cancellation, as the root package's tasks have.
type fake struct {
	fn    func(context.Context) error
	link  mpsc.Node[call]
	done  chan struct{}
	mu    sync.Mutex
	state int // 0 pending, 1 running, 2 finished, 3 cancelled
	err   error
	owner *Pool[call]
}

var errCancelled = errors.New("cancelled")

func newFake(fn func(context.Context) error) *fake {
	return &fake{fn: fn, done: make(chan struct{})}
}

func (f *fake) Context() context.Context { return context.Background() }
func (f *fake) Func() any                { return f.fn }

func (f *fake) Start() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state != 0 {
		return false
	}
	f.state = 1
	return true
}

func (f *fake) Cancel() bool {
	f.mu.Lock()
	if f.state != 0 {
		f.mu.Unlock()
		return false
	}
	f.state, f.err = 3, errCancelled
	owner := f.owner
	f.mu.Unlock()
	if owner != nil {
		owner.NoteCancelled()
	}
	close(f.done)
	return true
}

func (f *fake) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fake) fail(err error) {
	f.mu.Lock()
	if f.state >= 2 {
		f.mu.Unlock()
		return
	}
	f.state, f.err = 2, err
	f.mu.Unlock()
	close(f.done)
}

func (f *fake) run(ctx context.Context, before func(error)) {
	err := f.fn(ctx)
	before(err)
	f.fail(err)
}

type waiterKey struct{}

var errShutdown, errInside = errors.New("shut down"), errors.New("shutdown inside")

// deadlock is the error of the Deadlock hook; chain names the calls.
type deadlock struct{ chain string }

func (d *deadlock) Error() string { return "deadlock: " + d.chain }

// fakeTasks is how the pool of these tests handles its calls.
type fakeTasks struct{ p *Pool[call] }

func (ft fakeTasks) Own(c call) (bool, bool) {
	f := c.(*fake)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.owner = ft.p
	return true, f.state == 0
}

func (fakeTasks) Future(c call) any                      { return c }
func (fakeTasks) IsDone(f any) bool                      { return f.(*fake).Err() != nil }
func (fakeTasks) Fail(c call, err error, _ func(func())) { c.fail(err) }

func (fakeTasks) Ending(c call) counts.Ending {
	if errors.Is(c.Err(), errCancelled) {
		return counts.Cancelled
	}
	return counts.Failed
}

func (fakeTasks) Run(c call, ctx context.Context, before func(error)) { c.run(ctx, before) }

// fakeErrors makes the errors of the pool of these tests.
type fakeErrors struct{}

func (fakeErrors) Shutdown() error                      { return errShutdown }
func (fakeErrors) ShutdownInside() error                { return errInside }
func (fakeErrors) Broken(msg string, _ error) error     { return errors.New(msg) }
func (fakeErrors) NotStarted(ctx context.Context) error { return ctx.Err() }
func (fakeErrors) Deadlock(chain string) error          { return &deadlock{chain: chain} }

func newPool(t *testing.T, workers int) *Pool[call] {
	p := &Pool[call]{}
	p.Init(Config{
		Name: "test", MaxWorkers: workers, WaiterKey: waiterKey{},
		Guard: func(body func() error, settle func(error)) { settle(body()) },
		WaitDone: func(ctx context.Context, done <-chan struct{}) error {
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		WaitRoom: func(context.Context, *sync.Cond, func() (bool, error)) error { return nil },
	}, fakeTasks{p}, fakeErrors{})
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background(), false)) })
	return p
}

// Calls pushed into the inbox while the only worker is busy run in order,
// a cancelled one is counted as such, and the counts add up.
func TestPoolRunsInboxCallsInOrder(t *testing.T) {
	p := newPool(t, 1)
	gate := make(chan struct{})
	first := newFake(func(context.Context) error { <-gate; return nil })
	require.NoError(t, p.Execute(first, &first.link))
	var order []int
	var fakes []*fake
	for i := range 4 {
		f := newFake(func(context.Context) error { order = append(order, i); return nil })
		fakes = append(fakes, f)
		require.NoError(t, p.Execute(f, &f.link))
	}
	assert.True(t, fakes[2].Cancel())
	close(gate)
	for _, f := range fakes {
		<-f.done
	}
	assert.Equal(t, []int{0, 1, 3}, order)
	require.NoError(t, p.Shutdown(context.Background(), false))
	c, workers := p.Stats()
	assert.Equal(t, counts.Counters{Submitted: 5, Succeeded: 4, Cancelled: 1}, c)
	assert.Zero(t, workers)
	assert.ErrorIs(t, p.Execute(newFake(nil), nil), errShutdown)
}

// A call that waits, through the worker in its context, on a call queued
// behind it on the pool's only worker gets the Deadlock error at once.
func TestPoolReportsADeadlock(t *testing.T) {
	p := newPool(t, 1)
	inner := newFake(func(context.Context) error { return nil })
	var got error
	outer := newFake(func(ctx context.Context) error {
		assert.NoError(t, p.Execute(inner, nil))
		w, ok := ctx.Value(waiterKey{}).(interface {
			WaitIn(context.Context, any, <-chan struct{}) error
		})
		if !assert.True(t, ok, "the call's context carries no waiter") {
			return nil
		}
		got = w.WaitIn(ctx, inner, inner.done)
		return nil
	})
	require.NoError(t, p.Execute(outer, nil))
	<-outer.done
	<-inner.done
	var d *deadlock
	require.ErrorAs(t, got, &d)
	assert.Contains(t, d.chain, "queued in test, whose only worker waits on calls that cannot start")
}

// Shutdown called from one of the pool's own calls returns
// ErrShutdownInside instead of waiting for itself.
func TestPoolShutdownInside(t *testing.T) {
	p := newPool(t, 1)
	var got error
	f := newFake(func(context.Context) error { got = p.Shutdown(context.Background(), false); return nil })
	require.NoError(t, p.Execute(f, nil))
	<-f.done
	assert.ErrorIs(t, got, errInside)
}
