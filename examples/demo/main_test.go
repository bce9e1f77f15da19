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

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, time.Millisecond); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	out := buf.String()
	for _, want := range []string{
		// AsCompleted: every task once, in some order.
		"  the result of 1 is 1\n", "  the result of 2 is 4\n", "  the result of 3 is 9\n", "  the result of 4 is 16\n",
		// Map: input order.
		"  the result of 4 is 16\n  the result of 1 is 1\n  the result of 3 is 9\n  the result of 2 is 4\nMap => ",
		"  first error: perform(-1): a task cannot take negative time\nWait(FirstError) => ",
		"  later, another task returned 9\n  later, another task returned 4\n",
		"submit + AsCompleted => ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "the result of"); n != 8 {
		t.Errorf("%d results printed, want 8:\n%s", n, out)
	}
}

// When its context ends, run returns at once and leaves nothing running.
func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, time.Hour); !errors.Is(err, futures.ErrTimeout) {
		t.Fatalf("run = %v, want an ErrTimeout error\n%s", err, buf.String())
	}
}
