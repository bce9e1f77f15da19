package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// TestServeInProcess: a worker started with Serve from the pool's
// WorkerURL, here in the test's process as it would be on another machine,
// serves the pool's calls, and returns nil once its ctx ends.
func TestServeInProcess(t *testing.T) {
	p, err := NewPool(LocalWorkers(0), Name("serve"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)
	wctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(wctx, p.WorkerURL(), Concurrency(2)) }()
	var got int
	for v, err := range futures.Map(ctx, p, square, func(yield func(int) bool) {
		for i := range 100 {
			if !yield(i) {
				return
			}
		}
	}, futures.Chunksize(7)) {
		if err != nil {
			t.Fatal(err)
		}
		got += v
	}
	if want := 328350; got != want {
		t.Errorf("the sum of the squares of 0..99 = %d, want %d", got, want)
	}
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v after its ctx ended, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after its ctx ended")
	}
}

// TestServeWrongToken: Serve with a URL whose token is not the server's
// fails at once with an error that says the credentials were refused.
func TestServeWrongToken(t *testing.T) {
	p, err := NewPool(LocalWorkers(0))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	url := p.WorkerURL()
	token := p.link.srv.token
	if !strings.Contains(url, token) || !strings.Contains(url, "name=futures") {
		t.Fatalf("WorkerURL %q does not carry the token and the name", url)
	}
	wrong := strings.Replace(url, token, strings.Repeat("0", len(token)), 1)
	err = Serve(testContext(t, time.Minute), wrong)
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), token) {
		t.Errorf("Serve with a wrong token = %v, want an error saying the credentials were refused", err)
	}
	if err := Serve(testContext(t, time.Minute), ""); err == nil {
		t.Error("Serve with an empty URL returned nil")
	}
	if err := Serve(testContext(t, time.Minute), url, Concurrency(0)); err == nil || !strings.Contains(err.Error(), "Concurrency(0)") {
		t.Errorf("Serve with Concurrency(0) = %v", err)
	}
}

// graceOption sets how long a stopping worker waits for its calls.
func graceOption(d time.Duration) WorkerOption {
	return WorkerOption{name: "grace", apply: func(c *workerConfig) error {
		c.grace = d
		return nil
	}}
}

// serveInBackground runs Serve on p until the returned stop is called, and
// returns a channel that receives what Serve returned.
func serveInBackground(t *testing.T, ctx context.Context, p *Pool, opts ...WorkerOption) (stop func(), served <-chan error) {
	t.Helper()
	wctx, cancel := context.WithCancel(ctx)
	ch := make(chan error, 1)
	go func() { ch <- Serve(wctx, p.WorkerURL(), opts...) }()
	t.Cleanup(cancel)
	return cancel, ch
}
