package futures_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// inline is an Executor written outside the package, on its public
// interface only: it runs each call at once in the caller.
type inline struct {
	mu     sync.Mutex
	closed bool
}

func (e *inline) Execute(t futures.Task) error {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return futures.ErrShutdown
	}
	if t.Start() {
		t.Run(t.Context())
	}
	return nil
}

func (e *inline) Shutdown(ctx context.Context, _ ...futures.ShutdownOption) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	return nil
}

func (e *inline) Close() error { return e.Shutdown(context.Background()) }

var _ futures.Executor = (*inline)(nil)

func TestExecutorImplementedOutsideThePackage(t *testing.T) {
	ex := &inline{}
	ctx := context.Background()

	v, err := futures.Submit(ex, double, 4).Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 8, v)

	f := futures.Go(ex, func(context.Context) (string, error) { panic("inline") })
	var pe *futures.PanicError
	assert.ErrorAs(t, f.Err(), &pe)

	var got []int
	for v, err := range futures.Map(ctx, ex, double, slices.Values([]int{1, 2, 3}), futures.Chunksize(2)) {
		require.NoError(t, err)
		got = append(got, v)
	}
	assert.Equal(t, []int{2, 4, 6}, got)

	require.NoError(t, ex.Close())
	assert.ErrorIs(t, futures.Submit(ex, double, 1).Err(), futures.ErrShutdown)
	for _, err := range futures.Map(ctx, ex, double, slices.Values([]int{1})) {
		assert.ErrorIs(t, err, futures.ErrShutdown)
	}
}

// remote completes calls from "elsewhere": it reads Func and Arg and reports
// the result through NewResult and Complete, as a process pool does.
type remote struct{ inline }

func (e *remote) Execute(t futures.Task) error {
	arg, ok := t.Arg()
	if !ok || !t.Start() {
		return errors.New("futures_test: remote needs an argument")
	}
	res := t.NewResult()
	*(res.(*int)) = arg.(int) + 1000
	t.Complete(res, nil)
	if t.Complete(nil, errors.New("late")) {
		panic("a second Complete changed the future")
	}
	return nil
}

func TestTaskCompleteFromElsewhere(t *testing.T) {
	v, err := futures.Submit(&remote{}, double, 5).Result(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1005, v)
	f := futures.Go(&remote{}, func(context.Context) (int, error) { return 0, nil })
	assert.ErrorContains(t, f.Err(), "needs an argument")
}

func TestShutdownOptions(t *testing.T) {
	assert.False(t, futures.ReadShutdownOptions().CancelPending)
	assert.True(t, futures.ReadShutdownOptions(futures.CancelPending()).CancelPending)
}

func TestStatsCountCancellationAtOnce(t *testing.T) {
	p := newPool(t, futures.MaxWorkers(1))
	g := newGate()
	futures.Submit(p, g.call, 0)
	queued := futures.Submit(p, g.call, 1)
	require.True(t, queued.Cancel())
	s := p.Stats()
	assert.Equal(t, int64(1), s.Cancelled)
	assert.Equal(t, int64(2), s.Submitted)
	assert.Equal(t, s.Submitted, s.Queued+s.Running+s.Cancelled)
	close(g.open)
	require.NoError(t, p.Close())
	s = p.Stats()
	assert.Equal(t, futures.Stats{Submitted: 2, Succeeded: 1, Cancelled: 1}, s)
}
