//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// advRecord is an argument shape for the typed calls of RegisterFunc.
type advRecord struct{ N int }

func advNilPtr(_ context.Context, p *advRecord) (*advRecord, error) { return p, nil }
func advMap(_ context.Context, m map[string]int) (map[string]int, error) {
	return m, nil
}
func advBig(_ context.Context, b []byte) ([]byte, error)       { return b, nil }
func advEmpty(_ context.Context, e struct{}) (struct{}, error) { return e, nil }
func advAny(_ context.Context, v any) (any, error)             { return v, nil }
func advDeadline(ctx context.Context, _ int) (time.Time, error) {
	d, _ := ctx.Deadline()
	return d, nil
}

func init() {
	futures.RegisterFunc(advNilPtr)
	futures.RegisterFunc(advMap)
	futures.RegisterFunc(advBig)
	futures.RegisterFunc(advEmpty)
	futures.RegisterFunc(advAny)
	futures.RegisterFunc(advDeadline)
}

// TestRegisterFuncEveryArgumentShape: functions registered with
// RegisterFunc take and return nil pointers, maps (nil too), []byte of
// 64 KiB and more, empty structs and any values as Register's do.
func TestRegisterFuncEveryArgumentShape(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	ptr, err := futures.Submit(p, advNilPtr, nil).Result(bg)
	require.NoError(t, err)
	assert.Nil(t, ptr)
	ptr, err = futures.Submit(p, advNilPtr, &advRecord{N: 7}).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, &advRecord{N: 7}, ptr)
	m, err := futures.Submit(p, advMap, map[string]int{"a": 1}).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 1}, m)
	m, err = futures.Submit(p, advMap, nil).Result(bg)
	require.NoError(t, err)
	assert.Empty(t, m)
	for _, n := range []int{64<<10 - 1, 64 << 10, 1 << 20} {
		big := bytes.Repeat([]byte{0xa5}, n)
		got, err := futures.Submit(p, advBig, big).Result(bg)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(big, got), "%d bytes came back changed", n)
	}
	_, err = futures.Submit(p, advEmpty, struct{}{}).Result(bg)
	require.NoError(t, err)
	v, err := futures.Submit[any, any](p, advAny, nil).Result(bg)
	require.NoError(t, err)
	assert.Nil(t, v)
	require.NoError(t, p.Close())
	st := p.Stats()
	assert.Equal(t, int64(9), st.Submitted)
	assert.Equal(t, int64(9), st.Succeeded)
}

// TestProcessPoolSubmitContextAlreadyDone: a call whose ctx ended before
// SubmitContext is cancelled, never run, and counted Cancelled.
func TestProcessPoolSubmitContextAlreadyDone(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	ctx, cancel := context.WithCancel(bg)
	cancel()
	f := futures.SubmitContext(ctx, p, advEmpty, struct{}{})
	_, err := f.Result(bg)
	assert.ErrorIs(t, err, futures.ErrCancelled)
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, p.Close())
	st := p.Stats()
	assert.Equal(t, int64(0), st.Succeeded+st.Failed, "the call ran")
	assert.Equal(t, int64(1), st.Cancelled)
}

// TestProcessPoolSubmitContextDeadlineCrosses: the deadline of ctx is the
// deadline of the call's context in the worker process.
func TestProcessPoolSubmitContextDeadlineCrosses(t *testing.T) {
	p := newProcPool(t, futures.MaxWorkers(1))
	want := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(bg, want)
	defer cancel()
	got, err := futures.SubmitContext(ctx, p, advDeadline, 0).Result(bg)
	require.NoError(t, err)
	assert.WithinDuration(t, want, got, time.Millisecond)
}
