//go:build !windows

// The tests of this example run it on a ProcessPool, which Windows does not
// support.

package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/hashall"
)

func TestMain(m *testing.M) {
	futures.WorkerMain() // the ProcessPool's workers run this test binary
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, config{n: 5, workers: 2}); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	for _, want := range []string{
		"hash_all(5): 5 calls, 100000 PBKDF2-SHA256 iterations",
		"sequential => ",
		"ProcessPool(2) Map Chunksize(2) => ",
		"ThreadPool(2) Map => ",
		"every run computed the same digests",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestPoolsMatchSequential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, err := hashall.Sequential(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	for name, hashAll := range map[string]func(context.Context, int) ([]string, error){
		"ProcessPool": onPool(futures.NewProcessPool, 2, futures.Chunksize(2)),
		"ThreadPool":  onPool(futures.NewThreadPool, 2),
	} {
		got, err := hashAll(ctx, 6)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v, %v; want %v", name, got, err, want)
		}
	}
}
