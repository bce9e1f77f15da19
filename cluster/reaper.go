package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// startReaper consumes the lost stream, which every pool of the Name
// shares: for each call message delivered MaxAttempts times, whoever's it
// is, it tells the client that published it which calls were lost and
// deletes the message, which the work queue would otherwise keep.
func (p *Pool) startReaper(ctx context.Context) error {
	cons, err := p.link.js.Consumer(ctx, p.top.lost.Name, p.top.reaper.Durable)
	if err != nil {
		return fmt.Errorf("futures/cluster: the reaper consumer: %w", err)
	}
	p.reaper, err = cons.Consume(p.reap)
	if err != nil {
		return fmt.Errorf("futures/cluster: consuming the lost calls: %w", err)
	}
	return nil
}

// reap handles one MAX_DELIVERIES advisory.
func (p *Pool) reap(m jetstream.Msg) {
	a, err := parseMaxDeliveries(m.Data())
	if err != nil || a.Stream != p.top.calls.Name {
		m.Term() // not an advisory this pool can act on
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiWait)
	defer cancel()
	raw, err := p.calls.GetMsg(ctx, a.StreamSeq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		m.Ack() // answered, cancelled or purged meanwhile
		return
	case err != nil:
		m.Nak() // the server is busy: another reaper, or this one, tries again
		return
	}
	if name := raw.Header.Get(headerArgObject); name != "" {
		p.dropObject(name) // its pool may be gone
	}
	if client, _, err := callSubjectParts(raw.Subject); err == nil {
		if ids, err := callIDs(raw.Data); err == nil {
			p.link.nc.Publish(p.top.resultSubject(client), appendLost(nil, a.Deliveries, ids))
		}
	}
	if err := p.calls.DeleteMsg(ctx, a.StreamSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		m.Nak()
		return
	}
	m.Ack()
}
