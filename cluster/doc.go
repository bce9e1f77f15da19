// Package cluster runs the registered functions of package futures on
// worker processes on any number of machines, over NATS JetStream, behind
// the futures.Executor interface: Submit, SubmitContext, Go, Map (with
// Chunksize, Buffer and Unordered), AsCompleted and Wait work on a *Pool as
// on a futures.ProcessPool. It is a module of its own,
// github.com/gofutures/futures/cluster, so that importing futures alone
// never links NATS; it needs Go 1.26, and a program that embeds the server
// is about 21 MB bigger.
//
//	func main() {
//		cluster.WorkerMain() // first thing: serves if the pool started this process
//		p, err := cluster.NewPool(cluster.LocalWorkers(4))
//		...
//		defer p.Close()
//		for v, err := range futures.Map(ctx, p, hash, inputs, futures.Chunksize(100)) { ... }
//	}
//
// # Workers
//
// LocalWorkers(n) makes the pool start n worker processes of this program
// (or of WorkerCommand), each running one call at a time, start again one
// that exits, and stop them with itself; the program must call WorkerMain
// first thing in main (and in TestMain), which also does what
// futures.WorkerMain does. A worker on another machine runs the same
// program's Serve(ctx, url, Concurrency(n)) with url = p.WorkerURL(): the
// server's address, its credentials and the pool's Name (as the query
// parameter "name"); Serve refuses a wrong token with an error that says
// so. Client and workers must register the same functions, codec and
// errors: an error registered with futures.RegisterError keeps its identity
// across a worker, as across a ProcessPool's.
//
// # Differences from a ProcessPool
//
//   - Calls are at least once. A worker sends heartbeats for the calls it
//     holds, so that a long call is never delivered twice while its worker
//     lives; a call whose worker dies, or stays silent longer than
//     WorkerLostAfter, is delivered again to another worker, up to
//     MaxAttempts deliveries, and then fails with a *LostError, which
//     matches futures.ErrWorkerExited. A call that returns an error or
//     panics is not retried. The first outcome of a call wins; later ones
//     are dropped. Side effects of a call should be idempotent.
//   - A worker asks the pool of a call whether to run it only for a
//     delivery after the first, for the last delivery MaxAttempts allows,
//     and when the pool did not answer it within the last second (a quarter
//     of WorkerLostAfter if shorter). A worker that cannot reach the pool
//     then (the pool reconnects after its server restarted, say) hands the
//     call back, and the server delivers it again WorkerLostAfter later. The
//     calls of a pool that died thus end after MaxAttempts deliveries,
//     deleted by the reaper of another pool of the same Name, large
//     arguments included; those a worker took in the second after the pool
//     died run, their outcomes lost. Calls published on a server that keeps
//     its streams in files (StoreDir, or Connect) survive the server's
//     restart.
//   - A call is Pending while it waits in the pool for a worker's free
//     slot: each worker says, when it starts and every quarter of
//     WorkerLostAfter, how many calls it runs at once, and the pool
//     publishes no more messages (a Map chunk is one) than the workers it
//     heard from within WorkerLostAfter have slots (a local worker's count
//     until the pool sees it exit), and at least one per local worker;
//     with no worker, nothing is published. Lone calls (a
//     Submit, or an item of a Map with Chunksize 1) of one function and
//     context that wait in the pool together go out in one message when
//     the function is quick: calls for about 2 ms of work, at the speed
//     its workers report in their results, as a ProcessPool sends a worker
//     calls ahead; a function whose calls take longer gets a message per
//     call, as does one whose speed is not known yet. A message keeps its
//     place until its calls have outcomes and, for a call past TaskTimeout,
//     until that call returned on its worker. A call is Running
//     once published. A call cancelled before that (Future.Cancel, the end
//     of its context, a Map that stops, Shutdown with CancelPending) is
//     never published and never runs; Future.Cancel of a published call
//     returns false. A running call whose context ends, by SubmitContext's
//     ctx, a Map that stops or a Shutdown that gives up, has its context
//     cancelled on its worker, or on the worker that takes its message
//     later, which answers it as cancelled; a call already running may
//     still finish, and its outcome is then taken. If no outcome comes
//     within WorkerLostAfter (its worker died, or it ignores the
//     cancellation), it fails with a *LostError that wraps the context's
//     error, its message leaves the stream, and a delivery of it made
//     meanwhile is not run.
//   - TaskTimeout is soft: the call fails at once with an error matching
//     futures.ErrTimeout and its context on the worker is cancelled, but the
//     worker is not killed, and the call keeps its slot until it returns.
//     The pool counts that slot busy meanwhile, so that the calls behind it
//     wait in the pool, Pending and cancellable, until the worker says the
//     call returned (however it ended: a panic or runtime.Goexit too), the
//     worker stops or is killed, or the pool shuts down. A call that never
//     returns keeps its slot while its worker lives.
//   - A deadline of a call's context travels with it, as wall-clock time,
//     and a call whose deadline passed leaves the stream by itself.
//   - Stats counts this pool's calls (Queued: waiting in the pool; Running:
//     published) and
//     its local worker processes; MaxWorkers is the number of local
//     workers. Workers started with Serve are not counted.
//   - ErrDeadlock is not detected: a call that submits to its own pool and
//     waits for the result may wait forever.
//   - An argument or a result larger than a message of the server carries
//     (max_payload, 1 MiB by default) goes through the pool's object store
//     instead, and is deleted from it once the call is over.
//   - Each message makes a round trip through the server, and a worker slot
//     takes one message at a time and runs its calls one after the other,
//     which costs more than a ProcessPool's pipe for a lone call; many quick
//     calls at once share messages, and Map's Chunksize sends a chunk as one
//     message. bench/README.md has the measured rates.
//
// # Server
//
// Embedded (the default) starts a NATS server with JetStream in the calling
// process. It listens on 127.0.0.1 at a port the system picks, requires a
// random 256-bit token, keeps its streams in memory, and opens no
// monitoring, cluster, gateway, leaf node, websocket or MQTT port. Its
// ServerOptions: StoreDir keeps the streams in files so that they survive a
// restart; Listen sets the address; an address beyond loopback is refused
// unless AllowInsecure is given, since the server does not encrypt its
// connections. Connect uses an existing NATS server or cluster instead, with
// nats.go's options (TLS, credentials) passed through; its streams are kept
// in files. Logger receives the embedded server's log.
//
// # Streams and subjects
//
// With <p> the pool's Name ("futures" by default), a pool keeps on its
// server:
//
//	FUT_CALLS_<p>   work-queue stream on fut.<p>.call.>: the calls waiting for
//	                a worker or held by one, one message per call or per
//	                chunk of a Map, on fut.<p>.call.<client>.<group>
//	workers         its durable pull consumer: explicit acknowledgements,
//	                AckWait = WorkerLostAfter, MaxDeliver = MaxAttempts
//	FUT_LOST_<p>    work-queue stream keeping the server's MAX_DELIVERIES
//	                advisories for the calls stream: the calls delivered
//	                MaxAttempts times without an answer
//	reaper          its durable pull consumer, read by every pool of the
//	                Name: it tells the pool that made a lost call, and
//	                deletes the call's message
//	FUT_OBJ_<p>     object store (the stream OBJ_FUT_OBJ_<p>): the arguments
//	                and results too big for a message, one object each,
//	                deleted once their call is over (by its pool; by the
//	                reaper for a lost call's argument)
//
// A worker asks whether to start calls, and sends their outcomes, on the
// core subject fut.<p>.res.<client>; a pool cancels the calls of a context
// on fut.<p>.cancel.<client>; workers say how many calls they run at once
// on fut.<p>.hello. A worker acknowledges a message, which removes it
// from the stream, once the outcomes of its calls are sent. Objects that are
// missing are created; an existing stream or consumer whose configuration
// does not fit (another retention, storage, AckWait, MaxDeliver, ...) is
// refused with an error naming the field, and left unchanged. Pools of one
// Name on one server share their workers and must agree on MaxAttempts and
// WorkerLostAfter.
package cluster
