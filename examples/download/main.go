// Command download saves a few files from the web three ways: one after the
// other, with a ThreadPool and Map, and with a ThreadPool and Submit, then
// prints how much faster the pools were. It is the I/O-bound example of the
// concurrent.futures walk-through.
//
// By default it downloads five generated PDF-sized files, plus one URL
// without a file extension (an error for that URL only), from a server it
// starts on 127.0.0.1 that answers with a realistic delay and speed, so it
// runs offline. Use -url (repeatable) to download real files instead.
//
//	go run ./examples/download
//	go run ./examples/download -url https://example.com/a.pdf -url https://example.com/b.pdf -out /tmp/pdfs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/examples/internal/timeit"
)

// config is what the flags set.
type config struct {
	urls    []string      // what to download; empty: the local server's files
	out     string        // directory to save into; empty: a new temporary one
	workers int           // ThreadPool size
	timeout time.Duration // how long each pooled run may take
	net     network       // the local server's latency and speed
}

func main() {
	var cfg config
	flag.Func("url", "a URL to download (repeat the flag for more); default: the local server's files",
		func(s string) error { cfg.urls = append(cfg.urls, s); return nil })
	flag.StringVar(&cfg.out, "out", "", "directory to save the files into (default: a new temporary directory)")
	flag.IntVar(&cfg.workers, "workers", 13, "goroutines in the ThreadPool")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "time limit of each pooled run")
	flag.DurationVar(&cfg.net.latency, "latency", 300*time.Millisecond, "local server: delay before each response")
	flag.Int64Var(&cfg.net.rate, "rate", 8<<20, "local server: bytes per second of each download")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "download:", err)
		os.Exit(1)
	}
}

// run downloads cfg.urls (or the local server's files) into three
// subdirectories of cfg.out, one per way of doing it, printing what happened
// to each file and the times. It fails only when a whole run cannot be done;
// a file that fails is reported and the others still save.
func run(ctx context.Context, w io.Writer, cfg config) error {
	if cfg.workers < 1 || cfg.timeout <= 0 || (len(cfg.urls) == 0 && cfg.net.rate < 1) {
		return errors.New("-workers, -timeout and -rate must be positive")
	}
	urls := cfg.urls
	if len(urls) == 0 {
		srv := serve(cfg.net)
		defer srv.Close()
		for _, f := range files {
			urls = append(urls, srv.URL+"/pub/irs-pdf/"+f.name)
		}
		urls = append(urls, srv.URL+"/pub/irs-pdf/f1040-instructions")
		fmt.Fprintf(w, "serving %d files on %s (%v latency, %d KiB/s per download)\n",
			len(files), srv.URL, cfg.net.latency, cfg.net.rate>>10)
	}
	out := cfg.out
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "download-"); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "saving into %s\n", out)

	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	d := &downloader{client: &http.Client{Transport: transport}, workers: cfg.workers, timeout: cfg.timeout}

	ways := []struct {
		name, dir string
		all       func(context.Context, io.Writer, []string) error
	}{
		{"sequential", "sequential", d.sequential},
		{"ThreadPool + Map", "map", d.pooled(d.mapAll)},
		{"ThreadPool + Submit", "submit", d.pooled(d.submitAll)},
	}
	times := make([]time.Duration, len(ways))
	for i, way := range ways {
		d.dir = filepath.Join(out, way.dir)
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s, into %s:\n", way.name, d.dir)
		elapsed, err := timeit.Run(w, "download_all ("+way.name+")", func() error {
			return way.all(ctx, w, urls)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", way.name, err)
		}
		times[i] = elapsed
	}
	fmt.Fprintln(w)
	for i, way := range ways[1:] {
		fmt.Fprintf(w, "%s: %.1fx faster than sequential\n", way.name, float64(times[0])/float64(times[i+1]))
	}
	return nil
}

// downloader saves URLs into dir, on a pool of the given size when pooled.
type downloader struct {
	client  *http.Client
	dir     string
	workers int           // ThreadPool size
	timeout time.Duration // time limit of a pooled run
}

// one downloads u into a file of d.dir named after the URL's last path
// element, streaming the body to disk in chunks, and returns a line saying
// so. A URL whose name has no extension is refused before any request.
func (d *downloader) one(ctx context.Context, u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	name := path.Base(parsed.Path)
	if path.Ext(name) == "" {
		return "", fmt.Errorf("%s: the URL has no file extension, so there is no file name to save it under", u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", u, resp.Status)
	}
	dst := filepath.Join(d.dir, name)
	n, err := save(dst, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil {
		os.Remove(dst)
		return "", fmt.Errorf("%s: %w", u, err)
	}
	return fmt.Sprintf("Finished downloading %s (%d bytes)", name, n), nil
}

// save writes body to the file dst, 64 KiB at a time, and returns how many
// bytes it wrote.
func save(dst string, body io.Reader) (int64, error) {
	f, err := os.Create(dst)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyBuffer(f, body, make([]byte, 64<<10))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// report prints the outcome of downloading one URL.
func report(w io.Writer, msg string, err error) {
	if err != nil {
		fmt.Fprintln(w, "  error:", err)
		return
	}
	fmt.Fprintln(w, " ", msg)
}

// sequential downloads the URLs one after the other.
func (d *downloader) sequential(ctx context.Context, w io.Writer, urls []string) error {
	for _, u := range urls {
		msg, err := d.one(ctx, u)
		report(w, msg, err)
	}
	return nil
}

// pooled returns a run that downloads the URLs on a new ThreadPool with
// all, within d.timeout, then shuts the pool down.
func (d *downloader) pooled(all func(context.Context, io.Writer, futures.Executor, []string) error) func(context.Context, io.Writer, []string) error {
	return func(ctx context.Context, w io.Writer, urls []string) error {
		pool, err := futures.NewThreadPool(futures.MaxWorkers(d.workers))
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, d.timeout)
		defer cancel()
		err = all(ctx, w, pool, urls)
		return errors.Join(err, pool.Shutdown(ctx))
	}
}

// mapAll downloads the URLs with Map: results come in the order of urls, and
// unlike Python's map a failed item does not end the loop.
func (d *downloader) mapAll(ctx context.Context, w io.Writer, pool futures.Executor, urls []string) error {
	for msg, err := range futures.Map(ctx, pool, d.one, slices.Values(urls)) {
		if errors.Is(err, futures.ErrTimeout) && ctx.Err() != nil {
			return err // the whole run is out of time; the loop stops here
		}
		report(w, msg, err)
	}
	return nil
}

// submitAll submits every URL, then collects the futures in order, handling
// each one's error on its own.
func (d *downloader) submitAll(ctx context.Context, w io.Writer, pool futures.Executor, urls []string) error {
	fs := make([]*futures.Future[string], len(urls))
	for i, u := range urls {
		fs[i] = futures.Submit(pool, d.one, u)
	}
	for _, f := range fs {
		msg, err := f.Result(ctx)
		if errors.Is(err, futures.ErrTimeout) && ctx.Err() != nil {
			return err
		}
		report(w, msg, err)
	}
	return nil
}
