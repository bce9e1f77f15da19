//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// crossBadDecode is a value whose GobDecode panics when its Mode says so.
type crossBadDecode struct{ Mode int }

func (c crossBadDecode) GobEncode() ([]byte, error) { return []byte{byte(c.Mode)}, nil }

func (c *crossBadDecode) GobDecode(b []byte) error {
	if len(b) != 1 {
		return errors.New("crossBadDecode: bad length")
	}
	if b[0] == 1 {
		panic("GobDecode panics")
	}
	c.Mode = int(b[0])
	return nil
}

func crossMakeBadDecode(_ context.Context, mode int) (crossBadDecode, error) {
	return crossBadDecode{mode}, nil
}

func crossTakeBadDecode(_ context.Context, c crossBadDecode) (int, error) { return c.Mode, nil }

func init() { futures.Register(crossMakeBadDecode, crossTakeBadDecode) }

// TestValuesWhoseDecodingPanics: a result whose GobDecode panics in the
// pool's process fails its call with an error, through Submit and Map, and
// so does an argument whose GobDecode panics in the worker; the pool and
// its worker serve on.
func TestValuesWhoseDecodingPanics(t *testing.T) {
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	p := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(p, crossMakeBadDecode, 1).Result(ctx)
	require.ErrorContains(t, err, "GobDecode panics")
	i := 0
	for r, err := range futures.Map(ctx, p, crossMakeBadDecode, slices.Values([]int{1, 0, 1, 2})) {
		if i%2 == 0 {
			require.ErrorContains(t, err, "GobDecode panics", "item %d", i)
		} else {
			require.NoError(t, err, "item %d", i)
			require.Equal(t, crossBadDecode{2 * (i / 2)}, r)
		}
		i++
	}
	_, err = futures.Submit(p, crossTakeBadDecode, crossBadDecode{1}).Result(ctx)
	require.ErrorContains(t, err, "GobDecode panics")
	n, err := futures.Submit(p, crossTakeBadDecode, crossBadDecode{3}).Result(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, int64(1), p.Stats().WorkerStarts)
}
