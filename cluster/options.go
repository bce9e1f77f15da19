package cluster

import (
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/internal/value"
	"github.com/nats-io/nats.go"
)

// Option configures a cluster pool: where its NATS server is, the name of
// its streams and subjects, and how calls are delivered. An option that is
// out of range makes reading the options fail with an error naming it;
// nothing is silently adjusted.
type Option struct {
	name  string // for error messages, such as "MaxAttempts(0)"
	apply func(*config) error
}

// config is what the options of a pool ask for.
type config struct {
	name            string         // the pool's name; see Name
	embedded        bool           // Embedded was given
	server          serverConfig   // for the embedded server
	connect         *connectConfig // nil: an embedded server
	maxAttempts     int
	workerLostAfter time.Duration
	logger          *slog.Logger // nil: silent
	localWorkers    int          // -1: the default of Embedded or Connect
	workerCommand   []string     // nil: this program
	taskTimeout     time.Duration
	queueSize       int         // 0: unbounded
	codec           value.Codec // nil: Gob
}

// connectConfig is an existing server to connect to (Connect).
type connectConfig struct {
	url  string
	opts []nats.Option
}

// The defaults of the options.
const (
	defaultName            = "futures"
	defaultMaxAttempts     = 3
	defaultWorkerLostAfter = 15 * time.Second
	defaultListen          = "127.0.0.1:0"
)

// readOptions applies opts over the defaults and checks that they fit
// together.
func readOptions(opts []Option) (config, error) {
	c := config{
		name:            defaultName,
		server:          serverConfig{listen: defaultListen},
		maxAttempts:     defaultMaxAttempts,
		workerLostAfter: defaultWorkerLostAfter,
		localWorkers:    -1,
	}
	for _, o := range opts {
		if o.apply == nil {
			return c, fmt.Errorf("futures/cluster: the zero Option is not an option; use Embedded, Connect, Name, ...")
		}
		if err := o.apply(&c); err != nil {
			return c, fmt.Errorf("futures/cluster: %s: %w", o.name, err)
		}
	}
	if c.embedded && c.connect != nil {
		return c, fmt.Errorf("futures/cluster: Embedded and Connect exclude each other: a pool either starts its server or connects to one")
	}
	if c.connect == nil {
		if err := c.server.check(); err != nil {
			return c, fmt.Errorf("futures/cluster: Embedded: %w", err)
		}
	}
	return c, nil
}

// Embedded makes the pool start a NATS server with JetStream in the calling
// process, configured by opts, and stop it when the pool stops. It is the
// default. Without options the server listens on 127.0.0.1 at a port the
// system picks, requires a random 256-bit token, keeps its streams in memory
// and opens no monitoring, cluster, gateway, leaf node, websocket or MQTT
// port. An option out of range, or a Listen address beyond loopback without
// AllowInsecure, is an error. Embedded excludes Connect.
func Embedded(opts ...ServerOption) Option {
	return Option{name: "Embedded", apply: func(c *config) error {
		c.embedded = true
		for _, o := range opts {
			if o.apply == nil {
				return fmt.Errorf("the zero ServerOption is not an option; use StoreDir, Listen or AllowInsecure")
			}
			if err := o.apply(&c.server); err != nil {
				return fmt.Errorf("%s: %w", o.name, err)
			}
		}
		return nil
	}}
}

// Connect makes the pool use the NATS server or cluster at url (as
// nats.Connect takes it: "nats://host:4222", a comma-separated list, with or
// without credentials) instead of starting one. opts are passed to
// nats.Connect untouched: TLS, credentials, reconnect policy. The server must
// have JetStream enabled. An empty url is an error; a server that cannot be
// reached or refuses the credentials makes connecting fail with nats.go's
// error. Connect excludes Embedded.
func Connect(url string, opts ...nats.Option) Option {
	return Option{name: fmt.Sprintf("Connect(%q)", redactURLs(url)), apply: func(c *config) error {
		if url == "" {
			return fmt.Errorf("the URL is empty")
		}
		c.connect = &connectConfig{url: url, opts: opts}
		return nil
	}}
}

// redactURLs returns urls, a comma-separated list, with the credentials in
// each replaced by "REDACTED", for error messages.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := neturl.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = neturl.User("REDACTED")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// validName is what Name accepts: a word that is valid both in a subject
// and in a stream name.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Name sets the name of the pool, from which the names of its streams,
// consumers and subjects derive (see the package documentation): pools of
// the same name on the same server share their calls and workers, pools of
// different names are independent. The default is "futures". A name that is
// empty, longer than 64 bytes, or has a byte other than an ASCII letter, a
// digit, '_' or '-' is an error.
func Name(name string) Option {
	return Option{name: fmt.Sprintf("Name(%q)", name), apply: func(c *config) error {
		if !validName.MatchString(name) {
			return fmt.Errorf("a pool name has 1 to 64 ASCII letters, digits, '_' or '-'")
		}
		c.name = name
		return nil
	}}
}

// MaxAttempts sets how many times a call is delivered to a worker when the
// workers holding it die or go silent: after n deliveries the call is lost
// (the server then publishes the advisory the pool turns into an error).
// A call that returns, even an error, is not delivered again. The default is
// 3. n < 1 is an error.
func MaxAttempts(n int) Option {
	return Option{name: fmt.Sprintf("MaxAttempts(%d)", n), apply: func(c *config) error {
		if n < 1 {
			return fmt.Errorf("must be at least 1")
		}
		c.maxAttempts = n
		return nil
	}}
}

// minWorkerLostAfter is the shortest WorkerLostAfter: below it the
// scheduling delays of a loaded machine would pass for a lost worker.
const minWorkerLostAfter = 100 * time.Millisecond

// WorkerLostAfter sets how long a call's worker may stay silent (no result,
// no sign that it still runs the call) before the server delivers the call
// to another worker. The default is 15s. d below 100ms is an error.
func WorkerLostAfter(d time.Duration) Option {
	return Option{name: fmt.Sprintf("WorkerLostAfter(%v)", d), apply: func(c *config) error {
		if d < minWorkerLostAfter {
			return fmt.Errorf("must be at least %v", minWorkerLostAfter)
		}
		c.workerLostAfter = d
		return nil
	}}
}

// Logger makes the embedded server report to l: notices at Info, warnings
// at Warn, errors at Error, and debug messages at Debug when l's handler
// enables that level. Each record carries the pool's name as the attribute
// "pool". The default is silent. A nil l is an error.
func Logger(l *slog.Logger) Option {
	return Option{name: "Logger", apply: func(c *config) error {
		if l == nil {
			return fmt.Errorf("the logger is nil")
		}
		c.logger = l
		return nil
	}}
}

// LocalWorkers sets how many worker processes of this program (or of
// WorkerCommand) the pool starts, keeps running and stops with itself: each
// runs one call at a time, and one that exits is started again. The default
// is runtime.NumCPU() with Embedded and 0 with Connect, whose workers are
// usually elsewhere (see Serve). A local worker connects with WorkerURL
// alone: nats.Options given to Connect (TLS roots or certificates, a creds
// file) do not reach it, so with a server that needs them, start the
// workers with Serve and WorkerNATS instead. n < 0 is an error.
func LocalWorkers(n int) Option {
	return Option{name: fmt.Sprintf("LocalWorkers(%d)", n), apply: func(c *config) error {
		if n < 0 {
			return fmt.Errorf("must be at least 0")
		}
		c.localWorkers = n
		return nil
	}}
}

// WorkerCommand makes the pool start its local workers as path with args
// instead of re-executing this program; that program must call
// cluster.WorkerMain first thing in main and register the same functions.
// An empty path is an error.
func WorkerCommand(path string, args ...string) Option {
	return Option{name: fmt.Sprintf("WorkerCommand(%q)", path), apply: func(c *config) error {
		if path == "" {
			return fmt.Errorf("the path is empty")
		}
		c.workerCommand = append([]string{path}, args...)
		return nil
	}}
}

// TaskTimeout bounds how long one attempt of a call may run on its worker:
// past d the call fails with an error matching futures.ErrTimeout and its
// context on the worker is cancelled. Unlike a ProcessPool's, the worker is
// not killed: the call's function keeps its slot until it returns, and the
// pool publishes nothing for that slot meanwhile. d <= 0 is an error.
func TaskTimeout(d time.Duration) Option {
	return Option{name: fmt.Sprintf("TaskTimeout(%v)", d), apply: func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("must be positive")
		}
		c.taskTimeout = d
		return nil
	}}
}

// QueueSize bounds the calls of the pool that are accepted and not yet
// published for a worker: Submit and Map block while n are. The default is unbounded.
// n < 1 is an error.
func QueueSize(n int) Option {
	return Option{name: fmt.Sprintf("QueueSize(%d)", n), apply: func(c *config) error {
		if n < 1 {
			return fmt.Errorf("must be at least 1")
		}
		c.queueSize = n
		return nil
	}}
}

// Encoding sets the codec of the arguments and results of the pool's calls;
// the default is futures.Gob. Workers find it by its Name, so a codec
// other than Gob and JSON must be registered with futures.RegisterCodec in
// the programs of both sides. A nil codec is an error.
func Encoding(codec futures.Codec) Option {
	return Option{name: "Encoding", apply: func(c *config) error {
		if codec == nil {
			return fmt.Errorf("the codec is nil")
		}
		if value.ByName(codec.Name()) == nil {
			return fmt.Errorf("workers cannot find the codec %q; register it with futures.RegisterCodec in an init function", codec.Name())
		}
		c.codec = codec
		return nil
	}}
}

// ServerOption configures the server that Embedded starts.
type ServerOption struct {
	name  string // for error messages, such as `Listen("")`
	apply func(*serverConfig) error
}

// serverConfig is what the options of an embedded server ask for.
type serverConfig struct {
	storeDir      string // "": memory
	listen        string // host:port
	allowInsecure bool
	token         string // "": a random one; set by tests that restart a server
}

// check tells whether the address to listen on may be used without TLS.
func (s serverConfig) check() error {
	host, _, _ := net.SplitHostPort(s.listen) // checked by Listen
	if isLoopback(host) || s.allowInsecure {
		return nil
	}
	return fmt.Errorf("Listen(%q) would accept unencrypted connections from beyond this host, where the token can be read on the way; pass AllowInsecure() to accept that", s.listen)
}

// isLoopback tells whether host names this machine only: "localhost" or a
// loopback IP address. An empty host, which means every interface, is not.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// StoreDir makes the embedded server keep its streams in files under dir,
// so that queued calls survive a restart of the server on the same dir. dir
// is created if missing. The default keeps them in memory. An empty dir is
// an error.
func StoreDir(dir string) ServerOption {
	return ServerOption{name: fmt.Sprintf("StoreDir(%q)", dir), apply: func(s *serverConfig) error {
		if dir == "" {
			return fmt.Errorf("the directory is empty")
		}
		s.storeDir = dir
		return nil
	}}
}

// Listen sets the address, host:port, the embedded server accepts clients
// on; port 0 lets the system pick one. The default is "127.0.0.1:0". A host
// beyond loopback (an empty host means every interface) requires
// AllowInsecure. An address that is not host:port with a port from 0 to
// 65535 is an error.
func Listen(addr string) ServerOption {
	return ServerOption{name: fmt.Sprintf("Listen(%q)", addr), apply: func(s *serverConfig) error {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return err
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return fmt.Errorf("the port %q is not a number from 0 to 65535", port)
		}
		s.listen = addr
		return nil
	}}
}

// AllowInsecure lets Listen name an address beyond loopback although the
// embedded server does not encrypt its connections: anyone on the network
// path can read the token and then run any registered function.
func AllowInsecure() ServerOption {
	return ServerOption{name: "AllowInsecure", apply: func(s *serverConfig) error {
		s.allowInsecure = true
		return nil
	}}
}
