package main

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"time"
)

// file is one of the documents the local server offers.
type file struct {
	name string
	size int64
}

// files are what the local server serves: PDF-sized documents named after
// the tax forms of the Python walk-through, with made-up contents.
var files = []file{
	{"f1040.pdf", 1536 << 10},
	{"f1040a.pdf", 768 << 10},
	{"f1040ez.pdf", 300 << 10},
	{"f1040es.pdf", 3 << 20},
	{"f1040sb.pdf", 400 << 10},
}

// pdfHeader starts every served file, so that the saved files look like PDFs
// to a file manager.
const pdfHeader = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"

// content returns the bytes of a served file, generated as they are read:
// pdfHeader, then bytes from a generator seeded with the name, size bytes in
// all (every size is larger than the header). The same name and size always
// give the same bytes.
func content(f file) io.Reader {
	body := io.LimitReader(rand.NewChaCha8(sha256.Sum256([]byte(f.name))), f.size-int64(len(pdfHeader)))
	return io.MultiReader(strings.NewReader(pdfHeader), body)
}

// network is what the local server pretends the network is like.
type network struct {
	latency time.Duration // before the response starts
	rate    int64         // bytes per second per download
}

// serve starts an HTTP server on the loopback interface that serves files
// under /pub/irs-pdf/, each response delayed by the latency and paced at the
// rate, as a distant server would. Close it when done.
func serve(n network) *httptest.Server {
	byName := make(map[string]file, len(files))
	for _, f := range files {
		byName[f.name] = f
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dir, name := path.Split(r.URL.Path)
		f, ok := byName[name]
		if dir != "/pub/irs-pdf/" || !ok {
			http.NotFound(w, r)
			return
		}
		if !pause(r.Context(), n.latency) {
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Length", strconv.FormatInt(f.size, 10))
		paced(r.Context(), w, content(f), n.rate)
	}))
}

// paced copies src to w in 32 KiB chunks, no faster than rate bytes per
// second, until src ends or ctx is cancelled.
func paced(ctx context.Context, w io.Writer, src io.Reader, rate int64) {
	buf := make([]byte, 32<<10)
	start := time.Now()
	var sent int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
		}
		if err != nil {
			return
		}
		due := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
		if !pause(ctx, time.Until(due)) {
			return
		}
	}
}

// pause waits for d, and reports false if ctx ends first.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
