// Package serve serves registered calls: it runs them, guarded against
// panics and runtime.Goexit, with the context and the time limit they were
// given, and turns their outcomes into wire.Results.
//
// A Runner serves one call at a time, whatever carried it: an executor with
// a transport of its own looks the function up with registry.ByName, runs
// it with Runner.Run and sends the result back its own way. Serve is the
// serving loop of a ProcessPool's worker process over it: it reads frames of
// calls and cancellations from the pool's request pipe, runs the calls in
// order while a second goroutine keeps reading, and writes their results in
// batches to the reply pipe, copying them first to the results area of the
// page it shares with the pool, so that the pool gets them even if a later
// call ends the process.
package serve
