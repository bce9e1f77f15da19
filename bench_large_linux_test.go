//go:build linux

package futures_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/gofutures/futures"
)

// Memory of a process, from /proc/self/status: VmRSS now and VmHWM, its
// peak since the last memResetPeak.

// procStatus returns the field of /proc/self/status named key, in bytes.
func procStatus(key string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte(key+":")); ok {
			f := bytes.Fields(v) // "123456 kB"
			if len(f) != 2 {
				break
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", key)
}

// memResetPeak returns the memory the Go runtime holds to the system, resets
// the process's peak RSS to its RSS, and returns that RSS in bytes.
func memResetPeak(_ context.Context, _ struct{}) (int64, error) {
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, err
	}
	return procStatus("VmRSS")
}

// memPeak returns the process's peak RSS since memResetPeak, in bytes.
func memPeak(_ context.Context, _ struct{}) (int64, error) { return procStatus("VmHWM") }

func init() { futures.Register(memResetPeak, memPeak) }

// BenchmarkProcessLargePayload sends a []byte argument of each size to a
// pool of one worker, which returns it as its result. MB/s counts both
// directions (2×size per op), on calls after the first. The peaks are of
// the first call: the most RSS the parent and the worker used during it
// above their RSS before it, with the memory the Go runtime held for reuse
// given back to the system first, per byte of payload.
func BenchmarkProcessLargePayload(b *testing.B) {
	ctx := context.Background()
	for _, mb := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("size=%dMB", mb), func(b *testing.B) {
			size := mb << 20
			p := newBenchProcPool(b, 1)
			payload := bytes.Repeat([]byte{1}, size)
			n, bs := must[int64](b), must[[]byte](b)
			bounce := func() {
				got := bs(futures.Submit(p, bounceBytes, payload).Result(ctx))
				if len(got) != size || got[0] != payload[0]+1 {
					b.Fatalf("got %d bytes starting with %d", len(got), got[0])
				}
			}
			wbase := n(futures.Submit(p, memResetPeak, struct{}{}).Result(ctx))
			pbase := n(memResetPeak(ctx, struct{}{}))
			bounce()
			parent := n(memPeak(ctx, struct{}{})) - pbase
			worker := n(futures.Submit(p, memPeak, struct{}{}).Result(ctx)) - wbase
			b.SetBytes(2 * int64(size))
			b.ResetTimer()
			for range b.N {
				bounce()
			}
			b.ReportMetric(float64(parent)/float64(size), "parent-peak/payload")
			b.ReportMetric(float64(worker)/float64(size), "worker-peak/payload")
		})
	}
}

// must returns a function that returns v, or fails b with err.
func must[T any](b testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
}
