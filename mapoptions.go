package futures

import (
	"fmt"
	"runtime"
)

// MapOption configures Map.
type MapOption struct {
	apply func(*mapConfig)
}

type mapConfig struct {
	chunksize int
	buffer    int // 0: the default
	unordered bool
	progress  func(MapProgress)
	bad       []string // options out of range
}

// MapProgress is how far a Map loop has got, as reported to the Progress
// option.
type MapProgress struct {
	// Done counts the items yielded so far, with or without an error.
	Done int
	// Failed counts the items of Done that yielded an error.
	Failed int
	// Total is the number of items in the input once Map has read all of
	// it, and -1 before that.
	Total int
}

// Progress makes Map call fn with its progress each time it yields an
// item, just before it does, in the goroutine running the loop: a progress
// bar can be drawn from there without locking. A nil fn is ignored.
func Progress(fn func(MapProgress)) MapOption {
	return MapOption{func(c *mapConfig) { c.progress = fn }}
}

// Chunksize makes Map hand n items per call to a worker: a process pool sends
// them in one message, a goroutine pool runs them in one worker in turn. Each
// item still gets its own result and error. The default is 1 (a process pool
// then batches adaptively). n < 1 makes Map yield one error and no results.
// Python: chunksize.
func Chunksize(n int) MapOption {
	return MapOption{func(c *mapConfig) {
		if n < 1 {
			c.bad = append(c.bad, fmt.Sprintf("Chunksize(%d): must be at least 1", n))
		}
		c.chunksize = n
	}}
}

// Buffer sets how many chunks Map keeps in flight at most: it reads the input
// only as results are consumed, so an endless input takes constant memory.
// The default is what the executor's MapBuffer method returns, if it is a
// MapBufferer, else sixteen chunks per worker (from its MaxWorkers method,
// if it is a WorkerCounter; runtime.GOMAXPROCS(0) if not). n < 1 makes Map
// yield one error and no results. Python 3.14: buffersize.
func Buffer(n int) MapOption {
	return MapOption{func(c *mapConfig) {
		if n < 1 {
			c.bad = append(c.bad, fmt.Sprintf("Buffer(%d): must be at least 1", n))
		}
		c.buffer = n
	}}
}

// Unordered makes Map yield results in the order they finish instead of the
// order of the input, so one slow item does not hold back the others.
func Unordered() MapOption {
	return MapOption{func(c *mapConfig) { c.unordered = true }}
}

// defaultBuffer is the Buffer of a Map without that option: what the
// executor's MapBuffer(chunksize) method says, when it has one (a process
// pool keeps more small items in flight to batch them), else sixteen chunks per
// worker, from its MaxWorkers() method or runtime.GOMAXPROCS(0).
func defaultBuffer(ex Executor, chunksize int) int {
	if s, ok := ex.(MapBufferer); ok {
		if n := s.MapBuffer(chunksize); n > 0 {
			return n
		}
	}
	if s, ok := ex.(WorkerCounter); ok && s.MaxWorkers() > 0 {
		return 16 * s.MaxWorkers()
	}
	return 16 * runtime.GOMAXPROCS(0)
}
