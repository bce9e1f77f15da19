package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// embeddedServer is a NATS server with JetStream running in this process.
type embeddedServer struct {
	ns     *natsserver.Server
	token  string
	url    string // nats://token@host:port
	tmpDir string // the store of a memory-only server, removed at shutdown; "" with StoreDir
}

// readyWithin bounds how long startServer waits for the server to accept
// clients; it is ready in milliseconds when nothing is wrong.
const readyWithin = 10 * time.Second

// startServer starts a server as c asks, logging to l (nil: silent), and
// returns once it accepts clients. It fails if the options are refused, the
// address cannot be listened on, JetStream cannot start on the store, or the
// server is not ready within readyWithin; nothing is left running then.
func startServer(c serverConfig, l *slog.Logger) (*embeddedServer, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	host, portText, err := net.SplitHostPort(c.listen)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT // the server reads 0 as its default, 4222
	}
	token := c.token
	if token == "" {
		if token, err = randomToken(); err != nil {
			return nil, err
		}
	}
	s := &embeddedServer{token: token}
	store := c.storeDir
	if store != "" {
		if err := os.MkdirAll(store, 0o700); err != nil {
			return nil, fmt.Errorf("futures/cluster: StoreDir: %w", err)
		}
	} else {
		// Memory streams need no files, but JetStream keeps its account
		// metadata in a store directory, by default one shared by every
		// server of the machine. A private one keeps servers apart.
		if s.tmpDir, err = os.MkdirTemp("", "futures-cluster-"); err != nil {
			return nil, err
		}
		store = s.tmpDir
	}
	opts := &natsserver.Options{
		Host:                   host,
		Port:                   port,
		Authorization:          token,
		JetStream:              true,
		StoreDir:               store,
		NoSigs:                 true,
		NoLog:                  l == nil,
		DisableJetStreamBanner: true,
		// HTTPPort, HTTPSPort, ProfPort, Cluster, Gateway, LeafNode,
		// Websocket and MQTT stay zero: none of those listeners opens.
	}
	if s.ns, err = natsserver.NewServer(opts); err != nil {
		s.removeStore()
		return nil, fmt.Errorf("futures/cluster: the embedded server refused its options: %w", err)
	}
	log := &serverLog{l: l}
	s.ns.SetLoggerV2(log, log.debug(), false, false)
	// Start returns after JetStream is enabled and the listener is bound,
	// or after a fatal error that stops it from getting there.
	s.ns.Start()
	cause := log.firstFatal()
	if cause == "" && !s.ns.ReadyForConnections(readyWithin) {
		cause = fmt.Sprintf("not ready within %v", readyWithin)
	}
	if cause == "" && !s.ns.JetStreamEnabled() {
		cause = "JetStream is not enabled"
	}
	if cause != "" {
		s.shutdown()
		return nil, fmt.Errorf("futures/cluster: the embedded server on %s did not start: %s", c.listen, cause)
	}
	addr, ok := s.ns.Addr().(*net.TCPAddr)
	if !ok {
		s.shutdown()
		return nil, fmt.Errorf("futures/cluster: the embedded server listens on %v, not a TCP address", s.ns.Addr())
	}
	u := url.URL{
		Scheme: "nats",
		User:   url.User(token),
		Host:   net.JoinHostPort(advertisedHost(host), strconv.Itoa(addr.Port)),
	}
	s.url = u.String()
	return s, nil
}

// advertisedHost is the host that the URL of a server listening on host
// names: host itself, or this machine's name when host means every
// interface.
func advertisedHost(host string) string {
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return host
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		return name
	}
	return "localhost"
}

// randomToken returns 256 random bits in hexadecimal, which a URL carries
// as its user name unescaped.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("futures/cluster: no random token for the embedded server: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// clientURL returns the URL, token included, through which a client on
// another goroutine, process or machine connects to the server:
// nats://token@host:port.
func (s *embeddedServer) clientURL() string { return s.url }

// shutdown stops the server, waits until every goroutine of it has
// returned, and removes its store if it was a private temporary one.
func (s *embeddedServer) shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	s.removeStore()
}

// removeStore removes the private store directory, if any.
func (s *embeddedServer) removeStore() {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}
