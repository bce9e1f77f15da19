//go:build !windows

// The tests of this example start worker processes, which Windows does not
// support.

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gofutures/futures/cluster"
)

func TestMain(m *testing.M) {
	cluster.WorkerMain() // the pool's local workers run this test binary
	goleak.VerifyTestMain(m)
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, config{n: 5, workers: 2}); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	for _, want := range []string{"sequential =>", "cluster pool, 2 local workers, Map =>", "both computed the same digests"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, cfg := range []config{{n: 0, workers: 1}, {n: 3, workers: -1}} {
		if err := run(context.Background(), &bytes.Buffer{}, cfg); err == nil {
			t.Errorf("run(%+v) = nil, want an error", cfg)
		}
	}
}
