// Package timeit times the steps of the example programs: Python's @timeit
// decorator, applied where the call is made.
package timeit

import (
	"fmt"
	"io"
	"time"
)

// Run calls fn, then prints "name => 123.4 ms" to w with the time fn took,
// and returns that time and fn's error. The line is printed whether fn fails
// or not; an error writing it is ignored, as fmt.Println's would be.
//
//	elapsed, err := timeit.Run(os.Stdout, "download_all", func() error {
//		return downloadAll(ctx, urls)
//	})
func Run(w io.Writer, name string, fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	elapsed := time.Since(start)
	fmt.Fprintf(w, "%s => %.1f ms\n", name, float64(elapsed)/float64(time.Millisecond))
	return elapsed, err
}
