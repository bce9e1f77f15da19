package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WorkerOption configures a worker started with Serve.
type WorkerOption struct {
	name  string
	apply func(*workerConfig) error
}

// workerConfig is what the options of a worker ask for.
type workerConfig struct {
	concurrency int
	natsOpts    []nats.Option
	ready       func()        // called once the worker takes calls; nil: none
	grace       time.Duration // how long a stopping worker waits for its calls
}

// Concurrency sets how many calls the worker runs at once; it takes a call
// from the stream only when it has room for it. The default is 1. n < 1 is
// an error.
func Concurrency(n int) WorkerOption {
	return WorkerOption{name: fmt.Sprintf("Concurrency(%d)", n), apply: func(c *workerConfig) error {
		if n < 1 {
			return fmt.Errorf("must be at least 1")
		}
		c.concurrency = n
		return nil
	}}
}

// WorkerNATS passes opts to nats.Connect when the worker connects: TLS,
// credentials, reconnect policy.
func WorkerNATS(opts ...nats.Option) WorkerOption {
	return WorkerOption{name: "WorkerNATS", apply: func(c *workerConfig) error {
		c.natsOpts = append(c.natsOpts, opts...)
		return nil
	}}
}

// Serve makes this process a worker of the pool that url names, as
// Pool.WorkerURL returns it: it connects to the pool's server, takes calls
// from the pool's stream as it has room for them, runs them with the
// functions this program registered, and sends their outcomes to the pools
// that made them, until ctx ends. It then takes no more calls, waits up to
// 10 seconds for those it runs, cancels the context of those still running
// and hands them back to the stream for another worker (their outcomes here
// are dropped), closes its connection and returns nil.
//
// It returns an error at once if an option or url is invalid, or the server
// cannot be reached or refuses the URL's credentials (a wrong token says
// so); it waits for the pool to create its streams if they do not exist
// yet.
func Serve(ctx context.Context, url string, opts ...WorkerOption) error {
	if ctx == nil {
		return errors.New("futures/cluster: Serve: the context is nil; use context.Background()")
	}
	c := workerConfig{concurrency: 1, grace: drainGrace}
	for _, o := range opts {
		if o.apply == nil {
			return errors.New("futures/cluster: Serve: the zero WorkerOption is not an option; use Concurrency or WorkerNATS")
		}
		if err := o.apply(&c); err != nil {
			return fmt.Errorf("futures/cluster: Serve: %s: %w", o.name, err)
		}
	}
	server, name, err := parseWorkerURL(url)
	if err != nil {
		return err
	}
	pc, err := readOptions([]Option{Name(name)})
	if err != nil {
		return fmt.Errorf("futures/cluster: Serve: the URL's name: %w", err)
	}
	nopts := append([]nats.Option{nats.Name("futures/cluster worker"), nats.MaxReconnects(-1)}, c.natsOpts...)
	nc, err := nats.Connect(server, nopts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization") {
			return fmt.Errorf("futures/cluster: Serve: the server at %s refused the credentials of the URL (a wrong or missing token?): %w", redactURLs(server), err)
		}
		return fmt.Errorf("futures/cluster: Serve: connecting to %s: %w", redactURLs(server), err)
	}
	defer nc.Close()
	w, err := newWorker(ctx, nc, newTopology(pc, int32(nc.MaxPayload())), c)
	if err != nil {
		return err
	}
	return w.serve(ctx)
}

// parseWorkerURL splits url, from Pool.WorkerURL, into the server URL to
// connect to and the pool's name (the query parameter "name", "futures"
// without it).
func parseWorkerURL(raw string) (server, name string, err error) {
	if raw == "" {
		return "", "", errors.New("futures/cluster: Serve: the URL is empty; pass Pool.WorkerURL()")
	}
	name = defaultName
	base, query, found := strings.Cut(raw, "?")
	if found {
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", fmt.Errorf("futures/cluster: Serve: the URL's query: %w", err)
		}
		if n := q.Get("name"); n != "" {
			name = n
		}
	}
	return base, name, nil
}

// worker is a process serving the calls of one pool's stream.
type worker struct {
	nc         *nats.Conn
	top        topology
	next       string // the subject that asks the consumer for messages
	objs       *objects
	id         string
	lostAfter  time.Duration // the consumer's AckWait
	maxRecords int           // the most bytes of result records a message carries
	slotsN     int           // calls run at once: each slot takes one message at a time
	maxDeliver int           // the consumer's MaxDeliver: MaxAttempts
	ready      func()
	grace      time.Duration // how long drain waits for the calls

	calls     context.Context // the base of the calls' contexts
	stopCalls context.CancelFunc

	mu        sync.Mutex
	held      map[*job]struct{}    // messages taken and not yet acknowledged
	ended     endedGroups          // the groups pools cancelled lately
	heard     map[string]time.Time // when each pool last answered a request
	abandoned bool                 // the drain grace passed: results are dropped and messages handed back
	slots     sync.WaitGroup       // the goroutines of the slots
	pullCtx   context.Context      // ends when the worker stops taking messages
}

// drainGrace is how long a stopping worker waits for the calls it runs.
const drainGrace = 10 * time.Second

// pullWait bounds one pull request: an idle worker renews it so often,
// which also lets the server report calls delivered MaxAttempts times.
const pullWait = time.Second

// newWorker finds the pool's consumer, waiting until ctx ends for the pool
// to create it, and makes the worker that serves it.
func newWorker(ctx context.Context, nc *nats.Conn, top topology, c workerConfig) (*worker, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var cons jetstream.Consumer
	for {
		cons, err = js.Consumer(ctx, top.calls.Name, top.workers.Durable)
		if err == nil {
			break
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound) && ctx.Err() == nil {
			return nil, fmt.Errorf("futures/cluster: Serve: the pool's consumer: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
	objs, err := top.openObjects(ctx, js)
	if ctx.Err() != nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("futures/cluster: Serve: %w", err)
	}
	host, _ := os.Hostname()
	suffix, err := randomID()
	if err != nil {
		return nil, err
	}
	w := &worker{
		nc:         nc,
		top:        top,
		next:       top.nextSubject(),
		objs:       objs,
		id:         workerIDPrefix(host, os.Getpid()) + suffix[:6],
		lostAfter:  cons.CachedInfo().Config.AckWait,
		maxRecords: int(nc.MaxPayload()) - 256,
		slotsN:     c.concurrency,
		ready:      c.ready,
		grace:      c.grace,
		held:       map[*job]struct{}{},
		heard:      map[string]time.Time{},
		maxDeliver: cons.CachedInfo().Config.MaxDeliver,
	}
	w.calls, w.stopCalls = context.WithCancel(context.Background())
	return w, nil
}

// serve runs the worker until ctx ends; w nil means ctx ended while waiting
// for the pool.
func (w *worker) serve(ctx context.Context) error {
	if w == nil {
		return nil
	}
	defer w.stopCalls()
	sub, err := w.nc.Subscribe(w.top.cancelSubject("*"), w.cancelled)
	if err != nil {
		return fmt.Errorf("futures/cluster: Serve: subscribing to cancellations: %w", err)
	}
	defer sub.Unsubscribe()
	w.sayHello()
	if err := w.nc.Flush(); err != nil {
		return fmt.Errorf("futures/cluster: Serve: %w", err)
	}
	beats := make(chan struct{})
	go w.heartbeat(ctx, beats)
	defer close(beats)
	if w.ready != nil {
		w.ready()
	}
	w.pull(ctx)
	<-ctx.Done()
	// The heartbeat says hello under the mutex while ctx lasts: no hello
	// with slots follows this one.
	w.mu.Lock()
	w.nc.Publish(w.top.helloSubject(), appendHello(nil, w.id, 0)) // it takes no more calls
	w.mu.Unlock()
	w.drain()
	return nil
}

// pull runs the worker's slots until ctx ends: each takes a message from
// the stream when it has none, and runs its calls.
func (w *worker) pull(ctx context.Context) {
	w.pullCtx = ctx
	for range w.slotsN {
		w.slots.Add(1)
		go w.slot()
	}
}

// slot is the goroutine of a slot.
func (w *worker) slot() {
	defer w.slots.Done()
	w.slotLoop()
}

// slotLoop takes one message after another and runs its calls, until the
// worker stops taking messages. It asks the server for one message at a
// time, on an inbox of its own that it keeps from one request to the next,
// so that it never holds a message it has no room for. An inbox whose
// request got no answer in time is dropped with what may still come to it,
// delivered again later.
func (w *worker) slotLoop() {
	ctx := w.pullCtx
	var sub *nats.Subscription
	defer func() {
		if sub != nil {
			sub.Unsubscribe()
		}
	}()
	request := func() error { return w.nc.PublishRequest(w.next, sub.Subject, pullRequest) }
	pull := func() bool { return request() == nil }
	retrySoon := func() {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	pulled := false // the job before asked for the next message
	for ctx.Err() == nil {
		var err error
		if sub == nil {
			sub, err = w.nc.SubscribeSync(w.nc.NewInbox())
		}
		if err == nil && !pulled {
			err = request()
		}
		pulled = false
		var m *nats.Msg
		if err == nil {
			wait, cancel := context.WithTimeout(ctx, pullWait+pullSlack)
			m, err = sub.NextMsgWithContext(wait)
			cancel()
		}
		switch {
		case err != nil: // no answer: the server restarts, say
			if sub != nil {
				sub.Unsubscribe()
				sub = nil
			}
			if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				retrySoon()
			}
		case len(m.Data) == 0 && m.Header.Get("Status") != "":
			// 408: the request expired; another status: the consumer is
			// busy or changing.
			if m.Header.Get("Status") != "408" {
				retrySoon()
			}
		default:
			pulled = w.handle(m, pull)
		}
	}
}

// pullRequest asks the server for one message, waiting up to pullWait.
var pullRequest = []byte(fmt.Sprintf(`{"batch":1,"expires":%d}`, int64(pullWait)))

// pullSlack is how much longer than pullWait a slot waits for the server's
// answer to a request for a message.
const pullSlack = time.Second

// drain waits up to its grace (drainGrace) for the slots to finish the
// calls they run, then cancels the calls' contexts, hands their messages
// back and waits for them to return.
func (w *worker) drain() {
	done := make(chan struct{})
	go func() {
		w.slots.Wait()
		close(done)
	}()
	t := time.NewTimer(w.grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	w.mu.Lock()
	w.abandoned = true
	w.mu.Unlock()
	w.stopCalls()
	<-done
}

// heartbeat tells the server, every quarter of WorkerLostAfter, that the
// worker still holds the messages it took, until stop is closed, and tells
// the pools its slots until ctx, that of taking messages, ends.
func (w *worker) heartbeat(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(max(w.lostAfter/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		for j := range w.held {
			j.m.InProgress()
		}
		if ctx.Err() == nil {
			w.sayHello()
		}
		w.mu.Unlock()
	}
}

// sayHello tells the pools how many calls the worker runs at once: a pool
// publishes no more messages than its workers have slots, so that a call
// waits in its pool, where it can be cancelled, rather than in the stream.
func (w *worker) sayHello() {
	w.nc.Publish(w.top.helloSubject(), appendHello(nil, w.id, w.slotsN))
}

// cancelled handles a cancel message of a client: it cancels the context
// of the messages of calls it names that the worker holds, so that their
// running call sees its context end and the others are not invoked.
func (w *worker) cancelled(m *nats.Msg) {
	client := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	c, err := parseCancel(m.Data)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended.add(client, c, time.Now(), w.lostAfter)
	for j := range w.held {
		if w.ended.has(j.client, j.group) {
			j.cancel(errCancelledByPool)
		}
	}
}

var errCancelledByPool = fmt.Errorf("futures/cluster: the pool cancelled the call: %w", context.Canceled)
