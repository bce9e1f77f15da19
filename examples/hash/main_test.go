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
)

func TestMain(m *testing.M) {
	futures.WorkerMain() // the ProcessPool's workers run this test binary
	goleak.VerifyTestMain(m)
}

// The digests match Python's hashlib.pbkdf2_hmac for the same inputs:
// sha256(b"".join(pbkdf2_hmac("sha256", b"password", b"salt", i*10000)
// for i in range(1, n))).hexdigest()[:16].
func TestHashOneMatchesPython(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "e3b0c44298fc1c14"},
		{1, "e3b0c44298fc1c14"},
		{2, "a9ad610dbd5b6af3"},
		{4, "74a0200f161b1501"},
	}
	for _, tt := range tests {
		got, err := hashOne(context.Background(), tt.n)
		if err != nil || got != tt.want {
			t.Errorf("hashOne(%d) = %q, %v; want %q", tt.n, got, err, tt.want)
		}
	}
}

func TestIterations(t *testing.T) {
	if got := iterations(20); got != 11_400_000 {
		t.Errorf("iterations(20) = %d, want 11400000 (hash_all(20) of the walk-through)", got)
	}
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

func TestHashOneStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := hashOne(ctx, 20); err != context.Canceled {
		t.Errorf("hashOne with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestPoolsMatchSequential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, err := hashAllSequential(ctx, 6)
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
