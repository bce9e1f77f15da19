package futures

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures/internal/errtree"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// Sentinels of one type and text, registered by two calls of RegisterError.
var (
	errSiteA = errors.New("futures test: site")
	errSiteB = errors.New("futures test: site")
)

func init() {
	RegisterError(errSiteA)
	RegisterError(errSiteB)
}

// TestRegisterErrorNamesTheCaller: sentinels of the same type and text
// registered by RegisterError at two places cross under keys that name
// those places, not RegisterError itself, so the order of registration
// does not tell them apart.
func TestRegisterErrorNamesTheCaller(t *testing.T) {
	var keys []string
	for _, err := range []error{errSiteA, errSiteB} {
		n, perr := wire.ParseErrTree(errtree.Append(nil, err, value.Gob))
		require.NoError(t, perr)
		assert.NotContains(t, n.Key, "#", "told apart by order")
		keys = append(keys, n.Key)
		assert.True(t, strings.HasSuffix(n.Key, "futures test: site"), n.Key)
	}
	assert.NotEqual(t, keys[0], keys[1])
}
