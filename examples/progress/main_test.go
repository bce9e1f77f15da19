//go:build !windows

// The tests of this example run it on a ProcessPool, which Windows does not
// support.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
)

func TestMain(m *testing.M) {
	futures.WorkerMain() // the ProcessPool's workers run this test binary
	goleak.VerifyTestMain(m)
}

// sequential hashes the items of cfg one after the other in this process,
// a failed item counting as "", and returns the digest and failure count.
func sequential(t *testing.T, cfg config) (sum string, failed int) {
	t.Helper()
	var results []string
	for it := range items(cfg) {
		h, err := hashItem(context.Background(), it)
		if err != nil {
			failed++
		}
		results = append(results, h)
	}
	return digest(results), failed
}

// varies matches what varies in the summary line: the run time, and the
// number of workers started (the second starts only if calls are still
// queued once the first is up, which a loaded machine may not see).
var varies = regexp.MustCompile(`in [0-9.]+s \(worker processes started: [12]\)`)

// tiny is a small run whose plain lines never tick: its output is the last
// Stats line and the summary only.
func tiny(n, chunksize, failEvery int, useFutures bool) config {
	return config{n: n, rounds: 1000, workers: 2, chunksize: chunksize, failEvery: failEvery,
		futures: useFutures, every: time.Hour}
}

func TestRunPlainMatchesSequential(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{"Map", tiny(7, 1, 0, false)},
		{"Map Chunksize(3)", tiny(7, 3, 0, false)},
		{"Map with failures", tiny(7, 2, 3, false)},
		{"AsCompleted", tiny(7, 1, 0, true)},
		{"AsCompleted with failures", tiny(7, 1, 3, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var buf bytes.Buffer
			if err := run(ctx, &buf, tt.cfg); err != nil {
				t.Fatalf("run: %v\n%s", err, buf.String())
			}
			sum, failed := sequential(t, tt.cfg)
			n := tt.cfg.n
			want := fmt.Sprintf("workers 0  running 0  queued 0  succeeded %d  done %d/%d  failed %d\n"+
				"%d items hashed, %d failed, in Xs (worker processes started: N); digest %s\n",
				n-failed, n, n, failed, n-failed, failed, sum)
			if got := varies.ReplaceAllString(buf.String(), "in Xs (worker processes started: N)"); got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestRunOnTerminalDrawsBarAndStats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := tiny(6, 1, 4, false)
	cfg.terminal = true
	var buf bytes.Buffer
	if err := run(ctx, &buf, cfg); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	sum, _ := sequential(t, cfg)
	out := buf.String()
	for _, want := range []string{
		"hashing (1 failed) 100% |",
		"(6/6",
		"\x1b[K\rworkers ", // the Stats line under the bar
		"done 6/6  failed 1\n",
		"5 items hashed, 1 failed, in ",
		"digest " + sum + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
}

func TestPlainLinesTickEveryPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		m := newMeter(&buf, func() futures.Stats { return futures.Stats{Workers: 2, Running: 2, Queued: 5, Succeeded: 3} }, config{n: 10})
		m.progress(futures.MapProgress{Done: 3, Failed: 1, Total: -1})
		stop := m.tickEvery(time.Second)
		time.Sleep(3500 * time.Millisecond)
		stop()
		line := "workers 2  running 2  queued 5  succeeded 3  done 3/10  failed 1\n"
		if got, want := buf.String(), strings.Repeat(line, 3); got != want {
			t.Errorf("after 3.5 periods:\n%s\nwant three lines:\n%s", got, want)
		}
	})
}

func TestRunStopsWhenCancelled(t *testing.T) {
	for _, useFutures := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var buf bytes.Buffer
		if err := run(ctx, &buf, tiny(4, 1, 0, useFutures)); !errors.Is(err, context.Canceled) {
			t.Errorf("futures=%v: run with a cancelled context: %v, want context.Canceled", useFutures, err)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, cfg := range []config{
		{n: 0, rounds: 1, workers: 1, chunksize: 1, every: time.Second},
		{n: 1, rounds: 1, workers: 0, chunksize: 1, every: time.Second},
		{n: 1, rounds: 1, workers: 1, chunksize: 0, every: time.Second},
		{n: 1, rounds: 1, workers: 1, chunksize: 1, failEvery: -1, every: time.Second},
		{n: 1, rounds: 1, workers: 1, chunksize: 1},
	} {
		if err := run(context.Background(), new(bytes.Buffer), cfg); err == nil {
			t.Errorf("run(%+v) = nil, want an error", cfg)
		}
	}
}
