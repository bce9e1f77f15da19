package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// patience bounds every test here: a deadlock that goes undetected fails the
// test when it passes, instead of hanging it.
const patience = 10 * time.Second

func TestWaitOnEachOther(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	a, b, err := waitOnEachOther(ctx)
	if err != nil {
		t.Fatalf("the calls did not finish: %v (a: %v, b: %v)", err, a.err, b.err)
	}
	for name, r := range map[string]result{"wait_on_b": a, "wait_on_a": b} {
		if !errors.Is(r.err, futures.ErrDeadlock) {
			t.Errorf("%s returned %d, %v; want an ErrDeadlock error", name, r.v, r.err)
		}
	}
}

func TestWaitOnNested(t *testing.T) {
	tests := []struct {
		workers  int
		deadlock bool
	}{
		{1, true},  // the only worker waits on a call queued behind it
		{2, false}, // the second worker runs pow: no deadlock
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		r, err := waitOnNested(ctx, tt.workers)
		cancel()
		switch {
		case err != nil:
			t.Errorf("%d workers: the call did not finish: %v (its error: %v)", tt.workers, err, r.err)
		case tt.deadlock && !errors.Is(r.err, futures.ErrDeadlock):
			t.Errorf("%d workers: got %d, %v; want an ErrDeadlock error", tt.workers, r.v, r.err)
		case !tt.deadlock && (r.err != nil || r.v != 25):
			t.Errorf("%d workers: got %d, %v; want 25", tt.workers, r.v, r.err)
		}
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	for _, want := range []string{
		"  result from wait_on_b: error: wait_on_b: ",
		"  result from wait_on_a: error: wait_on_a: ",
		"  result from wait_on_future: error: wait_on_future: futures: deadlock",
		"  result from wait_on_future: 25\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "futures: deadlock"); n != 3 {
		t.Errorf("%d deadlocks reported, want 3:\n%s", n, out)
	}
}
