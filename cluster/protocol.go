package cluster

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofutures/futures/internal/wire"
)

// The messages between a pool and the workers. A call message, in the
// calls stream on fut.<p>.call.<client>.<group>, is a TCalls frame of
// internal/wire: one record per call, consecutive ids for the calls of a
// chunk, each with its group and, with wire.FlagDeadline, the nanoseconds
// left until its deadline when it was published. Its headers name the codec
// (headerCodec) and the TaskTimeout (headerTimeout), and carry Nats-TTL
// when the calls have a deadline, so that they leave the stream by
// themselves once it passed.
//
// The other messages are core messages, each starting with its kind:
//
//	msgStart   worker → client, a request: attempt, worker, the ids of the
//	           calls of one delivered message; the reply lists the ids not
//	           to run (finished meanwhile, their context ended, or unknown).
//	           A worker asks only for a delivery after the first, the last
//	           delivery MaxAttempts allows, and the first of a client it has
//	           not heard from lately
//	msgResults worker → client: attempt, worker, the nanoseconds the
//	           worker ran calls of the message since its last results of it
//	           (or since it took the message), then the body of a TResults
//	           frame (a count and wire result records)
//	msgLost    any pool's reaper → client: the deliveries made and the ids
//	           of the calls of a message delivered MaxAttempts times
//	cancel     client → workers, on fut.<p>.cancel.<client>: a flag for
//	           every call of the client, then the groups whose calls'
//	           context to cancel
//	hello      worker → clients, on fut.<p>.hello, when it starts serving
//	           and with each heartbeat: its id and how many calls it runs
//	           at once; 0 when it stops taking calls
//	msgOverran worker → client, before the timeout record of a call that
//	           overran TaskTimeout: attempt, worker, the call's id; the
//	           call still runs and keeps its slot
//	msgFreed   worker → client, once that call returned: attempt, worker,
//	           the call's id; its slot is free
//
// A pool drops a message of a kind it does not know, so that one that
// predates msgOverran frees the place of a message at the timeout record,
// and a pool never hears of an overrun from a worker that predates it.
const (
	msgStart byte = iota + 1
	msgResults
	msgLost
	msgOverran
	msgFreed
)

// The headers of a call message.
const (
	headerCodec   = "Fut-Codec"
	headerTimeout = "Fut-Timeout" // nanoseconds, decimal
)

// callFrameHeader is the frame header of a TCalls frame that a call message
// starts with: the length and the type.
const callFrameHeader = 5

// parseCallFrame returns the records of the call message data.
func parseCallFrame(data []byte) (wire.CallReader, error) {
	if len(data) < callFrameHeader || wire.Type(data[4]) != wire.TCalls {
		return wire.CallReader{}, fmt.Errorf("%w: a call message that is not a TCalls frame", wire.ErrFrame)
	}
	return wire.ReadCalls(data[callFrameHeader:]), nil
}

// callIDs returns the ids of the calls of the call message data.
func callIDs(data []byte) ([]uint64, error) {
	r, err := parseCallFrame(data)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, r.Len())
	for r.Next() {
		ids = append(ids, r.Call.ID)
	}
	return ids, r.Err()
}

// appendIDs appends a count and ids.
func appendIDs(b []byte, ids []uint64) []byte {
	b = wire.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = wire.AppendUvarint(b, id)
	}
	return b
}

// readIDs reads what appendIDs wrote.
func readIDs(d *wire.Decoder) []uint64 {
	n := d.Count(1)
	ids := make([]uint64, 0, n)
	for i := 0; i < n && d.Err == nil; i++ {
		ids = append(ids, d.Uvarint())
	}
	return ids
}

// appendHead appends the kind of a message from a worker, and the attempt
// and worker that readHead reads.
func appendHead(b []byte, kind byte, attempt int, worker string) []byte {
	b = append(b, kind)
	b = wire.AppendUvarint(b, uint64(attempt))
	return wire.AppendString(b, worker)
}

// appendStart appends a msgStart message.
func appendStart(b []byte, attempt int, worker string, ids []uint64) []byte {
	return appendIDs(appendHead(b, msgStart, attempt, worker), ids)
}

// appendResultsHead appends the head of a msgResults message, whose calls
// ran for ran; the records follow as wire.AppendResults appends them,
// without the frame header.
func appendResultsHead(b []byte, attempt int, worker string, ran time.Duration) []byte {
	return wire.AppendUvarint(appendHead(b, msgResults, attempt, worker), uint64(max(ran, 0)))
}

// readResultsHead reads the head of a msgResults message after its kind,
// b: how long its calls ran, and the records that follow.
func readResultsHead(b []byte) (ran time.Duration, rest []byte, ok bool) {
	_, _, b, ok = readHead(b)
	if !ok {
		return 0, nil, false
	}
	r, n := binary.Uvarint(b)
	if n <= 0 || r > math.MaxInt64 {
		return 0, nil, false
	}
	return time.Duration(r), b[n:], true
}

// appendOverrun appends a message of kind msgOverran or msgFreed about
// the call id of the attempt-th delivery of its message to worker.
func appendOverrun(b []byte, kind byte, attempt int, worker string, id uint64) []byte {
	return wire.AppendUvarint(appendHead(b, kind, attempt, worker), id)
}

// parseOverrun decodes a msgOverran or msgFreed message after its kind,
// b.
func parseOverrun(b []byte) (attempt int, worker string, id uint64, err error) {
	attempt, worker, rest, ok := readHead(b)
	if !ok {
		return 0, "", 0, fmt.Errorf("%w: the head of an overrun message", wire.ErrFrame)
	}
	d := wire.NewDecoder(rest)
	id = d.Uvarint()
	if err := d.Finish(); err != nil {
		return 0, "", 0, err
	}
	return attempt, worker, id, nil
}

// appendLost appends a msgLost message.
func appendLost(b []byte, attempts int, ids []uint64) []byte {
	b = append(b, msgLost)
	b = wire.AppendUvarint(b, uint64(attempts))
	return appendIDs(b, ids)
}

// cancelMsg is a cancel message.
type cancelMsg struct {
	all    bool     // every call of the client
	groups []uint64 // the calls of these groups
}

// appendCancel appends the cancel message c.
func appendCancel(b []byte, c cancelMsg) []byte {
	all := byte(0)
	if c.all {
		all = 1
	}
	b = append(b, all)
	return appendIDs(b, c.groups)
}

// parseCancel decodes a cancel message.
func parseCancel(data []byte) (cancelMsg, error) {
	d := wire.NewDecoder(data)
	c := cancelMsg{all: d.Byte() == 1}
	c.groups = readIDs(d)
	return c, d.Finish()
}

// callSubjectParts returns the client and group of the subject of a call
// message, fut.<p>.call.<client>.<group>.
func callSubjectParts(subject string) (client string, group uint64, err error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 || parts[0] != "fut" || parts[2] != "call" {
		return "", 0, fmt.Errorf("futures/cluster: %q is not the subject of a call", subject)
	}
	group, err = strconv.ParseUint(parts[4], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("futures/cluster: %q is not the subject of a call", subject)
	}
	return parts[3], group, nil
}

// readHead reads the head of a msgStart or msgResults message after its
// kind, b: the attempt and the worker; rest is what follows them.
func readHead(b []byte) (attempt int, worker string, rest []byte, ok bool) {
	a, n := binary.Uvarint(b)
	if n <= 0 || a > 1<<31 {
		return 0, "", nil, false
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return 0, "", nil, false
	}
	b = b[n:]
	return int(a), string(b[:l]), b[l:], true
}

// appendHello appends a hello message of the worker id, which runs slots
// calls at once, or takes no more with 0.
func appendHello(b []byte, id string, slots int) []byte {
	b = wire.AppendString(b, id)
	return wire.AppendUvarint(b, uint64(slots))
}

// parseHello decodes a hello message.
func parseHello(data []byte) (id string, slots int, err error) {
	d := wire.NewDecoder(data)
	id = d.String()
	n := d.Uvarint()
	if err := d.Finish(); err != nil {
		return "", 0, err
	}
	if n > 1<<20 {
		return "", 0, fmt.Errorf("%w: a hello of %d slots", wire.ErrFrame, n)
	}
	return id, int(n), nil
}
