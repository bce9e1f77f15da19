// Command progress hashes items on a ProcessPool and shows how far it has
// got: a progress bar driven by Map's Progress option and, below it, a line
// with the pool's Stats refreshed while the workers run. When stdout is not a
// terminal it prints a plain line every -every instead, and a last one at the
// end.
//
//	cd examples/progress && go run .
//	go run . -n 200 -workers 2 -chunksize 4 -fail-every 25
//	go run . -futures      # Submit every item, count them with AsCompleted
//	go run . | cat         # plain lines
package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gofutures/futures"
)

// hashItem crosses into worker processes by name.
func init() { futures.Register(hashItem) }

func main() {
	futures.WorkerMain() // in a worker process of the ProcessPool: serve calls, then exit
	cfg := config{workers: runtime.NumCPU()}
	flag.IntVar(&cfg.n, "n", 100, "items to hash")
	flag.IntVar(&cfg.rounds, "rounds", 200_000, "PBKDF2-SHA256 iterations per item")
	flag.IntVar(&cfg.workers, "workers", cfg.workers, "worker processes")
	flag.IntVar(&cfg.chunksize, "chunksize", 1, "items per call sent to a worker (Map only)")
	flag.IntVar(&cfg.failEvery, "fail-every", 0, "make every k-th item fail, to see failures counted (0: none)")
	flag.BoolVar(&cfg.futures, "futures", false, "submit every item and count the futures with AsCompleted instead of Map")
	flag.DurationVar(&cfg.every, "every", time.Second, "how often to print a line when stdout is not a terminal")
	flag.Parse()
	cfg.terminal = term.IsTerminal(int(os.Stdout.Fd()))
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "progress:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	n, rounds, workers, chunksize, failEvery int

	futures  bool          // Submit and AsCompleted instead of Map
	every    time.Duration // the period of plain lines
	terminal bool          // draw a bar instead of plain lines
}

// item is one unit of work: it crosses into a worker process, so its fields
// are exported for the codec.
type item struct {
	Index  int
	Rounds int
	Fail   bool
}

// items yields the items of a run.
func items(cfg config) iter.Seq[item] {
	return func(yield func(item) bool) {
		for i := range cfg.n {
			fail := cfg.failEvery > 0 && (i+1)%cfg.failEvery == 0
			if !yield(item{Index: i, Rounds: cfg.rounds, Fail: fail}) {
				return
			}
		}
	}
}

// hashItem derives a PBKDF2-SHA256 key from a password salted with the
// item's index and returns its first 8 bytes in hex, or an error for an item
// marked to fail.
func hashItem(ctx context.Context, it item) (string, error) {
	if it.Fail {
		return "", fmt.Errorf("item %d fails, as -fail-every asked", it.Index)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, "password", fmt.Appendf(nil, "item %d", it.Index), it.Rounds, 32)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(key[:8]), nil
}

// digest sums the results of a run, in input order, a failed item counting
// as an empty string, so that two runs can be compared on one line.
func digest(results []string) string {
	sum := sha256.Sum256([]byte(strings.Join(results, "\n")))
	return hex.EncodeToString(sum[:8])
}

// refreshEvery is how often the Stats line under the bar is redrawn.
const refreshEvery = 100 * time.Millisecond

// run hashes the items of cfg on a ProcessPool, showing the progress on w,
// and prints a summary with the digest of the results.
func run(ctx context.Context, w io.Writer, cfg config) error {
	if cfg.n < 1 || cfg.rounds < 1 || cfg.workers < 1 || cfg.chunksize < 1 || cfg.failEvery < 0 || cfg.every <= 0 {
		return errors.New("-n, -rounds, -workers, -chunksize and -every must be positive, -fail-every at least 0")
	}
	pool, err := futures.NewProcessPool(futures.MaxWorkers(cfg.workers))
	if err != nil {
		return err
	}
	defer pool.Close()

	m := newMeter(w, pool.Stats, cfg)
	period := cfg.every
	if cfg.terminal {
		period = refreshEvery
	}
	stop := m.tickEvery(period)
	start := time.Now()
	var results []string
	if cfg.futures {
		results, err = hashFutures(ctx, pool, cfg, m.progress)
	} else {
		results, err = hashMap(ctx, pool, cfg, m.progress)
	}
	stop()
	if err != nil {
		return err
	}
	if err := pool.Close(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	s := m.finish()
	fmt.Fprintf(w, "%d items hashed, %d failed, in %.1fs (worker processes started: %d); digest %s\n",
		s.Succeeded, s.Failed, elapsed.Seconds(), s.WorkerStarts, digest(results))
	return nil
}

// hashMap hashes the items with Map, in input order, reporting each result
// to progress through the Progress option. A failed item's result is "".
func hashMap(ctx context.Context, pool futures.Executor, cfg config, progress func(futures.MapProgress)) ([]string, error) {
	results := make([]string, 0, cfg.n)
	for h, err := range futures.Map(ctx, pool, hashItem, items(cfg),
		futures.Chunksize(cfg.chunksize), futures.Progress(progress)) {
		if err != nil && !isItemError(err) {
			return nil, err // ctx ended, or the pool refused the calls
		}
		results = append(results, h)
	}
	return results, nil
}

// hashFutures submits every item and counts the futures with AsCompleted as
// they finish, in whatever order, reporting the counts to progress as Map's
// Progress option would. A failed item's result is "".
func hashFutures(ctx context.Context, pool futures.Executor, cfg config, progress func(futures.MapProgress)) ([]string, error) {
	var fs []*futures.Future[string]
	for it := range items(cfg) {
		fs = append(fs, futures.Submit(pool, hashItem, it))
	}
	p := futures.MapProgress{Total: len(fs)}
	for f, err := range futures.AsCompleted(ctx, fs...) {
		if f == nil {
			return nil, err // ctx ended before every future finished
		}
		p.Done++
		if err != nil {
			p.Failed++
		}
		progress(p)
	}
	results := make([]string, len(fs))
	for i, f := range fs {
		h, err := f.Result(ctx) // finished: returns at once
		if err != nil && !isItemError(err) {
			return nil, err
		}
		results[i] = h
	}
	return results, nil
}

// isItemError reports whether err is an item's own failure, which the loop
// counts and goes past, rather than a reason to stop.
func isItemError(err error) bool {
	var remote *futures.RemoteError
	return errors.As(err, &remote)
}

// meter shows the progress of a run: a bar with the pool's Stats on the line
// below on a terminal, plain lines elsewhere.
type meter struct {
	w     io.Writer
	stats func() futures.Stats // the pool's Stats method
	total int
	bar   *progressbar.ProgressBar // nil: plain lines

	mu   sync.Mutex
	last futures.MapProgress // as last reported
}

// newMeter returns a meter for a run of cfg on w, with a bar if cfg.terminal.
func newMeter(w io.Writer, stats func() futures.Stats, cfg config) *meter {
	m := &meter{w: w, stats: stats, total: cfg.n}
	if cfg.terminal {
		m.bar = progressbar.NewOptions(cfg.n,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("hashing"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetMaxDetailRow(1), // the Stats line
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	return m
}

// progress is the Progress callback: it moves the bar and redraws the Stats
// line. Map calls it in the loop's goroutine; the lock is for the ticker,
// which reads m.last.
func (m *meter) progress(p futures.MapProgress) {
	m.mu.Lock()
	failedBefore := m.last.Failed
	m.last = p
	m.mu.Unlock()
	if m.bar == nil {
		return
	}
	if p.Failed != failedBefore {
		m.bar.Describe(fmt.Sprintf("hashing (%d failed)", p.Failed))
	}
	m.bar.AddDetail(m.line(m.stats())) // first, so that the bar, completing, draws it too
	m.bar.Set(p.Done)
}

// line is the Stats line: the pool's workers and calls, and the items done.
func (m *meter) line(s futures.Stats) string {
	m.mu.Lock()
	p := m.last
	m.mu.Unlock()
	return fmt.Sprintf("workers %d  running %d  queued %d  succeeded %d  done %d/%d  failed %d",
		s.Workers, s.Running, s.Queued, s.Succeeded, p.Done, m.total, p.Failed)
}

// tick redraws the Stats line, or prints a plain line.
func (m *meter) tick() {
	if m.bar == nil {
		fmt.Fprintln(m.w, m.line(m.stats()))
		return
	}
	m.bar.AddDetail(m.line(m.stats())) // refused once the bar is complete: its last line stays
}

// tickEvery calls tick every period until the returned function is called;
// that function returns once the ticking goroutine has stopped.
func (m *meter) tickEvery(period time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				m.tick()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// finish ends the display once the pool is closed: it prints the last plain
// line, or moves below the bar. It returns the pool's final Stats.
func (m *meter) finish() futures.Stats {
	s := m.stats()
	if m.bar == nil {
		fmt.Fprintln(m.w, m.line(s))
	} else {
		fmt.Fprintln(m.w)
	}
	return s
}
