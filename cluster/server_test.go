package cluster

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestEmbeddedServerDefaults(t *testing.T) {
	s := startTestServer(t)

	u, err := url.Parse(s.clientURL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "nats" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "4222" {
		t.Errorf("clientURL() = %s, want nats://token@127.0.0.1:<a port the system picked>", s.clientURL())
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(u.User.Username()) || u.User.Username() != s.token {
		t.Errorf("the URL's user is %q, want the server's 256-bit token in hexadecimal", u.User.Username())
	}
	if other := startTestServer(t); other.token == s.token {
		t.Error("two servers have the same token")
	}

	ports := s.ns.PortsInfo(time.Second)
	if ports == nil || len(ports.Nats) != 1 {
		t.Fatalf("PortsInfo = %+v, want one client port", ports)
	}
	if len(ports.Monitoring)+len(ports.Cluster)+len(ports.Profile)+len(ports.WebSocket) != 0 || s.ns.GatewayAddr() != nil {
		t.Errorf("the server listens on more than its client port: %+v, gateway %v", ports, s.ns.GatewayAddr())
	}

	nc, err := nats.Connect(s.clientURL())
	if err != nil {
		t.Fatalf("connecting with clientURL(): %v", err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.AccountInfo(testContext(t, 10*time.Second))
	}
	nc.Close()
	if err != nil {
		t.Errorf("JetStream through clientURL(): %v", err)
	}

	noToken := "nats://" + u.Host
	if nc, err := nats.Connect(noToken); err == nil {
		nc.Close()
		t.Errorf("connecting to %s without the token succeeded", noToken)
	}
	wrong := "nats://" + strings.Repeat("0", 64) + "@" + u.Host
	if nc, err := nats.Connect(wrong); err == nil {
		nc.Close()
		t.Error("connecting with a wrong token succeeded")
	}
}

func TestEmbeddedServerShutdown(t *testing.T) {
	c, err := readOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := startServer(c.server, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.tmpDir); err != nil {
		t.Fatalf("the memory-only server has no private store: %v", err)
	}
	s.shutdown()
	if _, err := os.Stat(s.tmpDir); !os.IsNotExist(err) {
		t.Errorf("the private store %s is still there after shutdown (%v)", s.tmpDir, err)
	}
	if nc, err := nats.Connect(s.clientURL(), nats.Timeout(time.Second)); err == nil {
		nc.Close()
		t.Error("the server still accepts clients after shutdown")
	}
	// TestMain checks that none of its goroutines is left.
}

func TestEmbeddedServerStoreDirKeepsStreams(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store") // created by the server
	ctx := testContext(t, 30*time.Second)

	l := dialTest(t, Embedded(StoreDir(dir)))
	stream, err := l.js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep"}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.js.Publish(ctx, "keep", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Info(ctx); err != nil {
		t.Fatal(err)
	}
	l.close()

	l = dialTest(t, Embedded(StoreDir(dir)))
	stream, err = l.js.Stream(ctx, "KEEP")
	if err != nil {
		t.Fatalf("the stream did not survive a restart on the same StoreDir: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("after a restart the stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestEmbeddedServerFailsToStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opt  ServerOption
		want string
	}{
		{Listen(busy.Addr().String()), "listening"},
		{StoreDir(file), "StoreDir"},
	} {
		c, err := readOptions([]Option{Embedded(tc.opt)})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s, err := startServer(c.server, nil)
		if err == nil {
			s.shutdown()
			t.Errorf("%s: the server started", tc.opt.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not say %q", tc.opt.name, err, tc.want)
		}
		if d := time.Since(start); d > readyWithin/2 {
			t.Errorf("%s: the failure took %v to report", tc.opt.name, d)
		}
	}
}

func TestAdvertisedHost(t *testing.T) {
	name, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	for host, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "::1": "::1", "localhost": "localhost", "10.1.2.3": "10.1.2.3",
		"": name, "0.0.0.0": name, "::": name,
	} {
		if got := advertisedHost(host); got != want {
			t.Errorf("advertisedHost(%q) = %q, want %q", host, got, want)
		}
	}
}
