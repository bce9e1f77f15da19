package futurestest_test

import (
	"context"
	"testing"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// BenchmarkSubmitResult measures one Submit and Result on the test executors,
// beside a one-worker ThreadPool in the same run.
func BenchmarkSubmitResult(b *testing.B) {
	ctx := context.Background()
	b.Run("Inline", func(b *testing.B) {
		in := futurestest.NewInline()
		defer in.Close()
		for b.Loop() {
			if _, err := futures.Submit(in, double, 2).Result(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Manual", func(b *testing.B) {
		m := futurestest.NewManual()
		defer m.Close()
		for b.Loop() {
			f := futures.Submit(m, double, 2)
			m.RunNext()
			if _, err := f.Result(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ThreadPool", func(b *testing.B) {
		p, err := futures.NewThreadPool(futures.MaxWorkers(1))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		for b.Loop() {
			if _, err := futures.Submit(p, double, 2).Result(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
