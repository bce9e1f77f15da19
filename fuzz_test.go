package futures_test

import (
	"math"
	"reflect"
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

// fuzzRecord is a value with the kinds of fields arguments carry.
type fuzzRecord struct {
	N     int64
	F     float64
	S     string
	B     []byte
	Tags  map[string]int
	Inner struct{ OK bool }
}

// FuzzCodecRoundTrip encodes and decodes arbitrary values with both codecs:
// what comes back equals what went in.
func FuzzCodecRoundTrip(f *testing.F) {
	f.Add(int64(1), 2.5, "x", []byte{0, 1}, true)
	f.Add(int64(math.MinInt64), math.MaxFloat64, "\xff\xfe", []byte(nil), false)
	f.Fuzz(func(t *testing.T, n int64, x float64, s string, b []byte, ok bool) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0 // not representable in JSON; NaN never equals itself
		}
		in := fuzzRecord{N: n, F: x, S: s, B: b, Tags: map[string]int{s: int(n % 1000)}}
		in.Inner.OK = ok
		for _, c := range []futures.Codec{futures.Gob, futures.JSON} {
			data, err := c.Marshal(in)
			if err != nil {
				if c == futures.JSON {
					continue // strings that are not UTF-8 are coerced, not refused
				}
				t.Fatalf("%s: Marshal: %v", c.Name(), err)
			}
			var out fuzzRecord
			if err := c.Unmarshal(data, &out); err != nil {
				t.Fatalf("%s: Unmarshal: %v", c.Name(), err)
			}
			want := in
			if c == futures.JSON {
				want.S, want.Tags = out.S, out.Tags // JSON replaces invalid UTF-8
			}
			if len(want.B) == 0 {
				want.B = out.B // nil and empty are one value on the wire
			}
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("%s: round trip changed the value:\n in  %#v\n out %#v", c.Name(), in, out)
			}
		}
	})
}
