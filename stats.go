package futures

// Stats is a snapshot of an executor's counters, from ThreadPool.Stats and
// ProcessPool.Stats. The call counts are read together, so at every instant
// Submitted == Queued + Running + Succeeded + Failed + Cancelled.
type Stats struct {
	// Submitted counts the calls the executor accepted.
	Submitted int64
	// Queued counts the accepted calls not yet handed to a worker.
	Queued int64
	// Running counts the calls handed to a worker and not finished.
	Running int64
	// Succeeded counts the calls that returned a nil error.
	Succeeded int64
	// Failed counts the calls that finished with an error: returned, a
	// panic, a worker that died, a forced shutdown, or, on a ThreadPool, a
	// context that ended before the call's turn.
	Failed int64
	// Cancelled counts the calls cancelled before a worker started them.
	Cancelled int64

	// Workers is the number of workers alive now.
	Workers int
	// WorkerStarts, WorkerExits and WorkerKills count worker processes
	// started, exited, and killed by the pool (TaskTimeout, a forced
	// Shutdown). They stay zero for a ThreadPool.
	WorkerStarts, WorkerExits, WorkerKills int64
}
