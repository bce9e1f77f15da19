package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gofutures/futures"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fast is a local network quick enough for tests.
var fast = network{rate: 1 << 30}

func TestRunSavesEveryFileThreeWays(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := t.TempDir()
	var buf bytes.Buffer
	if err := run(ctx, &buf, config{out: out, workers: 13, timeout: time.Minute, net: fast}); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	printed := buf.String()
	for _, dir := range []string{"sequential", "map", "submit"} {
		entries, err := os.ReadDir(filepath.Join(out, dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(files) {
			t.Errorf("%s: saved %d files, want %d", dir, len(entries), len(files))
		}
		for _, f := range files {
			got, err := os.ReadFile(filepath.Join(out, dir, f.name))
			if err != nil {
				t.Error(err)
				continue
			}
			want, _ := io.ReadAll(content(f))
			if int64(len(got)) != f.size || !bytes.Equal(got, want) {
				t.Errorf("%s/%s: %d bytes, want the %d bytes served", dir, f.name, len(got), f.size)
			}
		}
	}
	for _, f := range files {
		if n := strings.Count(printed, "Finished downloading "+f.name+" "); n != 3 {
			t.Errorf("%q printed %d times, want 3 (once per run)", "Finished downloading "+f.name, n)
		}
	}
	if n := strings.Count(printed, "error:"); n != 3 {
		t.Errorf("%d errors printed, want 3 (the URL without extension, once per run)", n)
	}
	if n := strings.Count(printed, "f1040-instructions: the URL has no file extension"); n != 3 {
		t.Errorf("extensionless URL reported %d times, want 3", n)
	}
	for _, want := range []string{
		"download_all (sequential) => ",
		"download_all (ThreadPool + Map) => ",
		"download_all (ThreadPool + Submit) => ",
		"ThreadPool + Map: ", "ThreadPool + Submit: ", "x faster than sequential",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
}

func TestOneReportsFailuresPerFile(t *testing.T) {
	srv := serve(fast)
	defer srv.Close()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	d := &downloader{client: &http.Client{Transport: transport}, dir: t.TempDir()}
	tests := []struct {
		path, want string
	}{
		{"/pub/irs-pdf/f1040ez.pdf", ""},
		{"/pub/irs-pdf/f1040", "no file extension"},
		{"/pub/irs-pdf/missing.pdf", "404 Not Found"},
		{"/elsewhere/f1040.pdf", "404 Not Found"},
	}
	for _, tt := range tests {
		msg, err := d.one(context.Background(), srv.URL+tt.path)
		if tt.want == "" {
			if err != nil || msg != "Finished downloading f1040ez.pdf (307200 bytes)" {
				t.Errorf("%s: got %q, %v", tt.path, msg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one saying %q", tt.path, err, tt.want)
		}
	}
	if entries, _ := os.ReadDir(d.dir); len(entries) != 1 {
		t.Errorf("saved %d files, want only f1040ez.pdf", len(entries))
	}
}

// A pooled run that outlives its timeout stops with ErrTimeout instead of
// waiting for a server that does not answer.
func TestPooledRunsTimeOut(t *testing.T) {
	srv := serve(network{latency: time.Hour, rate: 1 << 30})
	defer srv.Close()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	d := &downloader{client: &http.Client{Transport: transport}, dir: t.TempDir(), workers: 2, timeout: 50 * time.Millisecond}
	urls := []string{srv.URL + "/pub/irs-pdf/f1040.pdf", srv.URL + "/pub/irs-pdf/f1040a.pdf"}
	for name, all := range map[string]func(context.Context, io.Writer, futures.Executor, []string) error{
		"Map": d.mapAll, "Submit": d.submitAll,
	} {
		err := d.pooled(all)(context.Background(), io.Discard, urls)
		if !errors.Is(err, futures.ErrTimeout) {
			t.Errorf("%s: err = %v, want ErrTimeout", name, err)
		}
	}
}
