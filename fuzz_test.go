package futures_test

import (
	"math"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// FuzzOptions builds pools from arbitrary option values: the constructor
// returns a pool or an error, never panics, and errors exactly on values out
// of range.
func FuzzOptions(f *testing.F) {
	f.Add(4, 10, int64(time.Second), "pool", 3)
	f.Add(0, -1, int64(-1), "", 0)
	f.Add(math.MaxInt, math.MinInt, int64(math.MaxInt64), "\x00", -7)
	f.Fuzz(func(t *testing.T, workers, queue int, timeout int64, name string, perWorker int) {
		opts := []futures.Option{futures.MaxWorkers(workers), futures.QueueSize(queue), futures.Name(name)}
		valid := workers >= 1 && queue >= 1 && name != ""
		p, err := futures.NewThreadPool(opts...)
		if (err == nil) != valid {
			t.Fatalf("NewThreadPool(%d, %d, %q): err = %v, want valid=%v", workers, queue, name, err, valid)
		}
		if err == nil {
			if p.MaxWorkers() != workers {
				t.Fatalf("MaxWorkers() = %d, want %d", p.MaxWorkers(), workers)
			}
			p.Close()
		}
		// Process-only options are refused by a ThreadPool whatever their value.
		for _, o := range []futures.Option{futures.TaskTimeout(time.Duration(timeout)), futures.MaxTasksPerWorker(perWorker)} {
			if _, err := futures.NewThreadPool(o); err == nil {
				t.Fatal("a ThreadPool accepted a ProcessPool option")
			}
		}
	})
}
