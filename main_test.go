package futures_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/wire"
)

// TestMain checks that no test leaves a goroutine behind. It first lets a
// ProcessPool worker, which re-executes this test binary, serve its calls,
// unless the test that started it wants a worker that forgot to, with the
// frame limit the test asks for.
func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv(workerMaxFrame)); err == nil {
		wire.MaxFrame = n
	}
	if os.Getenv(noWorkerMain) == "" {
		futures.WorkerMain()
	}
	goleak.VerifyTestMain(m)
}

var bg = context.Background()

// noWorkerMain, set in the environment, makes TestMain skip WorkerMain, as
// a test binary that forgot it does.
const noWorkerMain = "FUTURES_TEST_NO_WORKERMAIN"

// workerMaxFrame, set in the environment, is the frame limit of worker
// processes, as wire.MaxFrame.
const workerMaxFrame = "FUTURES_TEST_WORKER_MAX_FRAME"
