package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/pace"
	"github.com/gofutures/futures/internal/registry"
	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/value"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Pool runs registered functions on worker processes connected to a NATS
// server with JetStream, on this machine or any other: a futures.Executor
// and futures.BatchExecutor for Submit, Go, Map, AsCompleted and Wait, as
// dask.distributed's Client is a concurrent.futures Executor. Create one
// with NewPool; all methods are safe for concurrent use.
//
// A call waits in the pool, Pending, until a worker has a free slot for it:
// the pool publishes to its calls stream no more messages than its workers
// have slots, as they tell it (quick calls waiting together share a
// message), and a call is Running once published. A message's place frees
// once its calls have outcomes and, if one overran TaskTimeout, once that
// call returned on its worker (see the package documentation). A call
// cancelled before that is never published and never runs. Calls are
// at least once: a call whose worker dies or stays silent longer than
// WorkerLostAfter is delivered again to another worker, up to MaxAttempts
// times, then fails with a *LostError. A call that returns an error or
// panics is not retried, and the first outcome of a call wins.
type Pool struct {
	cfg        config
	codec      value.Codec
	top        topology
	link       *link
	calls      jetstream.Stream
	pub        jetstream.JetStream // publishes calls asynchronously
	client     string              // this pool's id among the clients of its Name
	maxPayload int
	sub        *nats.Subscription // the client's result subject
	reaper     jetstream.ConsumeContext
	done       completer    // runs callbacks and other packages' completions, away from the NATS goroutines
	later      func(func()) // done.add, made once: a method value passed per call would be allocated per call
	uncount    func()       // undecodable, made once for the same reason
	doneBuf    []finished   // the calls the results message being handled finished; only receive uses it
	objs       *objects     // the object store of large arguments and results
	gc         completer    // reads and deletes objects, away from the NATS goroutines
	locals     *localWorkers

	mu         sync.Mutex
	room       *sync.Cond           // signalled when calls stop being queued, or the pool stops
	idle       *sync.Cond           // signalled when msgs empties with completing 0 (see idleLocked)
	msgs       map[uint64]*message  // by number, the messages with calls not finished
	completing int                  // goroutines completing calls they took from msgs
	pending    ring.Queue[*message] // the messages not published yet, oldest first
	inflight   int                  // messages published and not answered, or whose worker still runs a call that overran
	overruns   map[uint64]overrun   // by message number, the calls that overran TaskTimeout and still run
	nextMsg    uint64
	paces      map[*registry.Func]*pace.Estimator // how many lone calls of a function may go in one message
	queued     int                                // calls not started
	seen       map[string]seenWorker              // the workers that said hello, by id
	hello      *nats.Subscription                 // the workers' hellos
	groups     map[context.Context]*group
	nextGroup  uint64
	st         counters
	stage      poolStage
	broken     error         // why new calls are refused, once set
	released   chan struct{} // closed once teardown released everything
	wg         sync.WaitGroup
}

// group is the context shared by calls, usually those of one Map: when it
// ends, its queued calls are purged from the stream and workers cancel its
// running ones.
type group struct {
	id   uint64
	ctx  context.Context
	stop func() bool
}

// poolStage is where a Pool is in stopping; it only moves forward.
type poolStage uint8

const (
	poolOpen     poolStage = iota // it accepts calls
	poolShutdown                  // Shutdown was called: it refuses calls and finishes those it has
	poolTornDown                  // teardown runs or ran
)

// counters are the call and worker counts behind Stats; each change keeps
// submitted equal to the sum of the other call counts.
type counters struct {
	submitted, queued, running   int64
	succeeded, failed, cancelled int64
	workerStarts, workerExits    int64
	workerKills                  int64
}

// NewPool returns a pool configured by opts: where its server is (Embedded,
// the default, or Connect), its Name, its local workers (LocalWorkers,
// WorkerCommand), how calls are delivered (MaxAttempts, WorkerLostAfter,
// TaskTimeout, QueueSize), their Encoding (default futures.Gob) and the
// server's Logger. It starts the embedded server, creates or checks the
// pool's streams and consumers, and starts the local workers without
// waiting for them. It returns an error, and no pool, if an option is
// invalid, the server does not start or cannot be reached, or an existing
// stream or consumer of the same Name does not fit the options.
func NewPool(opts ...Option) (*Pool, error) {
	cfg, err := readOptions(opts)
	if err != nil {
		return nil, err
	}
	if cfg.codec == nil {
		cfg.codec = futures.Gob
	}
	if cfg.localWorkers < 0 {
		cfg.localWorkers = 0
		if cfg.connect == nil {
			cfg.localWorkers = runtime.NumCPU()
		}
	}
	client, err := randomID()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyWithin)
	defer cancel()
	l, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:        cfg,
		codec:      cfg.codec,
		link:       l,
		client:     client,
		maxPayload: int(l.nc.MaxPayload()),
		msgs:       map[uint64]*message{},
		overruns:   map[uint64]overrun{},
		paces:      map[*registry.Func]*pace.Estimator{},
		seen:       map[string]seenWorker{},
		groups:     map[context.Context]*group{},
		released:   make(chan struct{}),
	}
	p.room = sync.NewCond(&p.mu)
	p.idle = sync.NewCond(&p.mu)
	p.later, p.uncount = p.done.add, p.undecodable
	p.top = newTopology(cfg, int32(p.maxPayload))
	if err := p.start(ctx); err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

// start creates the pool's objects on the server, subscribes to its
// results, starts its reaper and its local workers.
func (p *Pool) start(ctx context.Context) error {
	var err error
	if p.calls, err = p.top.ensure(ctx, p.link.js); err != nil {
		return err
	}
	if p.objs, err = p.top.openObjects(ctx, p.link.js); err != nil {
		return err
	}
	p.pub, err = jetstream.New(p.link.nc,
		jetstream.WithPublishAsyncErrHandler(p.publishFailed),
		jetstream.WithPublishAsyncMaxPending(publishWindow))
	if err != nil {
		return err
	}
	p.sub, err = p.link.nc.Subscribe(p.top.resultSubject(p.client), p.receive)
	if err == nil {
		err = p.sub.SetPendingLimits(-1, -1) // the results of the calls in flight, which Map bounds
	}
	if err != nil {
		return fmt.Errorf("futures/cluster: subscribing to the results: %w", err)
	}
	if p.hello, err = p.link.nc.Subscribe(p.top.helloSubject(), p.greet); err != nil {
		return fmt.Errorf("futures/cluster: subscribing to the workers' hellos: %w", err)
	}
	if err := p.startReaper(ctx); err != nil {
		return err
	}
	if err := p.link.nc.Flush(); err != nil {
		return err
	}
	if p.cfg.localWorkers > 0 {
		lw, err := p.startLocalWorkers()
		if err != nil {
			return err
		}
		p.locals = lw
	}
	return nil
}

// publishWindow bounds the calls published and not yet acknowledged by the
// server.
const publishWindow = 4096

// randomID returns 64 random bits in hexadecimal, the id of a client.
func randomID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("futures/cluster: no random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// String returns the pool's Name.
func (p *Pool) String() string { return "cluster.Pool " + p.cfg.name }

// WorkerURL returns the URL that a worker on another machine passes to
// Serve: the server's address, the credentials (the embedded server's token,
// or those of the Connect URL), and the pool's Name as the query parameter
// "name". Anyone who has it can run any registered function of the
// program: pass it as a secret. With Connect and credentials given as
// nats.Options (TLS, a creds file), the worker needs those too, through
// WorkerNATS.
func (p *Pool) WorkerURL() string {
	base := ""
	if p.link.srv != nil {
		base = p.link.srv.clientURL()
	} else {
		base = p.cfg.connect.url
	}
	return withPoolName(base, p.cfg.name)
}

// withPoolName adds the pool's name to each URL of urls, a comma-separated
// list, as the query parameter "name".
func withPoolName(urls, name string) string {
	u, err := url.Parse(urls)
	if err != nil || u.Host == "" { // a list, or no URL nats.Connect parses alone
		return urls + "?name=" + url.QueryEscape(name)
	}
	q := u.Query()
	q.Set("name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// MaxWorkers returns the number of local worker processes, each running one
// call at a time: the calls the pool runs at once when no other worker
// serves it. Workers started with Serve elsewhere are not counted. It makes
// the pool a futures.WorkerCounter.
func (p *Pool) MaxWorkers() int { return p.cfg.localWorkers }

// MapBuffer returns the Buffer Map uses by default with chunksize: enough
// chunks to keep about 256 calls per worker in flight, and at least four
// chunks per worker, counting at least one worker. It makes the pool a
// futures.MapBufferer.
func (p *Pool) MapBuffer(chunksize int) int {
	return max(p.cfg.localWorkers, 1) * max(4, 256/max(chunksize, 1))
}

// ForgetsFinishedTasks reports whether ex is p itself: the pool calls no
// method of a call's task once it has an outcome, since only the goroutine
// that takes the call from the pool's table completes it, and it keeps no
// task it took. It makes the pool a futures.TaskForgetter, so that Map
// reuses the items of the calls that succeeded.
func (p *Pool) ForgetsFinishedTasks(ex futures.Executor) bool { return ex == futures.Executor(p) }

// Refusal returns the error Execute would return now for a call of fn: an
// ErrNotRegistered error if fn is not registered, ErrShutdown after
// Shutdown, an ErrBrokenExecutor error once broken; nil if it would accept
// the call. It makes the pool a futures.Refuser.
func (p *Pool) Refusal(fn any) error {
	if p == nil {
		return errNilPool
	}
	if _, err := registry.Lookup(fn); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusalLocked()
}

// refusalLocked returns why the pool refuses new calls, or nil.
func (p *Pool) refusalLocked() error {
	if p.stage >= poolShutdown {
		return futures.ErrShutdown
	}
	return p.broken
}

var errNilPool = errors.New("futures/cluster: the Pool is nil; create one with NewPool")

// Stats returns a snapshot of the pool's counters: its own calls (queued
// means waiting in the pool for a worker's free slot, running means
// published), and its local worker
// processes; workers started elsewhere with Serve are not counted. The call
// counts add up as for the pools of package futures; to count the queued
// calls cancelled meanwhile, it looks at each call not finished. A nil pool
// has zero counts.
func (p *Pool) Stats() futures.Stats {
	if p == nil {
		return futures.Stats{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settleLocked()
	c := p.st
	workers := 0
	if p.locals != nil {
		workers = p.locals.alive()
	}
	return futures.Stats{
		Submitted: c.submitted, Queued: c.queued, Running: c.running,
		Succeeded: c.succeeded, Failed: c.failed, Cancelled: c.cancelled,
		Workers:      workers,
		WorkerStarts: c.workerStarts, WorkerExits: c.workerExits, WorkerKills: c.workerKills,
	}
}

// settleEvery is how often a goroutine waiting for room in the queue looks
// for queued calls that were cancelled meanwhile.
const settleEvery = 20 * time.Millisecond
