package errtree

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// BenchmarkCross is the cost a failed call's error adds: the worker's
// Append and the parent's parse and Rebuild, for an error that wraps
// nothing registered (no tree crosses), a wrapped sentinel and a wrapped
// value of a registered type.
func BenchmarkCross(b *testing.B) {
	for _, bc := range []struct {
		name string
		err  error
	}{
		{"unregistered", fmt.Errorf("item 7: %w", errors.New("bad"))},
		{"sentinel", fmt.Errorf("item 7: %w", io.EOF)},
		{"value", fmt.Errorf("item 7: %w", &codeError{Code: 7})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				buf = Append(buf[:0], bc.err, value.Gob)
				if len(buf) == 0 {
					continue
				}
				n, err := wire.ParseErrTree(buf)
				if err != nil {
					b.Fatal(err)
				}
				if got, _ := Rebuild(n, value.Gob, opaque); got == nil {
					b.Fatal("nil")
				}
			}
		})
	}
}
