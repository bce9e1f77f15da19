//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gofutures/futures"
)

// crossExitDecode is a value whose GobDecode calls runtime.Goexit when its
// Mode is 1; crossExitError is a registered error that does the same.
type crossExitDecode struct{ Mode int }

func (c crossExitDecode) GobEncode() ([]byte, error) { return []byte{byte(c.Mode)}, nil }

func (c *crossExitDecode) GobDecode(b []byte) error {
	m, err := crossExitMode(b)
	c.Mode = m
	return err
}

type crossExitError struct{ Mode int }

func (e *crossExitError) Error() string { return fmt.Sprintf("exit error %d", e.Mode) }

func (e crossExitError) GobEncode() ([]byte, error) { return []byte{byte(e.Mode)}, nil }

func (e *crossExitError) GobDecode(b []byte) error {
	m, err := crossExitMode(b)
	e.Mode = m
	return err
}

// crossExitMode is the Mode encoded as b; it calls runtime.Goexit for 1.
func crossExitMode(b []byte) (int, error) {
	if len(b) != 1 {
		return 0, errors.New("crossExit: bad length")
	}
	if b[0] == 1 {
		runtime.Goexit()
	}
	return int(b[0]), nil
}

func crossMakeExitDecode(_ context.Context, mode int) (crossExitDecode, error) {
	return crossExitDecode{mode}, nil
}

func crossTakeExitDecode(_ context.Context, c crossExitDecode) (int, error) { return c.Mode, nil }

func crossFailExitError(_ context.Context, mode int) (int, error) { return 0, &crossExitError{mode} }

func crossPanicExitDecode(_ context.Context, mode int) (int, error) { panic(crossExitDecode{mode}) }

func init() {
	futures.Register(crossMakeExitDecode, crossTakeExitDecode, crossFailExitError, crossPanicExitDecode)
	futures.RegisterError(&crossExitError{})
	gob.Register(crossExitDecode{})
}

// TestValuesWhoseDecodingCallsGoexit: a result whose GobDecode calls
// runtime.Goexit in the pool's process fails its call with an error saying
// so, through Submit and a chunked Map, while the other calls complete; so
// does an argument whose GobDecode calls it in the worker. A registered
// error and a panic value whose GobDecode calls it fail their calls with
// their text. In each case the one worker serves on, and Shutdown returns.
func TestValuesWhoseDecodingCallsGoexit(t *testing.T) {
	const exits = "decoding a *futures_test.crossExitDecode called runtime.Goexit"
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, t *testing.T, p *futures.ProcessPool)
	}{
		{"Submit", func(ctx context.Context, t *testing.T, p *futures.ProcessPool) {
			_, err := futures.Submit(p, crossMakeExitDecode, 1).Result(ctx)
			assert.ErrorContains(t, err, exits)
		}},
		{"Map", func(ctx context.Context, t *testing.T, p *futures.ProcessPool) {
			i := 0
			for r, err := range futures.Map(ctx, p, crossMakeExitDecode, slices.Values([]int{1, 0, 1, 2, 1, 4}), futures.Chunksize(3)) {
				if i%2 == 0 {
					assert.ErrorContains(t, err, exits, "item %d", i)
				} else {
					assert.NoError(t, err, "item %d", i)
					assert.Equal(t, crossExitDecode{i - 1}, r, "item %d", i)
				}
				i++
			}
			assert.Equal(t, 6, i)
		}},
		{"argument", func(ctx context.Context, t *testing.T, p *futures.ProcessPool) {
			_, err := futures.Submit(p, crossTakeExitDecode, crossExitDecode{1}).Result(ctx)
			assert.ErrorContains(t, err, exits)
		}},
		{"registered error", func(ctx context.Context, t *testing.T, p *futures.ProcessPool) {
			_, err := futures.Submit(p, crossFailExitError, 1).Result(ctx)
			assert.ErrorContains(t, err, "exit error 1", "the error's text, as for a value the pool cannot decode")
			var ee *crossExitError
			assert.False(t, errors.As(err, &ee), "%v", err)
			_, err = futures.Submit(p, crossFailExitError, 3).Result(ctx)
			if assert.ErrorAs(t, err, &ee) {
				assert.Equal(t, 3, ee.Mode)
			}
		}},
		{"panic value", func(ctx context.Context, t *testing.T, p *futures.ProcessPool) {
			_, err := futures.Submit(p, crossPanicExitDecode, 1).Result(ctx)
			var pe *futures.PanicError
			if assert.ErrorAs(t, err, &pe) {
				assert.Equal(t, "{1}", pe.Value, "the panic value is its text")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := futures.NewProcessPool(futures.MaxWorkers(1))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				ctx, cancel := context.WithTimeout(bg, 30*time.Second)
				defer cancel()
				tc.run(ctx, t, p)
				n, err := futures.Submit(p, crossTakeExitDecode, crossExitDecode{3}).Result(ctx)
				assert.NoError(t, err)
				assert.Equal(t, 3, n)
				assert.Equal(t, int64(1), p.Stats().WorkerStarts)
				assert.NoError(t, p.Shutdown(ctx))
			}()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the pool hangs after a value's GobDecode called runtime.Goexit")
			}
			assert.Empty(t, children(t), "child processes left after Shutdown")
		})
	}
}
