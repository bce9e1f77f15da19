package futures

import "github.com/gofutures/futures/internal/remote"

// The tasks of this package have the optional methods that internal/remote
// finds by type assertion, which would otherwise fall back silently to the
// slow paths if a method lost its name or its signature.
var (
	_ remote.Task     = Task(nil)
	_ laterCompleter  = (*call[int, int])(nil)
	_ laterCompleter  = (*thunk[int])(nil)
	_ laterCompleter  = (*item[int, int])(nil)
	_ argEncoder      = (*call[int, int])(nil)
	_ argEncoder      = (*item[int, int])(nil)
	_ resultDecoder   = (*item[int, int])(nil)
	_ remote.BytesArg = (*call[[]byte, int])(nil)
)
