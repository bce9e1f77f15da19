package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/gofutures/futures"
)

// series is one line of a plot: y at each x.
type series struct {
	name string
	xs   []float64
	ys   []float64
}

func (s *series) add(x, y float64) {
	s.xs = append(s.xs, x)
	s.ys = append(s.ys, y)
}

// chart is one plot.
type chart struct {
	file, title, xLabel, yLabel string
	lines                       []*series
}

// runScale measures how the costs grow with the number of submitters, of
// futures waited on and of items mapped, prints the figures and writes one
// PNG per measurement into dir.
func runScale(dir string, quick bool, want func(string) bool) error {
	tasks, maxWait, maxMap := 200_000, 1_000_000, 10_000_000
	if quick {
		tasks, maxWait, maxMap = 10_000, 10_000, 100_000
	}
	var charts []chart
	if want("submitters") {
		charts = append(charts, scaleSubmitters(tasks))
	}
	if want("wait") {
		charts = append(charts, scaleWait(maxWait))
	}
	if want("map") {
		charts = append(charts, scaleMapTime(maxMap), scaleMapMemory(maxMap))
	}
	if want("processpool") {
		charts = append(charts, scaleProcessPool(quick)...)
	}
	for _, c := range charts {
		printChart(c)
		if err := plotChart(c, filepath.Join(dir, c.file)); err != nil {
			return err
		}
	}
	return nil
}

// median3 returns the median of three runs of f.
func median3(f func() float64) float64 {
	return median([]float64{f(), f(), f()})
}

// scaleSubmitters measures submit-then-collect with 1, 2, 4, 8 and 64
// goroutines submitting to one pool of four workers at once.
func scaleSubmitters(tasks int) chart {
	c := chart{file: "scale-submitters.png", title: fmt.Sprintf("Submit+Result, %d calls shared by the submitters, 4 workers", tasks),
		xLabel: "submitting goroutines", yLabel: "ns per call"}
	for _, im := range impls {
		s := &series{name: im.name}
		for _, g := range []int{1, 2, 4, 8, 64} {
			s.add(float64(g), median3(func() float64 { return submitThenCollect(im, g, tasks) }))
		}
		c.lines = append(c.lines, s)
	}
	return c
}

// submitThenCollect has goroutines submit tasks calls in all, in equal
// shares, each then collecting its own, and returns the cost per call.
func submitThenCollect(im impl, goroutines, tasks int) float64 {
	r := im.new(workers, 0)
	defer r.close()
	per := tasks / goroutines
	var wg sync.WaitGroup
	start := time.Now()
	for range goroutines {
		wg.Go(func() {
			hs := make([]handle, per)
			for i := range hs {
				hs[i] = r.submit(inc, i)
			}
			for i, h := range hs {
				check(h, i)
			}
		})
	}
	wg.Wait()
	return perItem(time.Since(start), per*goroutines)
}

// decades returns 100, 1000, ... up to top.
func decades(from, top int) []int {
	var ns []int
	for n := from; n <= top; n *= 10 {
		ns = append(ns, n)
	}
	return ns
}

// scaleWait measures Wait and AsCompleted per future, over futures that
// have all finished and over futures still being run by the pool.
func scaleWait(top int) chart {
	c := chart{file: "scale-wait.png", title: "Wait and AsCompleted: cost per future (flat = linear)",
		xLabel: "futures", yLabel: "ns per future"}
	ctx := context.Background()
	p, err := futures.NewThreadPool(futures.MaxWorkers(workers))
	if err != nil {
		panic(err)
	}
	defer p.Close()
	submit := func(n int) []*futures.Future[int] {
		fs := make([]*futures.Future[int], n)
		for i := range fs {
			fs[i] = futures.Submit(p, inc, i)
		}
		return fs
	}
	finished := func(n int) []*futures.Future[int] {
		fs := submit(n)
		for _, f := range fs {
			<-f.Done()
		}
		return fs
	}
	asCompleted := func(fs []*futures.Future[int]) {
		n := 0
		for _, err := range futures.AsCompleted(ctx, fs...) {
			if err != nil {
				panic(err)
			}
			n++
		}
		if n != len(fs) {
			panic("AsCompleted lost futures")
		}
	}
	wait := func(fs []*futures.Future[int]) {
		if done, _ := futures.Wait(ctx, fs, futures.AllCompleted); len(done) != len(fs) {
			panic("Wait lost futures")
		}
	}
	lines := []struct {
		name string
		// run returns the time of one call over n futures.
		run func(n int) time.Duration
	}{
		{"Wait, finished", func(n int) time.Duration {
			fs := finished(n)
			start := time.Now()
			wait(fs)
			return time.Since(start)
		}},
		{"AsCompleted, finished", func(n int) time.Duration {
			fs := finished(n)
			start := time.Now()
			asCompleted(fs)
			return time.Since(start)
		}},
		{"Wait, still running (incl. the calls)", func(n int) time.Duration {
			start := time.Now()
			wait(submit(n))
			return time.Since(start)
		}},
		{"AsCompleted, still running (incl. the calls)", func(n int) time.Duration {
			start := time.Now()
			asCompleted(submit(n))
			return time.Since(start)
		}},
	}
	for _, l := range lines {
		s := &series{name: l.name}
		for _, n := range decades(100, top) {
			s.add(float64(n), median3(func() float64 { return perItem(l.run(n), n) }))
		}
		c.lines = append(c.lines, s)
	}
	return c
}

// mapRun maps inc over n items on a fresh pool and returns the time per
// item. With measure set it also collects garbage at each quarter of the
// input and returns the largest growth of the live heap over the start
// (the time is then not meaningful).
func mapRun(n int, measure bool, opts ...futures.MapOption) (nsPerItem, heapGrowth float64) {
	p, err := futures.NewThreadPool(futures.MaxWorkers(workers))
	if err != nil {
		panic(err)
	}
	defer p.Close()
	items := func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
	base := liveHeap()
	peak := base
	start := time.Now()
	got := 0
	for _, err := range futures.Map(context.Background(), p, inc, items, opts...) {
		if err != nil {
			panic(err)
		}
		got++
		if measure && got%(max(n/4, 1)) == 0 {
			peak = max(peak, liveHeap())
		}
	}
	d := time.Since(start)
	if got != n {
		panic("Map lost items")
	}
	return perItem(d, n), float64(peak) - float64(base)
}

// liveHeap collects garbage and returns the bytes of live heap objects.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

var mapVariants = []struct {
	name string
	opts []futures.MapOption
}{
	{"ordered", nil},
	{"unordered", []futures.MapOption{futures.Unordered()}},
	{"ordered, Chunksize(256)", []futures.MapOption{futures.Chunksize(256)}},
}

func scaleMapTime(top int) chart {
	c := chart{file: "scale-map-time.png", title: "Map of a trivial function: time per item",
		xLabel: "items", yLabel: "ns per item"}
	for _, v := range mapVariants {
		s := &series{name: v.name}
		for _, n := range decades(1000, top) {
			s.add(float64(n), median3(func() float64 { t, _ := mapRun(n, false, v.opts...); return t }))
		}
		c.lines = append(c.lines, s)
	}
	return c
}

func scaleMapMemory(top int) chart {
	c := chart{file: "scale-map-memory.png", title: "Map of a trivial function: live heap growth, most of 4 samples (flat = constant memory)",
		xLabel: "items", yLabel: "live heap growth, KiB"}
	for _, v := range mapVariants {
		s := &series{name: v.name}
		for _, n := range decades(1000, top) {
			_, peak := mapRun(n, true, v.opts...)
			s.add(float64(n), peak/1024)
		}
		c.lines = append(c.lines, s)
	}
	return c
}

func printChart(c chart) {
	fmt.Printf("\n%s (%s)\n\n| %s |", c.title, c.file, c.xLabel)
	for _, l := range c.lines {
		fmt.Printf(" %s |", l.name)
	}
	fmt.Printf("\n|---:|%s\n", strings.Repeat("---:|", len(c.lines)))
	for i, x := range c.lines[0].xs {
		fmt.Printf("| %s |", count(int(x)))
		for _, l := range c.lines {
			fmt.Printf(" %s |", num(l.ys[i]))
		}
		fmt.Println()
	}
	fmt.Printf("\nY: %s.\n", c.yLabel)
}

// plotChart draws c into a PNG, x log-scaled and marked at each measured
// point.
func plotChart(c chart, path string) error {
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.xLabel
	p.Y.Label.Text = c.yLabel
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, x := range c.lines[0].xs {
		ticks = append(ticks, plot.Tick{Value: x, Label: count(int(x))})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	var args []any
	for _, l := range c.lines {
		xys := make(plotter.XYs, len(l.xs))
		for i := range l.xs {
			xys[i].X, xys[i].Y = l.xs[i], l.ys[i]
		}
		args = append(args, l.name, xys)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return err
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// scaleProcessPool measures the ProcessPool with 1, 2, 4 and 8 worker
// processes: trivial calls submitted then collected, a Map of trivial
// calls, and the speed-up of the CPU-bound hash_all over a sequential loop.
func scaleProcessPool(quick bool) []chart {
	calls, hash := 20_000, 16
	if quick {
		calls, hash = 1_000, 6
	}
	trivial := chart{file: "scale-processpool.png", title: fmt.Sprintf("ProcessPool on %d cores: %d trivial calls", runtime.NumCPU(), calls),
		xLabel: "worker processes", yLabel: "ns per call"}
	speedup := chart{file: "scale-processpool-pbkdf2.png", title: fmt.Sprintf("ProcessPool on %d cores: PBKDF2 hash_all(%d), speed-up over a sequential loop", runtime.NumCPU(), hash),
		xLabel: "worker processes", yLabel: "speed-up"}
	batch, mapped, sp := &series{name: "submit all, then collect"}, &series{name: "Map, default options"}, &series{name: "ProcessPool"}
	im, _ := implByName("futures-proc")
	for _, w := range []int{1, 2, 4, 8} {
		x := float64(w)
		batch.add(x, median3(func() float64 {
			r := im.new(w, 0)
			defer r.close()
			hs := make([]handle, calls)
			start := time.Now()
			for i := range hs {
				hs[i] = r.submit(inc, i)
			}
			for i, h := range hs {
				check(h, i)
			}
			return perItem(time.Since(start), calls)
		}))
		mapped.add(x, median3(func() float64 {
			r := im.new(w, 0).(procRunner)
			defer r.close()
			items := func(yield func(int) bool) {
				for i := range calls {
					if !yield(i) {
						return
					}
				}
			}
			start := time.Now()
			n := 0
			for _, err := range futures.Map(context.Background(), r.p, inc, items) {
				if err != nil {
					panic(err)
				}
				n++
			}
			if n != calls {
				panic("Map lost items")
			}
			return perItem(time.Since(start), calls)
		}))
		// Each pool run is paired with a sequential run just before it, so
		// that a change in the machine's load hits both sides of the ratio.
		sp.add(x, median3(func() float64 {
			seq := runHashSequential(sizes{Hash: hash})
			r := im.new(w, 0)
			defer r.close()
			hs := make([]handle, hash)
			start := time.Now()
			for i := range hs {
				hs[i] = r.submit(hashOne, i)
			}
			for i, h := range hs {
				check(h, i)
			}
			return seq / (float64(time.Since(start).Microseconds()) / 1000)
		}))
	}
	trivial.lines = []*series{batch, mapped}
	speedup.lines = []*series{sp}
	return []chart{trivial, speedup}
}
