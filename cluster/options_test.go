package cluster

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestOptionDefaults(t *testing.T) {
	c, err := readOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.name != "futures" || c.connect != nil || c.server.listen != "127.0.0.1:0" || c.server.storeDir != "" ||
		c.maxAttempts != 3 || c.workerLostAfter != 15*time.Second || c.logger != nil {
		t.Errorf("defaults: %+v", c)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{[]Option{{}}, "zero Option"},
		{[]Option{Embedded(ServerOption{})}, "zero ServerOption"},
		{[]Option{Name("")}, `Name("")`},
		{[]Option{Name("a.b")}, `Name("a.b")`},
		{[]Option{Name("a b")}, "ASCII letters"},
		{[]Option{Name("a>")}, "ASCII letters"},
		{[]Option{Name(strings.Repeat("n", 65))}, "64"},
		{[]Option{MaxAttempts(0)}, "MaxAttempts(0)"},
		{[]Option{WorkerLostAfter(99 * time.Millisecond)}, "WorkerLostAfter(99ms): must be at least 100ms"},
		{[]Option{Logger(nil)}, "Logger: the logger is nil"},
		{[]Option{Connect("")}, `Connect(""): the URL is empty`},
		{[]Option{Embedded(), Connect("nats://127.0.0.1:4222")}, "exclude each other"},
		{[]Option{Embedded(StoreDir(""))}, `StoreDir("")`},
		{[]Option{Embedded(Listen("127.0.0.1"))}, `Listen("127.0.0.1")`},
		{[]Option{Embedded(Listen("127.0.0.1:65536"))}, "0 to 65535"},
		{[]Option{Embedded(Listen("127.0.0.1:nats"))}, "0 to 65535"},
		{[]Option{Embedded(Listen("0.0.0.0:4222"))}, "AllowInsecure()"},
		{[]Option{Embedded(Listen(":4222"))}, "AllowInsecure()"},
		{[]Option{Embedded(Listen("[::]:0"))}, "AllowInsecure()"},
		{[]Option{Embedded(Listen("192.168.1.2:0"))}, "AllowInsecure()"},
		{[]Option{LocalWorkers(-1)}, "LocalWorkers(-1): must be at least 0"},
		{[]Option{WorkerCommand("")}, `WorkerCommand(""): the path is empty`},
		{[]Option{TaskTimeout(0)}, "TaskTimeout(0s): must be positive"},
		{[]Option{QueueSize(0)}, "QueueSize(0): must be at least 1"},
		{[]Option{Encoding(nil)}, "Encoding: the codec is nil"},
		{[]Option{Encoding(unregisteredCodec{})}, `cannot find the codec "unregistered"`},
	} {
		_, err := readOptions(tc.opts)
		if err == nil {
			t.Errorf("options %v were accepted", tc.opts)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "futures/cluster: ") {
			t.Errorf("error %q does not say %q", err, tc.want)
		}
	}
}

func TestOptionsAccepted(t *testing.T) {
	for _, opts := range [][]Option{
		{Name("A-z_09"), MaxAttempts(1), WorkerLostAfter(100 * time.Millisecond), Logger(slog.Default())},
		{Embedded(Listen("localhost:0"))},
		{Embedded(Listen("[::1]:4222"), StoreDir("dir"))},
		{Embedded(Listen("0.0.0.0:4222"), AllowInsecure())},
		{Embedded(AllowInsecure(), Listen(":0"))},
		{Connect("nats://a:4222,nats://b:4222", nats.Token("t"))},
	} {
		if _, err := readOptions(opts); err != nil {
			t.Errorf("options %v: %v", opts, err)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		"nats://127.0.0.1:4222":                          "nats://127.0.0.1:4222",
		"nats://secret@a:4222,nats://u:pw@b:4222,c:4222": "nats://REDACTED@a:4222,nats://REDACTED@b:4222,c:4222",
	} {
		if got := redactURLs(in); got != want {
			t.Errorf("redactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConnect(t *testing.T) {
	s := startTestServer(t)
	ctx := testContext(t, 30*time.Second)
	opts := []Option{Connect(s.clientURL(), nats.Timeout(5*time.Second)), Name("connected")}
	l := dialTest(t, opts...)
	if l.srv != nil {
		t.Error("Connect started a server")
	}
	calls, err := topologyOf(t, l, opts...).ensure(ctx, l.js)
	if err != nil {
		t.Fatalf("the topology through Connect: %v", err)
	}
	if calls.CachedInfo().Config.Storage != jetstream.FileStorage {
		t.Errorf("through Connect the calls stream keeps calls in %v", calls.CachedInfo().Config.Storage)
	}

	bad := strings.Replace(s.clientURL(), s.token, strings.Repeat("f", 64), 1)
	c, err := readOptions([]Option{Connect(bad)})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := dial(ctx, c); !errors.Is(err, nats.ErrAuthorization) || strings.Contains(err.Error(), "ffff") {
		if err == nil {
			l.close()
		}
		t.Errorf("Connect with a wrong token: %v, want nats.ErrAuthorization without the token", err)
	}

	// Connect passes its nats options through: the token can come as one.
	u := strings.Replace(s.clientURL(), s.token+"@", "", 1)
	dialTest(t, Connect(u, nats.Token(s.token)))

	plain, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: natsserver.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	plain.Start()
	defer func() { plain.Shutdown(); plain.WaitForShutdown() }()
	if !plain.ReadyForConnections(10 * time.Second) {
		t.Fatal("a server without JetStream did not start")
	}
	if c, err = readOptions([]Option{Connect(plain.ClientURL())}); err != nil {
		t.Fatal(err)
	}
	if l, err := dial(ctx, c); err == nil || !strings.Contains(err.Error(), "no JetStream") {
		if err == nil {
			l.close()
		}
		t.Errorf("Connect to a server without JetStream: %v", err)
	}
}

// recorder is a slog.Handler that keeps the records it gets.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
	attrs   []slog.Attr
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attrs = append(r.attrs, as...)
	return r
}
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}

func TestLoggerGetsTheServerLog(t *testing.T) {
	rec := &recorder{}
	dialTest(t, Name("logged"), Logger(slog.New(rec)))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var ready bool
	for _, r := range rec.records {
		ready = ready || r.Message == "Server is ready" && r.Level == slog.LevelInfo
	}
	if !ready {
		t.Errorf("the logger got %d records, none the server's notice that it is ready", len(rec.records))
	}
	if len(rec.attrs) != 1 || rec.attrs[0].Key != "pool" || rec.attrs[0].Value.String() != "logged" {
		t.Errorf("the records carry %v, want pool=logged", rec.attrs)
	}
}

// unregisteredCodec is a codec no program registered.
type unregisteredCodec struct{}

func (unregisteredCodec) Name() string                { return "unregistered" }
func (unregisteredCodec) Marshal(any) ([]byte, error) { return nil, nil }
func (unregisteredCodec) Unmarshal([]byte, any) error { return nil }
