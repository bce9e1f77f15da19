package futures

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEndOf: a task that ended without running counts as cancelled if it
// was cancelled, as failed otherwise.
func TestEndOf(t *testing.T) {
	c := &call[int, int]{}
	c.Cancel()
	assert.Equal(t, endCancelled, endOf(c))
	f := &call[int, int]{}
	f.fail(ErrShutdown)
	assert.Equal(t, endFailed, endOf(f))
}
