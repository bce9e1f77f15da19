//go:build !windows

// The tests of this example run it on a ProcessPool, which Windows does not
// support.

package main

import (
	"bytes"
	"context"
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

func TestIsPrime(t *testing.T) {
	tests := []struct {
		n    int
		want bool
	}{
		{-7, false}, {0, false}, {1, false}, {2, true}, {3, true}, {4, false},
		{9, false}, {25, false}, {19001, true}, {19089, false}, {19997, true}, {19999, false},
	}
	for _, tt := range tests {
		if got, _ := isPrime(context.Background(), tt.n); got != tt.want {
			t.Errorf("isPrime(%d) = %t, want %t", tt.n, got, tt.want)
		}
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, config{workers: 13, verbose: true}); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	for _, want := range []string{
		"is_prime over 19000..19999 (1000 numbers)",
		"sequential => ", "ThreadPool(13) Map => ", "ProcessPool(13) Map => ",
		"ThreadPool(13) Map Chunksize(", "ProcessPool(13) Map Chunksize(",
		"19000 is prime: false\n19001 is prime: true\n",
		"19997 is prime: true\n19998 is prime: false\n19999 is prime: false\n",
		"every run found the same 104 primes",
		"\nverdict: use ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "is prime: true"); n != 104 {
		t.Errorf("%d numbers printed as prime, want 104", n)
	}
}
