package procpool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/gofutures/futures/internal/remote"
	"github.com/gofutures/futures/internal/ring"
	"github.com/gofutures/futures/internal/supervise"
	"github.com/gofutures/futures/internal/value"
	"github.com/gofutures/futures/internal/wire"
)

// proc is the pool's side of a worker process, the client of its
// protocol. Fields are guarded by the
// pool's mutex, except sp, set once before the worker's goroutines use it,
// and those that say otherwise.
type proc[T any] struct {
	sp    *supervise.Process
	state procState
	stop  stopRecord
	// garbled says it sent a malformed message, so that its results area
	// is not trusted. It is apart from state: a worker in any state may.
	garbled bool

	inflight  ring.Queue[*pcall[T]] // runs sent and not all answered, oldest first
	inflightN int                   // calls sent and not answered
	nextID    uint64
	sent      int // calls sent, for MaxTasksPerWorker
	pace      pacer
	out       outbox
	// With Gob, codec decodes w's results: a Stream of w's own, which
	// gets the type definitions w sends; types is how much of the pool's
	// log of type definitions went into w.out, so w has it before the
	// calls that follow. Otherwise codec is the pool's codec.
	codec value.Codec
	types int
	wake  chan struct{} // wakes the writer goroutine
	watch timeoutWatch

	wmu    sync.Mutex // held while writing to the worker
	buf    wire.Out   // guarded by wmu
	closed bool       // the request pipe is closed; guarded by wmu, so apart from state
}

// outbox is what the pool queued for a worker, which flush writes next.
type outbox struct {
	setup   []byte // the Setup message, before anything else
	types   []byte // type definitions, before the calls
	calls   wire.CallsBuilder
	frame   int  // at most the bytes of the records in calls
	full    bool // calls has no room for the next call: it goes first
	cancels []uint64
}

// exitGrace is how long a worker may take to exit after its reply pipe
// closed; timeoutGrace is how long past TaskTimeout the pool waits for the
// worker's own report before it kills the worker itself.
const (
	exitGrace    = time.Second
	startLimit   = 10 * time.Second // for a worker without Initializer to say it is ready
	timeoutGrace = 250 * time.Millisecond
)

// run starts w's process and serves it until it exits.
func (p *Pool[T]) run(w *proc[T]) {
	defer p.wg.Done()
	sp, err := p.spawner.Start(supervise.Config{Path: p.path, Args: p.args, Env: p.env, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		p.reap(w, supervise.Exit{}, p.errs.Broken(fmt.Sprintf("futures: ProcessPool %q cannot start a worker process from %s; check the program path and the WorkerCommand option", p.name, p.path), err))
		return
	}
	p.mu.Lock()
	w.sp = sp
	w.out.setup = wire.AppendSetup(nil, wire.Setup{Version: wire.Version, Codec: p.codec.Name(), Initializer: p.initName, TaskTimeout: int64(p.timeout)})
	p.st.WorkerStarted()
	p.mu.Unlock()
	p.log(slog.LevelInfo, "futures: worker process started", "pid", sp.PID)
	p.wg.Add(1)
	go p.writer(w)
	w.signal()

	rd := wire.NewReader(countingReader{sp.Out, &w.watch.got})
	// A worker says it is ready once its Initializer has run, which may
	// take as long as it needs; without one, it must answer in startLimit.
	stopSlow := func() bool { return false }
	if p.initName == "" {
		stopSlow = time.AfterFunc(startLimit, func() {
			p.kill(w, fmt.Sprintf("it did not say it was ready within %v", startLimit))
		}).Stop
	}
	broken, startErr := p.handshake(w, rd)
	stopSlow()
	if startErr != nil && startErr != io.EOF {
		p.kill(w, fmt.Sprintf("it sent a malformed message before it was ready: %v", startErr))
	}
	if broken == nil && startErr == nil {
		p.serve(w, rd)
	}
	sp.Out.Close()
	// The reply pipe closes when the worker exits; a worker that closed it
	// otherwise, or sent garbage, is killed after a grace period.
	kill := time.AfterFunc(exitGrace, func() { p.kill(w, "it closed its reply pipe without exiting") })
	exit := sp.Wait()
	kill.Stop()
	p.takeArea(w, exit.AreaHead, exit.Area)
	p.mu.Lock()
	reason := w.stop.reason
	p.mu.Unlock()
	if startErr != nil {
		if exit.Signal != "" && reason == "" && p.retryStart() {
			// Killed from outside before it was ready (kill, the OOM
			// killer): start another, as for a worker killed later.
			startErr = nil
		} else {
			startErr = p.startError(sp.PID, exit, reason)
		}
	} else if broken != nil {
		startErr = broken
	}
	p.reap(w, exit, startErr)
}

// maxStartRetries is how many workers in a row may be killed before they
// are ready before the pool gives up and breaks.
const maxStartRetries = 3

// retryStart reports whether another worker may be started after one was
// killed before it was ready.
func (p *Pool[T]) retryStart() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.startKills++
	return p.startKills <= maxStartRetries
}

// handshake waits for the worker to say Ready. It returns the error that
// breaks the pool if the worker's Initializer failed, or the error of a
// worker that sent something else or nothing.
func (p *Pool[T]) handshake(w *proc[T], rd *wire.Reader) (broken, err error) {
	t, body, err := rd.Read()
	for s, ok := w.codec.(*value.Stream); ok && err == nil && t == wire.TTypes; {
		s.AddTypes(body) // for the error of a failed Initializer
		t, body, err = rd.Read()
	}
	switch {
	case err != nil:
		return nil, err
	case t == wire.TReady:
		if _, err := wire.ParseReady(body); err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.setStateLocked(w, procReady)
		p.startKills = 0
		p.dispatchLocked()
		p.unlockAndFlush()
		return nil, nil
	case t == wire.TInitErr:
		var cause error = errors.New("futures: the worker sent an empty report")
		err = wire.ParseResults(body, func(r *wire.Result) bool {
			cause = remote.Failure(context.Background(), r, p.initName, w.codec)
			return false
		})
		if err != nil {
			return nil, err
		}
		p.log(slog.LevelError, "futures: worker initialization failed", "pid", w.sp.PID, "err", cause)
		return p.errs.Broken(fmt.Sprintf("futures: the Initializer of ProcessPool %q failed in a worker process; the pool cannot run calls", p.name), cause), nil
	}
	return nil, fmt.Errorf("%w: frame type %d before Ready", wire.ErrFrame, t)
}

// writer sends w what the pool queued for it whenever woken, until w's
// request pipe is closed.
func (p *Pool[T]) writer(w *proc[T]) {
	defer p.wg.Done()
	for range w.wake {
		if !p.flush(w) {
			return
		}
	}
}

// flush writes everything queued for w in one write, large arguments apart
// (written from where they are), and closes w's request pipe once nothing
// more will come. It returns false once the pipe is closed.
func (p *Pool[T]) flush(w *proc[T]) bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.closed {
		return false
	}
	p.mu.Lock()
	out, buf := &w.out, &w.buf
	buf.Buf = append(buf.Buf, out.setup...)
	out.setup = nil
	if len(out.types) > 0 {
		buf.Buf = wire.AppendTypes(buf.Buf, out.types)
		out.types = nil
	}
	if out.calls.Len() > 0 {
		out.calls.AppendTo(buf)
		out.frame, out.full = 0, false
	}
	if len(out.cancels) > 0 {
		buf.Buf = wire.AppendCancel(buf.Buf, out.cancels)
		out.cancels = out.cancels[:0]
	}
	if w.state == procAborting {
		buf.Buf = wire.AppendEmpty(buf.Buf, wire.TAbort)
	}
	done := w.state >= procClosing
	p.mu.Unlock()
	if buf.Len() > 0 {
		if _, err := buf.WriteTo(w.sp.In); err != nil {
			done = true
		}
	}
	buf.Reset()
	if done {
		w.sp.In.Close()
		w.closed = true
		w.signal() // for the writer goroutine to see it
	}
	return !done
}

// serve reads w's results until it exits.
func (p *Pool[T]) serve(w *proc[T], rd *wire.Reader) {
	a := answers[T]{codec: w.codec}
	// Gob and JSON copy what they decode, and so does value.Decode from
	// a buffer of at most wire.MaxKept bytes, so such a buffer is reused
	// for the next frame; another codec might keep the bytes it decodes.
	reuse := value.Copies(p.codec)
	var buf []byte
	for {
		w.watch.inRead.Store(true)
		t, body, err := rd.ReadInto(buf)
		w.watch.inRead.Store(false)
		if reuse && cap(body) <= wire.MaxKept {
			buf = body
		}
		if s, ok := w.codec.(*value.Stream); ok && err == nil && t == wire.TTypes {
			s.AddTypes(body)
			continue
		}
		if err == nil && t != wire.TResults {
			err = fmt.Errorf("%w: frame type %d", wire.ErrFrame, t)
		}
		if err == nil {
			err = p.take(w, body, &a)
		}
		if len(a.recs) > 0 {
			p.finish(&a)
		}
		a.reset()
		if err != nil {
			if err != io.EOF {
				p.mu.Lock()
				w.garbled = true
				p.mu.Unlock()
				p.kill(w, fmt.Sprintf("it sent a malformed message: %v", err))
			}
			return
		}
	}
}
