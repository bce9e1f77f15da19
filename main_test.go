package futures_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
)

// TestMain checks that no test leaves a goroutine behind. It first lets a
// ProcessPool worker, which re-executes this test binary, serve its calls.
func TestMain(m *testing.M) {
	futures.WorkerMain()
	goleak.VerifyTestMain(m)
}

var bg = context.Background()
