package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

func init() { registry.Register("", workerInc) }

func workerInc(_ context.Context, x int) (int, error) { return x + 1, nil }

// workerHarness runs Serve in this process over a pair of pipes, the
// way a ProcessPool runs a worker process, and plays the pool's side.
type workerHarness struct {
	req  *os.File // the pool's end of the request pipe
	res  *os.File // the pool's end of the result pipe
	rd   *wire.Reader
	page supervise.Page // shared with the worker
	w    *server
	code chan int
	exit int // the exit code the cleanup expects
}

// startWorker starts Serve with codec and timeout, and waits for it
// to say Ready. The cleanup closes its request pipe and checks that
// it exits with code h.exit, 0 unless the test sets it.
func startWorker(tb testing.TB, codec value.Codec, timeout time.Duration) *workerHarness {
	tb.Helper()
	reqR, reqW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	h := &workerHarness{req: reqW, res: resR, rd: wire.NewReader(resR), page: make(supervise.Page, supervise.PageSize), code: make(chan int, 1)}
	h.w = newServer(reqR, resW, h.page)
	go func() {
		code := h.w.serve()
		reqR.Close()
		resW.Close()
		h.code <- code
	}()
	tb.Cleanup(func() {
		h.req.Close()
		if _, err := io.Copy(io.Discard, h.res); err != nil {
			tb.Error(err)
		}
		h.res.Close()
		if code := <-h.code; code != h.exit {
			tb.Errorf("the worker exited with code %d, want %d", code, h.exit)
		}
	})
	h.send(tb, wire.AppendSetup(nil, wire.Setup{Version: wire.Version, Codec: codec.Name(), TaskTimeout: int64(timeout)}))
	if t, _, err := h.rd.Read(); err != nil || t != wire.TReady {
		tb.Fatalf("the worker sent frame type %d (%v), want Ready", t, err)
	}
	return h
}

func (h *workerHarness) send(tb testing.TB, frame []byte) {
	if _, err := h.req.Write(frame); err != nil {
		tb.Fatal(err)
	}
}

// results reads one TResults frame and appends its records to rs, their
// values copied.
func (h *workerHarness) results(rs []wire.Result) ([]wire.Result, error) {
	t, body, err := h.rd.Read()
	if err != nil {
		return rs, err
	}
	if t != wire.TResults {
		return rs, fmt.Errorf("frame type %d, want Results", t)
	}
	err = wire.ParseResults(body, func(r *wire.Result) bool {
		rs = append(rs, *r)
		return true
	})
	return rs, err
}

// intCalls returns a TCalls frame calling fn on args in order, in group
// (0 for none), with ids from id on.
func intCalls(fn string, group, id uint64, args ...int) []byte {
	var b wire.CallsBuilder
	for i, a := range args {
		arg, _ := value.Append(nil, value.Gob, a)
		b.Add(&wire.Call{ID: id + uint64(i), Group: group, Flags: wire.FlagArg, Func: fn, Arg: arg})
	}
	return written(&b)
}

// BenchmarkWorker feeds a worker, run in this process over pipes, frames of
// calls to a trivial function, as the pool's Map does, keeping at most
// 4096 calls in flight. One op is one call; the time, and the CPU time of
// the process per call, are the worker's plus writing prebuilt frames and
// counting the results.
func BenchmarkWorker(b *testing.B) {
	const window = 4096
	fn, err := registry.Lookup(workerInc)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("calls-per-frame=%d", size), func(b *testing.B) {
			h := startWorker(b, value.Gob, 0)
			// Ids and values of a long Map: several bytes each, and
			// results the runtime boxes without a cache.
			const id0, x0 = 1 << 30, 1 << 20
			args := make([]int, size)
			for i := range args {
				args[i] = x0 + i
			}
			frame := intCalls(fn.Name(), 1, id0, args...)
			credits := make(chan struct{}, window/size)
			for range cap(credits) {
				credits <- struct{}{}
			}
			fed := make(chan error, 1)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			go func() {
				for sent := 0; sent < b.N; sent += size {
					<-credits
					f := frame
					if b.N-sent < size {
						f = intCalls(fn.Name(), 1, id0, args[:b.N-sent]...)
					}
					if _, err := h.req.Write(f); err != nil {
						fed <- err
						return
					}
				}
				fed <- nil
			}()
			got := 0
			var body []byte
			for got < b.N {
				var t wire.Type
				var err error
				t, body, err = h.rd.ReadInto(body)
				if err == nil && t != wire.TResults {
					err = fmt.Errorf("frame type %d, want Results", t)
				}
				var failed error
				if err == nil {
					err = wire.ParseResults(body, func(r *wire.Result) bool {
						if r.Kind != wire.KindOK {
							failed = fmt.Errorf("call %d failed: %s", r.ID, r.Message)
							return false
						}
						if got++; got%size == 0 {
							credits <- struct{}{}
						}
						return true
					})
				}
				if err = errors.Join(err, failed); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if err := <-fed; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
