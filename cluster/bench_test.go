//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"iter"
	"testing"

	"github.com/gofutures/futures"
)

// BenchmarkPool measures the pool with an embedded server and two local
// worker processes, and its round trip with one, as the floors have;
// BenchmarkFloor in the same run gives what NATS itself costs. Run them
// with
//
//	cd cluster && go test -run '^$' -bench 'Floor/process|Pool' -benchtime 2s -count 5 .
func BenchmarkPool(b *testing.B) {
	b.Run("roundtrip-one-worker", func(b *testing.B) {
		p, err := NewPool(LocalWorkers(1), Name("bench1"))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		benchRoundTrip(b, p)
	})
	p, err := NewPool(LocalWorkers(2), Name("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	if _, err := futures.Submit(p, square, 1).Result(ctx); err != nil { // the workers are up
		b.Fatal(err)
	}
	b.Run("roundtrip", func(b *testing.B) { benchRoundTrip(b, p) })
	b.Run("batch", func(b *testing.B) {
		const n = floorBatch
		fs := make([]*futures.Future[int], n)
		for b.Loop() {
			for i := range fs {
				fs[i] = futures.Submit(p, square, i)
			}
			for _, f := range fs {
				if _, err := f.Result(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "calls/s")
	})
	b.Run("map-chunk1000", func(b *testing.B) {
		const n = 200_000
		for b.Loop() {
			for _, err := range futures.Map(ctx, p, square, count(n), futures.Chunksize(1000)) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "items/s")
	})
}

// benchRoundTrip measures one call after another on p.
func benchRoundTrip(b *testing.B, p *Pool) {
	ctx := context.Background()
	if _, err := futures.Submit(p, square, 1).Result(ctx); err != nil { // the workers are up
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := futures.Submit(p, square, 3).Result(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// count yields 0 to n-1.
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}
