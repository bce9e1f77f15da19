package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gofutures/futures"
)

// The struct rows: Map of a function of a record, the struct users pass
// more than one argument in, beside Map of inc, on the process pools only
// (futures-proc and py-process, where values cross a pipe), at the default
// chunk size and at Chunksize(1) and Chunksize(1000). Python's record is a
// dataclass of the same fields.

// record is the struct of the struct rows: an ID, a name and eight values.
type record struct {
	ID     int
	Name   string
	Values []float64
}

// recordInc returns r with ID and every value plus one.
func recordInc(_ context.Context, r record) (record, error) {
	r.ID++
	for i := range r.Values {
		r.Values[i]++
	}
	return r, nil
}

// recordInc is registered with RegisterFunc, as a function of a struct
// should be, so that a worker calls it without reflection.
func init() { futures.RegisterFunc(recordInc) }

// valueTasks is how many items a struct row maps: a quarter of the other
// Map rows, which is thousands of chunks still.
func valueTasks(s sizes) int { return s.Tasks / 4 }

// runMapValues maps inc (or recordInc, with structs) over valueTasks items
// on a process pool, in chunks of chunk items (0: the default).
func runMapValues(structs bool, chunk int) func(im impl, s sizes) float64 {
	return func(im impl, s sizes) float64 {
		r := im.new(workers, 0)
		defer r.close()
		ex := r.(executorRunner).executor()
		n := valueTasks(s)
		var opts []futures.MapOption
		if chunk > 0 {
			opts = append(opts, futures.Chunksize(chunk))
		}
		start := time.Now()
		if !structs {
			sum := 0
			for v, err := range futures.Map(context.Background(), ex, inc, upTo(n), opts...) {
				if err != nil {
					panic(err)
				}
				sum += v
			}
			d := time.Since(start)
			if want := n * (n + 1) / 2; sum != want {
				panic(fmt.Sprintf("map: sum of results %d, want %d", sum, want))
			}
			return perItem(d, n)
		}
		records := func(yield func(record) bool) {
			for i := range n {
				r := record{ID: i, Name: "record", Values: make([]float64, 8)}
				for j := range r.Values {
					r.Values[j] = float64(i + j)
				}
				if !yield(r) {
					return
				}
			}
		}
		i := 0
		for v, err := range futures.Map(context.Background(), ex, recordInc, records, opts...) {
			if err != nil || v.ID != i+1 || v.Values[7] != float64(i+8) {
				panic(fmt.Sprintf("recordInc(%d) = %+v, %v", i, v, err))
			}
			i++
		}
		return perItem(time.Since(start), n)
	}
}

// valueRows pairs each struct row with the int row at the same chunk size.
var valueRows = [][2]string{
	{"map_struct", "map_proc"},
	{"map_struct_c1", "map_proc_c1"},
	{"map_struct_c1000", "map_proc_c1000"},
}

// printValueRatios prints the per-item cost of a struct over that of an int
// at each chunk size, on each process pool.
func printValueRatios(w io.Writer, res results) {
	if res["map_struct"] == nil && res["map_struct_c1"] == nil && res["map_struct_c1000"] == nil {
		return
	}
	fmt.Fprintln(w, "\nMap of a struct over Map of an int, per item (median over median):")
	for _, c := range []string{"futures-proc", "py-process"} {
		fmt.Fprintf(w, "- %s:", c)
		for _, pair := range valueRows {
			s, i := res[pair[0]][c], res[pair[1]][c]
			if len(s) == 0 || len(i) == 0 {
				continue
			}
			fmt.Fprintf(w, " %s ×%s;", chunkName(pair[0]), num(median(s)/median(i)))
		}
		fmt.Fprintln(w)
	}
}

// chunkName names the chunk size of a struct row.
func chunkName(key string) string {
	switch key {
	case "map_struct_c1":
		return "Chunksize(1)"
	case "map_struct_c1000":
		return "Chunksize(1000)"
	}
	return "default"
}

// upTo yields 0..n-1.
func upTo(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}
