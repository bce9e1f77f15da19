// Package guard calls a function on each element of a list so that a
// runtime.Goexit or a panic in one call skips none of the others.
package guard

// Each calls fn with each element of xs in order. A runtime.Goexit (or a
// panic) in one call, from an OnDone callback say, does not skip the
// others: they are made before the goroutine goes on exiting.
func Each[X any](xs []X, fn func(X)) {
	i := 0
	defer func() {
		if i < len(xs) { // fn(xs[i]) did not return
			Each(xs[i+1:], fn)
		}
	}()
	for ; i < len(xs); i++ {
		fn(xs[i])
	}
}
