// Package goroutine tells goroutines apart, for the executors of this
// repository that must know whether a call comes from a goroutine of their
// own (a worker, or the one that runs OnDone callbacks).
package goroutine

import (
	"bytes"
	"runtime"
	"strconv"
)

// ID returns the id of the calling goroutine, as the runtime prints it in
// stack traces; it is never 0.
func ID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
