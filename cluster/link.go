package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// link is a pool's connection to its NATS server: the embedded server it
// started, or the one Connect names.
type link struct {
	srv *embeddedServer // nil with Connect
	nc  *nats.Conn
	js  jetstream.JetStream
}

// dial starts the embedded server c asks for, or finds the one Connect
// names, and connects to it. The connection to an embedded server is
// in-process: it cannot drop while the server runs. dial fails if the server
// does not start, cannot be reached, refuses the credentials, or has no
// JetStream; nothing is left running then.
func dial(ctx context.Context, c config) (*link, error) {
	name := nats.Name("futures/cluster pool " + c.name)
	l := &link{}
	var err error
	if c.connect != nil {
		opts := append([]nats.Option{name}, c.connect.opts...)
		if l.nc, err = nats.Connect(c.connect.url, opts...); err != nil {
			return nil, fmt.Errorf("futures/cluster: Connect(%q): %w", redactURLs(c.connect.url), err)
		}
	} else {
		logger := c.logger
		if logger != nil {
			logger = logger.With("pool", c.name)
		}
		if l.srv, err = startServer(c.server, logger); err != nil {
			return nil, err
		}
		if l.nc, err = nats.Connect("", name, nats.InProcessServer(l.srv.ns), nats.Token(l.srv.token)); err != nil {
			l.srv.shutdown()
			return nil, fmt.Errorf("futures/cluster: connecting to the embedded server: %w", err)
		}
	}
	if l.js, err = jetstream.New(l.nc); err == nil {
		_, err = l.js.AccountInfo(ctx)
	}
	if err != nil {
		server := l.nc.ConnectedUrlRedacted()
		l.close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("futures/cluster: the server at %s has no JetStream: %w", server, err)
		}
		return nil, fmt.Errorf("futures/cluster: JetStream: %w", err)
	}
	return l, nil
}

// close closes the connection and, if the pool started its server, stops
// the server once every goroutine of both has returned.
func (l *link) close() {
	l.nc.Close()
	if l.srv != nil {
		l.srv.shutdown()
	}
}
