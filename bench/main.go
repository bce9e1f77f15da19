// Command bench runs the same workloads on futures, on other Go pools with a
// minimal future bolted on, on a hand-written floor and, through the scripts
// in python/, on Python's concurrent.futures, and prints one table: rows are
// workloads, columns implementations, cells the median with its spread
// (min–max) and the ratio to futures.
//
//	go run .            # the full run (make bench)
//	go run . -quick     # small sizes, a few seconds (make bench-quick)
//	go run . -scale     # the scaling measurements and their plots
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gofutures/futures"
)

// results holds every repetition: results[workload key][implementation].
type results map[string]map[string][]float64

func (r results) add(key, impl string, v float64) {
	if r[key] == nil {
		r[key] = make(map[string][]float64)
	}
	r[key][impl] = append(r[key][impl], v)
}

func main() {
	futures.WorkerMain()
	quickFlag := flag.Bool("quick", false, "small sizes and few repetitions: a smoke run of every workload")
	scaleFlag := flag.Bool("scale", false, "measure how costs grow with size and write the plots (PNG) into -out")
	out := flag.String("out", ".", "directory for the plots of -scale")
	only := flag.String("only", "", "comma-separated workload keys to run (default: all); with -scale: submitters, wait, map, processpool")
	python := flag.String("python", "python3", "Python interpreter for the python/ scripts; empty to skip them")
	jsonOut := flag.String("json", "", "also write every repetition as JSON to this file")
	pendingChild := flag.String("pending-child", "", "internal: measure pending futures of this implementation and exit")
	n := flag.Int("n", 0, "internal: the size for -pending-child")
	flag.Parse()

	if *pendingChild != "" {
		im, ok := implByName(*pendingChild)
		if !ok {
			fail(fmt.Errorf("no implementation %q", *pendingChild))
		}
		fail(json.NewEncoder(os.Stdout).Encode(runPendingChild(im, *n)))
		return
	}
	keys := map[string]bool{}
	for k := range strings.SplitSeq(*only, ",") {
		if k != "" {
			keys[k] = true
		}
	}
	want := func(key string) bool { return len(keys) == 0 || keys[key] }
	if *scaleFlag {
		fail(runScale(*out, *quickFlag, want))
		return
	}

	s := full
	mode := "full"
	if *quickFlag {
		s, mode = quick, "quick"
	}

	started := time.Now()
	res := results{}
	seq := runGo(res, s, want)
	if *python != "" {
		fail(runPython(res, *python, *quickFlag, keys))
	}
	if *jsonOut != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		fail(err)
		fail(os.WriteFile(*jsonOut, data, 0o644))
	}
	fmt.Printf("# %s run, %s, %s/%s, %d CPUs, GOMAXPROCS=%d, %s, took %s\n\n", mode,
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), time.Since(started).Round(time.Second))
	printTable(os.Stdout, res, s)
	printSpeedups(os.Stdout, res, seq)
	printValueRatios(os.Stdout, res)
}

// runGo measures every selected workload on every Go implementation. The
// implementations take turns within each repetition, so that a slow phase
// of the machine spreads over all of them. It returns the medians of the
// sequential PBKDF2 baseline, if that workload ran.
func runGo(res results, s sizes, want func(string) bool) []float64 {
	var seq []float64
	for _, w := range workloads {
		if !want(w.key) {
			continue
		}
		reps := s.Reps
		if w.slow {
			reps = s.SlowReps
		}
		fmt.Fprintf(os.Stderr, "%-14s", w.key)
		for rep := range reps {
			if w.key == "pbkdf2" {
				seq = append(seq, runHashSequential(s))
			}
			// Each repetition starts with another implementation, so that
			// none always follows the same one.
			for k := range impls {
				im := impls[(k+rep)%len(impls)]
				if im.process && w.key == "fire" {
					continue // a ProcessPool runs no closures
				}
				if w.process && !im.process {
					continue
				}
				runtime.GC()
				switch w.key {
				case "pending_rss":
					p, err := measurePending(im, s.Pending)
					fail(err)
					res.add("pending_rss", im.name, p.RSSPer)
					res.add("pending_heap", im.name, p.HeapPer+p.StackPer)
				case "pending_heap": // measured with pending_rss
				default:
					res.add(w.key, im.name, w.run(im, s))
				}
			}
			fmt.Fprint(os.Stderr, ".")
		}
		fmt.Fprintln(os.Stderr)
	}
	return seq
}

// runPython runs python/workloads.py and merges its repetitions.
func runPython(res results, python string, quick bool, keys map[string]bool) error {
	args := []string{filepath.Join("python", "workloads.py")}
	if quick {
		args = append(args, "--quick")
	}
	for k := range keys {
		args = append(args, "--only", k)
	}
	cmd := exec.Command(python, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s %s: %w", python, strings.Join(args, " "), err)
	}
	var py results
	if err := json.Unmarshal(out, &py); err != nil {
		return fmt.Errorf("python/workloads.py printed something other than JSON: %w", err)
	}
	for key, byImpl := range py {
		for name, vs := range byImpl {
			for _, v := range vs {
				res.add(key, name, v)
			}
		}
	}
	return nil
}

// columns are the table's implementations, in order.
var columns = func() []string {
	var cs []string
	for _, im := range impls {
		cs = append(cs, im.name)
	}
	return append(cs, "py-thread", "py-process")
}()

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// num formats v with three significant digits at most, and no exponent.
func num(v float64) string {
	switch a := max(v, -v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// cell formats a cell: "median (min–max) ×ratio", the ratio being the
// median over futures' median.
func cell(vs []float64, ref float64) string {
	if len(vs) == 0 {
		return "–"
	}
	m := median(vs)
	c := num(m)
	if len(vs) > 1 {
		c += fmt.Sprintf(" (%s–%s)", num(slices.Min(vs)), num(slices.Max(vs)))
	}
	if ref > 0 {
		c += fmt.Sprintf(" ×%s", num(m/ref))
	}
	return c
}

// printTable prints the results as a Markdown table.
func printTable(w io.Writer, res results, s sizes) {
	fmt.Fprintf(w, "| workload | unit | %s |\n", strings.Join(columns, " | "))
	fmt.Fprintf(w, "|---|---|%s\n", strings.Repeat("---:|", len(columns)))
	for _, wl := range workloads {
		byImpl := res[wl.key]
		if byImpl == nil {
			continue
		}
		ref := 0.0
		if vs := byImpl["futures"]; len(vs) > 0 {
			ref = median(vs)
		}
		row := []string{title(wl, s), wl.unit}
		for _, c := range columns {
			row = append(row, cell(byImpl[c], ref))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintln(w, "\nCells: median (min–max) over the repetitions, then ×ratio to futures' median (above 1: futures costs less).")
	if py := res["sizes"]; py != nil {
		size := func(k string) string { return count(int(median(py[k]))) }
		fmt.Fprintf(w, "Python runs fewer trivial calls: %s (threads) and %s (processes) per workload, %s (threads) and %s (processes) round trips, %s pending.\n",
			size("thread_tasks"), size("process_tasks"), size("thread_rtt"), size("process_rtt"), size("pending"))
	}
}

// title is a workload's row label with its size.
func title(wl workload, s sizes) string {
	switch wl.key {
	case "fire", "batch", "map", "map_unordered", "submitters":
		return fmt.Sprintf("%s, %s calls", wl.title, count(s.Tasks))
	case "map_proc", "map_proc_c1", "map_proc_c1000", "map_struct", "map_struct_c1", "map_struct_c1000":
		return fmt.Sprintf("%s, %s items", wl.title, count(valueTasks(s)))
	case "rtt":
		return fmt.Sprintf("%s, %s times", wl.title, count(s.RoundTrips))
	case "pending_rss", "pending_heap":
		return fmt.Sprintf("%s, %s pending", wl.title, count(s.Pending))
	case "pbkdf2":
		return fmt.Sprintf("%s (%d)", wl.title, s.Hash)
	case "sleep":
		return fmt.Sprintf("sleeping batch, %s × %v on %d workers", count(s.Sleeps), napTime, s.SleepPool)
	}
	return wl.title
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// printSpeedups prints the PBKDF2 speed-up of each implementation over the
// sequential loop.
func printSpeedups(w io.Writer, res results, seq []float64) {
	byImpl := res["pbkdf2"]
	if byImpl == nil {
		return
	}
	fmt.Fprintf(w, "\nPBKDF2 speed-up over a sequential loop (Go sequential: %s ms", num(median(seq)))
	if py := byImpl["py-sequential"]; len(py) > 0 {
		fmt.Fprintf(w, "; Python sequential: %s ms", num(median(py)))
	}
	fmt.Fprintln(w, "):")
	for _, c := range columns {
		vs := byImpl[c]
		if len(vs) == 0 {
			continue
		}
		base := median(seq)
		if strings.HasPrefix(c, "py-") {
			base = median(byImpl["py-sequential"])
		}
		fmt.Fprintf(w, "- %s: %s×\n", c, num(base/median(vs)))
	}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
