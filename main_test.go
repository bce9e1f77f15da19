package futures_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
)

// TestMain checks that no test leaves a goroutine behind. It first lets a
// ProcessPool worker, which re-executes this test binary, serve its calls,
// unless the test that started it wants a worker that forgot to.
func TestMain(m *testing.M) {
	if os.Getenv(noWorkerMain) == "" {
		futures.WorkerMain()
	}
	goleak.VerifyTestMain(m)
}

// noWorkerMain, set in the environment, makes TestMain skip WorkerMain, as
// a test binary that forgot it does.
const noWorkerMain = "FUTURES_TEST_NO_WORKERMAIN"
