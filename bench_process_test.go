//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"bufio"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// The process-pool benchmarks each run beside their floor: the same traffic
// over a pipe to a long-lived child process (this test binary, started in
// echo mode) that does nothing but echo, with no futures, no scheduling and
// no recovery. One op is one call (or one item of a Map); Map benchmarks
// also report items/s. Compare with benchstat:
//
//	go test -run '^$' -bench 'Process' -count 6 | tee new.txt && benchstat new.txt

func procInc(_ context.Context, x int) (int, error) { return x + 1, nil }

// benchHashOne derives a PBKDF2-SHA256 key with i*10000 iterations for each
// i in 1..n-1: one item of hash_all.
func benchHashOne(_ context.Context, n int) (int, error) {
	total := 0
	for i := 1; i < n; i++ {
		key, err := pbkdf2.Key(sha256.New, "password", []byte("salt"), i*10000, 32)
		if err != nil {
			return 0, err
		}
		total += int(key[0])
	}
	return total, nil
}

// procRecord is the struct of the struct rows: an ID, a name and eight
// values, as a user passes several arguments at once.
type procRecord struct {
	ID     int
	Name   string
	Values []float64
}

// procRecordInc returns r with ID and every value plus one.
func procRecordInc(_ context.Context, r procRecord) (procRecord, error) {
	r.ID++
	for i := range r.Values {
		r.Values[i]++
	}
	return r, nil
}

// records yields n procRecords, the i-th with ID i and eight values.
func records(n int) func(func(procRecord) bool) {
	return func(yield func(procRecord) bool) {
		for i := range n {
			r := procRecord{ID: i, Name: "record", Values: make([]float64, 8)}
			for j := range r.Values {
				r.Values[j] = float64(i + j)
			}
			if !yield(r) {
				return
			}
		}
	}
}

// procRecordIncTyped is procRecordInc, registered with RegisterFunc.
func procRecordIncTyped(ctx context.Context, r procRecord) (procRecord, error) {
	return procRecordInc(ctx, r)
}

func init() {
	futures.Register(procInc, benchHashOne, procRecordInc)
	futures.RegisterFunc(procRecordIncTyped)
}

// Echo modes of the floor's child process.
const (
	echoEnv   = "FUTURES_BENCH_ECHO"
	echoRaw   = "raw"   // 16-byte requests and replies
	echoGob   = "gob"   // one gob echoMsg per request and reply, on one stream
	echoBatch = "batch" // frames of little-endian uint64 items, each replied +1
)

type echoMsg struct {
	ID   uint64
	Args []int
}

// In the floor's child process, serve echo on fds 3 and 4 and exit before
// any test runs.
func init() {
	mode := os.Getenv(echoEnv)
	if mode == "" {
		return
	}
	in := bufio.NewReaderSize(os.NewFile(3, "in"), 64<<10)
	out := bufio.NewWriterSize(os.NewFile(4, "out"), 64<<10)
	flushIdle := func() error {
		if in.Buffered() == 0 {
			return out.Flush()
		}
		return nil
	}
	var err error
	switch mode {
	case echoRaw:
		var buf [16]byte
		for err == nil {
			if _, err = io.ReadFull(in, buf[:]); err == nil {
				out.Write(buf[:])
				err = flushIdle()
			}
		}
	case echoGob:
		dec, enc := gob.NewDecoder(in), gob.NewEncoder(out)
		var m echoMsg
		for err == nil {
			if err = dec.Decode(&m); err == nil {
				enc.Encode(&m)
				err = flushIdle()
			}
		}
	case echoBatch:
		var hdr [4]byte
		var body []byte
		for err == nil {
			if _, err = io.ReadFull(in, hdr[:]); err != nil {
				break
			}
			body = append(body[:0], make([]byte, binary.LittleEndian.Uint32(hdr[:]))...)
			if _, err = io.ReadFull(in, body); err != nil {
				break
			}
			for i := 0; i+8 <= len(body); i += 8 {
				binary.LittleEndian.PutUint64(body[i:], binary.LittleEndian.Uint64(body[i:])+1)
			}
			out.Write(hdr[:])
			out.Write(body)
			err = flushIdle()
		}
	}
	if err != io.EOF {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// echoChild is the floor's child process and the parent's ends of its pipes.
type echoChild struct {
	cmd *exec.Cmd
	w   *os.File
	r   *bufio.Reader
	rf  *os.File
}

func startEcho(b *testing.B, mode string) *echoChild {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), echoEnv+"="+mode, "GORACE=atexit_sleep_ms=0")
	cmd.ExtraFiles = []*os.File{inR, outW}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	inR.Close()
	outW.Close()
	return &echoChild{cmd: cmd, w: inW, r: bufio.NewReaderSize(outR, 64<<10), rf: outR}
}

func (c *echoChild) close(b *testing.B) {
	c.w.Close()
	err := c.cmd.Wait()
	c.rf.Close()
	if err != nil {
		b.Fatal("echo child:", err)
	}
}

// rtt16 sends one 16-byte request and reads its reply.
func (c *echoChild) rtt16(b *testing.B, buf *[16]byte) {
	if _, err := c.w.Write(buf[:]); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c.r, buf[:]); err != nil {
		b.Fatal(err)
	}
}

// stream16 sends n 16-byte requests, one write each, with at most window
// unanswered, and reads every reply.
func (c *echoChild) stream16(b *testing.B, n, window int) {
	var req, rep [16]byte
	sent := 0
	for got := 0; got < n; got++ {
		for sent < n && sent-got < window {
			binary.LittleEndian.PutUint64(req[:], uint64(sent))
			if _, err := c.w.Write(req[:]); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		if _, err := io.ReadFull(c.r, rep[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// batch sends n items in frames of size items, one frame at a time.
func (c *echoChild) batch(b *testing.B, n, size int) {
	frame := make([]byte, 4+8*size)
	for done := 0; done < n; done += size {
		k := min(size, n-done)
		f := frame[:4+8*k]
		binary.LittleEndian.PutUint32(f, uint32(8*k))
		for i := range k {
			binary.LittleEndian.PutUint64(f[4+8*i:], uint64(done+i))
		}
		if _, err := c.w.Write(f); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c.r, f); err != nil {
			b.Fatal(err)
		}
		if got := binary.LittleEndian.Uint64(f[4:]); got != uint64(done)+1 {
			b.Fatalf("echo: got %d, want %d", got, done+1)
		}
	}
}

// newBenchProcPool returns a started ProcessPool of workers processes.
func newBenchProcPool(b *testing.B, workers int) *futures.ProcessPool {
	b.Helper()
	p, err := futures.NewProcessPool(futures.MaxWorkers(workers))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	// Start every worker and warm the pipelines up.
	for _, err := range futures.Map(context.Background(), p, procInc, count(20000)) {
		if err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// cpuTime returns the CPU time used so far by this process (self) or by
// its children that have exited and been reaped (children).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuPerItem closes p and reports the CPU time the parent and the worker
// processes used per item since the times in start.
func cpuPerItem(b *testing.B, p *futures.ProcessPool, start [2]time.Duration) {
	b.StopTimer()
	p.Close()
	b.ReportMetric(float64(cpuTime(syscall.RUSAGE_SELF)-start[0])/float64(b.N), "parent-cpu-ns/item")
	b.ReportMetric(float64(cpuTime(syscall.RUSAGE_CHILDREN)-start[1])/float64(b.N), "worker-cpu-ns/item")
}

// cpuStart returns the times cpuPerItem measures from.
func cpuStart() [2]time.Duration {
	return [2]time.Duration{cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)}
}

func itemsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkProcessRoundTrip submits one trivial call to a pool of one worker
// and waits for its result. Floors: 16 bytes echoed over a pipe, raw and as
// one gob message. One op is one round trip.
func BenchmarkProcessRoundTrip(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		p := newBenchProcPool(b, 1)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			v, err := futures.Submit(p, procInc, i).Result(ctx)
			check(b, i, v, err)
		}
	})
	b.Run("impl=pipe-raw16", func(b *testing.B) {
		c := startEcho(b, echoRaw)
		defer c.close(b)
		var buf [16]byte
		b.ResetTimer()
		for range b.N {
			c.rtt16(b, &buf)
		}
	})
	b.Run("impl=pipe-gob", func(b *testing.B) {
		c := startEcho(b, echoGob)
		defer c.close(b)
		enc, dec := gob.NewEncoder(c.w), gob.NewDecoder(c.r)
		b.ResetTimer()
		for i := range b.N {
			m := echoMsg{ID: uint64(i), Args: []int{1}}
			if err := enc.Encode(&m); err != nil {
				b.Fatal(err)
			}
			if err := dec.Decode(&m); err != nil || m.ID != uint64(i) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProcessSubmitAll submits 2e4 trivial calls to a pool of two
// workers, then collects them in order. Floor: 16-byte requests streamed to
// one child with 256 in flight. One op is one call.
func BenchmarkProcessSubmitAll(b *testing.B) {
	const batch = 20000
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		p := newBenchProcPool(b, 2)
		fs := make([]*futures.Future[int], batch)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i += batch {
			n := min(batch, b.N-i)
			for j := range n {
				fs[j] = futures.Submit(p, procInc, j)
			}
			for j := range n {
				v, err := fs[j].Result(ctx)
				check(b, j, v, err)
			}
		}
		itemsPerSecond(b)
	})
	b.Run("impl=pipe-stream16-window256", func(b *testing.B) {
		c := startEcho(b, echoRaw)
		defer c.close(b)
		b.ResetTimer()
		c.stream16(b, b.N, 256)
		itemsPerSecond(b)
	})
}

// BenchmarkProcessMap maps a trivial function over b.N items on a pool of
// two workers, at several chunk sizes, and a function of a procRecord (the
// futures-struct rows; futures-struct-typed registers it with RegisterFunc).
// Floors: the same items in binary
// frames of the chunk size to one child. One op is one item.
func BenchmarkProcessMap(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{0, 1, 100, 1000} {
		name := "chunksize=default"
		var opts []futures.MapOption
		if size > 0 {
			name = fmt.Sprintf("chunksize=%d", size)
			opts = append(opts, futures.Chunksize(size))
		}
		b.Run("impl=futures/"+name, func(b *testing.B) {
			p := newBenchProcPool(b, 2)
			b.ReportAllocs()
			start := cpuStart()
			b.ResetTimer()
			i := 0
			for v, err := range futures.Map(ctx, p, procInc, count(b.N), opts...) {
				check(b, i, v, err)
				i++
			}
			itemsPerSecond(b)
			cpuPerItem(b, p, start)
		})
		for _, s := range []struct {
			impl string
			fn   func(context.Context, procRecord) (procRecord, error)
		}{{"futures-struct", procRecordInc}, {"futures-struct-typed", procRecordIncTyped}} {
			b.Run("impl="+s.impl+"/"+name, func(b *testing.B) {
				p := newBenchProcPool(b, 2)
				b.ReportAllocs()
				start := cpuStart()
				b.ResetTimer()
				i := 0
				for v, err := range futures.Map(ctx, p, s.fn, records(b.N), opts...) {
					if err != nil || v.ID != i+1 || v.Values[7] != float64(i+8) {
						b.Fatalf("item %d: %+v, %v", i, v, err)
					}
					i++
				}
				itemsPerSecond(b)
				cpuPerItem(b, p, start)
			})
		}
		if size == 0 {
			continue
		}
		b.Run("impl=pipe-batch/"+name, func(b *testing.B) {
			c := startEcho(b, echoBatch)
			defer c.close(b)
			b.ResetTimer()
			c.batch(b, b.N, size)
			itemsPerSecond(b)
		})
	}
}

// BenchmarkProcessStartup creates a pool of two workers, runs one call and
// closes the pool. Floor: start the child process, one round trip, close
// and wait. One op is the whole sequence.
func BenchmarkProcessStartup(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		for i := range b.N {
			p, err := futures.NewProcessPool(futures.MaxWorkers(2))
			if err != nil {
				b.Fatal(err)
			}
			v, err := futures.Submit(p, procInc, i).Result(ctx)
			check(b, i, v, err)
			p.Close()
		}
	})
	b.Run("impl=pipe-spawn", func(b *testing.B) {
		var buf [16]byte
		for range b.N {
			c := startEcho(b, echoRaw)
			c.rtt16(b, &buf)
			c.close(b)
		}
	})
}

// BenchmarkProcessHashAll runs hash_all(20), a CPU-bound PBKDF2 workload of
// 11.4M iterations in 20 uneven items, on a pool of two workers with
// Chunksize(2), beside the same items run sequentially in this process. One
// op is the whole workload; run it with -benchtime=1x.
func BenchmarkProcessHashAll(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=futures", func(b *testing.B) {
		p := newBenchProcPool(b, 2)
		b.ResetTimer()
		for range b.N {
			for _, err := range futures.Map(ctx, p, benchHashOne, count(20), futures.Chunksize(2)) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("impl=sequential", func(b *testing.B) {
		for range b.N {
			for i := range 20 {
				if _, err := benchHashOne(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
