// Package cluster is for running the registered functions of package
// futures on worker processes on any number of machines, over NATS
// JetStream, behind the futures.Executor interface. It is a module of its
// own, github.com/gofutures/futures/cluster, so that importing futures
// alone never links NATS; it needs Go 1.26.
//
// What the package has so far is the configuration of such a pool and the
// error of a lost call; the pool itself, which runs calls, is not here yet.
//
// # Options
//
// Option configures a pool:
//
//   - Embedded (the default) starts a NATS server with JetStream in the
//     calling process. It listens on 127.0.0.1 at a port the system picks,
//     requires a random 256-bit token, keeps its streams in memory, and opens
//     no monitoring, cluster, gateway, leaf node, websocket or MQTT port.
//     Its ServerOptions: StoreDir keeps the streams in files so that they
//     survive a restart; Listen sets the address; an address beyond loopback
//     is refused unless AllowInsecure is given, since the server does not
//     encrypt its connections.
//   - Connect uses an existing NATS server or cluster instead, with nats.go's
//     options (TLS, credentials) passed through. Its streams are kept in
//     files.
//   - Name names the pool's streams and subjects; MaxAttempts and
//     WorkerLostAfter set how a call whose worker dies or goes silent is
//     delivered again; Logger receives the embedded server's log.
//
// # Streams and subjects
//
// With <p> the pool's Name ("futures" by default), a pool keeps on its
// server:
//
//	FUT_CALLS_<p>   work-queue stream on fut.<p>.call.>: the calls waiting for
//	                a worker or held by one; a call with a deadline expires
//	                from it by itself
//	workers         its durable pull consumer: explicit acknowledgements,
//	                AckWait = WorkerLostAfter, MaxDeliver = MaxAttempts
//	FUT_LOST_<p>    work-queue stream keeping the server's MAX_DELIVERIES
//	                advisories for the calls stream: the calls delivered
//	                MaxAttempts times without an answer
//	reaper          its durable pull consumer
//
// Results and cancellations travel on the core subjects fut.<p>.res.<client>
// and fut.<p>.cancel.<client>. Objects that are missing are created; an
// existing stream or consumer whose configuration does not fit (another
// retention, storage, AckWait, MaxDeliver, ...) is refused with an error
// naming the field, and left unchanged. Pools of one Name on one server
// share their calls and must agree on MaxAttempts and WorkerLostAfter.
//
// # Lost calls
//
// The workers consumer delivers a call at least once: when the worker
// holding it dies, the server delivers it again after WorkerLostAfter, up to
// MaxAttempts times, and then records it in FUT_LOST_<p>. *LostError, which
// matches futures.ErrWorkerExited, is the error of such a call.
package cluster
