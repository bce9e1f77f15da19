package futurestest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
)

// TestMain turns the test binary into a ProcessPool worker when a pool
// started it (see processpool_test.go), and otherwise runs the tests and
// checks that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	futures.WorkerMain()
	goleak.VerifyTestMain(m)
}
