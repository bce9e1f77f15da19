package futures_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// newProcPool skips the test: Windows has no worker processes.
func newProcPool(t *testing.T, _ ...futures.Option) *futures.ProcessPool {
	t.Helper()
	t.Skip("ProcessPool is not supported on Windows")
	return nil
}

func TestNewProcessPoolIsUnsupported(t *testing.T) {
	p, err := futures.NewProcessPool()
	require.Error(t, err)
	assert.Nil(t, p)
	assert.True(t, errors.Is(err, errors.ErrUnsupported), "%v", err)
}
