package errtree

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"

	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// FuzzErrorTree feeds garbled error trees and panic values, as a worker
// process might send, to the parent's decoders: each must refuse them or
// rebuild an error, never panic, hang or allocate without bound, and a tree
// it accepts encodes back to one it reads the same.
func FuzzErrorTree(f *testing.F) {
	for _, err := range []error{
		fmt.Errorf("a: %w", errors.Join(errX, &codeError{Code: 3}, valError{Name: "v"})),
		&causeError{Op: "op", Err: fmt.Errorf("%w and %w", io.EOF, (*codeError)(nil))},
		&fs.PathError{Op: "open", Path: "p", Err: fs.ErrNotExist},
		&emptyError{},
		fmt.Errorf("w: %w", asCodeError{code: 4}),
	} {
		for _, c := range []value.Codec{value.Gob, value.JSON} {
			b := Append(nil, err, c)
			f.Add(b)
			f.Add(b[:len(b)/2])
			p, _ := AppendPanic(nil, err, c)
			f.Add(p)
		}
	}
	p, _ := AppendPanic(nil, point{1, 2}, value.Gob)
	f.Add(p)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []value.Codec{value.Gob, value.JSON} {
			if v, ok := PanicValue(data, c, opaque); ok {
				_ = fmt.Sprint(v)
			}
		}
		n, err := wire.ParseErrTree(data)
		if err != nil {
			return
		}
		again := wire.AppendErrTree(nil, n)
		m, err := wire.ParseErrTree(again)
		if err != nil {
			t.Fatalf("a tree read back from its encoding is refused: %v", err)
		}
		if !bytes.Equal(wire.AppendErrTree(nil, m), again) {
			t.Fatal("a tree read back from its encoding differs")
		}
		for _, c := range []value.Codec{value.Gob, value.JSON} {
			got, _ := Rebuild(n, c, opaque)
			if got == nil {
				t.Fatal("Rebuild returned nil")
			}
			var ce *codeError
			_ = errors.Is(got, errX) || errors.As(got, &ce)
		}
	})
}
