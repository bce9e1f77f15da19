package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofutures/futures"
)

// pendingResult is what a pending-memory child process reports.
type pendingResult struct {
	Impl        string  `json:"impl"`
	N           int     `json:"n"`
	RSSPer      float64 `json:"rss_per"`       // VmRSS growth per pending future
	HeapPer     float64 `json:"heap_per"`      // HeapAlloc growth per pending future, after GC
	StackPer    float64 `json:"stack_per"`     // StackInuse growth per pending future
	SubmitNsPer float64 `json:"submit_ns_per"` // time to submit (or park) each call
}

// runPendingChild is the body of a child process: it blocks the only
// worker of a fresh im, submits n more calls that stay pending, and prints
// how much memory each costs. Pools whose submit blocks while the worker is
// busy get a goroutine per call, as their users would need.
func runPendingChild(im impl, n int) pendingResult {
	r := im.new(1, n)
	if im.process {
		return pendingInProcesses(im, r.(procRunner), n)
	}
	gate := make(chan struct{})
	started := make(chan struct{})
	blocker := r.submit(func(_ context.Context, x int) (int, error) {
		close(started)
		<-gate
		return x + 1, nil
	}, 0)
	<-started
	hs := make([]handle, n)
	for i := range hs { // fault the slice's pages in before the baseline
		hs[i] = nil
	}
	heap0, stack0, rss0 := memNow()
	base := runtime.NumGoroutine()
	var parked sync.WaitGroup
	start := time.Now()
	if im.parks {
		for i := range hs {
			parked.Go(func() { hs[i] = r.submit(inc, i) })
		}
		for runtime.NumGoroutine() < base+n {
			time.Sleep(time.Millisecond)
		}
	} else {
		for i := range hs {
			hs[i] = r.submit(inc, i)
		}
	}
	submit := time.Since(start)
	heap1, stack1, rss1 := memNow()
	close(gate)
	check(blocker, 0)
	parked.Wait() // the parked submitters store their handles once through
	for i, h := range hs {
		check(h, i)
	}
	r.close()
	return pendingPer(im, n, submit, heap0, stack0, rss0, heap1, stack1, rss1)
}

// pendingInProcesses is runPendingChild for a ProcessPool: the call that
// blocks the worker is block, which returns when a Shutdown that gives up
// cancels it; the pending calls are cancelled by that Shutdown, unchecked.
func pendingInProcesses(im impl, r procRunner, n int) pendingResult {
	r.submit(block, 0)
	for r.p.Stats().Running == 0 {
		time.Sleep(time.Millisecond)
	}
	hs := make([]handle, n)
	for i := range hs {
		hs[i] = nil
	}
	heap0, stack0, rss0 := memNow()
	start := time.Now()
	for i := range hs {
		hs[i] = r.submit(inc, i)
	}
	submit := time.Since(start)
	heap1, stack1, rss1 := memNow()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = r.p.Shutdown(ctx, futures.CancelPending()) // gives up on block, by design
	return pendingPer(im, n, submit, heap0, stack0, rss0, heap1, stack1, rss1)
}

func pendingPer(im impl, n int, submit time.Duration, heap0, stack0, rss0, heap1, stack1, rss1 uint64) pendingResult {
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	return pendingResult{Impl: im.name, N: n, RSSPer: per(rss0, rss1), HeapPer: per(heap0, heap1),
		StackPer: per(stack0, stack1), SubmitNsPer: perItem(submit, n)}
}

// memNow returns the live heap and stack bytes after a full collection, and
// the resident set size.
func memNow() (heap, stack, rss uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse, vmRSS()
}

// vmRSS returns VmRSS from /proc/self/status, in bytes.
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				panic(err)
			}
			return kb << 10
		}
	}
	panic("no VmRSS in /proc/self/status")
}

// measurePending runs one child process of this program for im and returns
// what it reports.
func measurePending(im impl, n int) (pendingResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return pendingResult{}, err
	}
	out, err := exec.Command(exe, "-pending-child", im.name, "-n", strconv.Itoa(n)).Output()
	if err != nil {
		return pendingResult{}, fmt.Errorf("pending child for %s: %w", im.name, err)
	}
	var res pendingResult
	if err := json.Unmarshal(out, &res); err != nil {
		return pendingResult{}, fmt.Errorf("pending child for %s printed %q: %w", im.name, out, err)
	}
	return res, nil
}
