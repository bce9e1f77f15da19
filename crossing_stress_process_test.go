//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gofutures/futures"
)

// Types that a program sends for the first time from many goroutines at
// once, each with its own description.
type (
	stepA struct{ A int }
	stepB struct {
		B  string
		As []stepA
	}
	stepC struct {
		C  map[string]stepB
		Fs [2]float64
	}
)

func stepEchoA(_ context.Context, v stepA) (stepA, error) { return v, nil }
func stepEchoB(_ context.Context, v stepB) (stepB, error) { return v, nil }

// stepEchoC ends its worker process when asked to, after which the pool
// starts another.
func stepEchoC(_ context.Context, v stepC) (stepC, error) {
	if v.Fs[0] < 0 {
		os.Exit(3)
	}
	return v, nil
}

func init() { futures.Register(stepEchoA, stepEchoB, stepEchoC) }

// TestValueStreamsStayInStepUnderConcurrency: goroutines submit and map
// values of types no worker has seen, at once, while workers are recycled
// every few calls and some die in a call: every value that comes back is
// the one sent, so each worker, new or not, got each description once,
// before the values that need it.
func TestValueStreamsStayInStepUnderConcurrency(t *testing.T) {
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	p := newProcPool(t, futures.MaxWorkers(3), futures.MaxTasksPerWorker(9))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				s := strconv.Itoa(g*1000 + i)
				switch (g + i) % 4 {
				case 0:
					v, err := futures.Submit(p, stepEchoA, stepA{i}).Result(ctx)
					assert.NoError(t, err)
					assert.Equal(t, stepA{i}, v)
				case 1:
					want := stepB{B: s, As: []stepA{{1}, {i}}}
					v, err := futures.Submit(p, stepEchoB, want).Result(ctx)
					assert.NoError(t, err)
					assert.Equal(t, want, v)
				case 2:
					want := stepC{C: map[string]stepB{s: {B: s}}, Fs: [2]float64{1, float64(i)}}
					var items []stepC
					for range 5 {
						items = append(items, want)
					}
					for v, err := range futures.Map(ctx, p, stepEchoC, func(yield func(stepC) bool) {
						for _, it := range items {
							if !yield(it) {
								return
							}
						}
					}, futures.Chunksize(2)) {
						assert.NoError(t, err)
						assert.Equal(t, want, v)
					}
				case 3:
					if i%3 == 0 {
						_, err := futures.Submit(p, stepEchoC, stepC{Fs: [2]float64{-1}}).Result(ctx)
						assert.ErrorIs(t, err, futures.ErrWorkerExited)
					}
				}
			}
		}()
	}
	wg.Wait()
	assert.Greater(t, p.Stats().WorkerExits, int64(3))
}
