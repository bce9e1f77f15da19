package cluster

import (
	"testing"
	"time"

	"github.com/gofutures/futures/internal/wire"
)

// FuzzMessages feeds what other processes send (call messages, start
// requests, results heads, cancellations, lost notices, hellos, overrun
// notices, subjects) to their parsers: malformed input is refused or
// dropped, never a panic.
func FuzzMessages(f *testing.F) {
	var b wire.CallsBuilder
	b.Add(&wire.Call{ID: 7, Group: 2, Flags: wire.FlagArg | wire.FlagDeadline, Func: "f", Arg: []byte{1, 2}, Deadline: 9})
	f.Add(b.Frame())
	f.Add(appendStart(nil, 2, "w", []uint64{1, 2, 3})[1:])
	f.Add(appendCancel(nil, cancelMsg{all: true, groups: []uint64{4}}))
	f.Add(appendLost(nil, 3, []uint64{5})[1:])
	f.Add([]byte("fut.p.call.c.1"))
	f.Add(appendHello(nil, "w", 4))
	f.Add(appendOverrun(nil, msgOverran, 1, "w", 1<<24|2)[1:])
	f.Add(appendResultsHead(nil, 1, "w", time.Millisecond)[1:])
	f.Fuzz(func(t *testing.T, data []byte) {
		if ids, err := callIDs(data); err == nil && len(ids) > len(data) {
			t.Fatalf("%d ids from %d bytes", len(ids), len(data))
		}
		if _, _, rest, ok := readHead(data); ok && len(rest) > len(data) {
			t.Fatal("readHead grew its input")
		}
		if ran, rest, ok := readResultsHead(data); ok && (len(rest) > len(data) || ran < 0) {
			t.Fatalf("readResultsHead read %v and grew its input", ran)
		}
		parseCancel(data)
		if id, slots, err := parseHello(data); err == nil && (len(id) > len(data) || slots > 1<<20) {
			t.Fatalf("hello of %q, %d slots from %d bytes", id, slots, len(data))
		}
		if _, worker, _, err := parseOverrun(data); err == nil && len(worker) > len(data) {
			t.Fatalf("overrun of worker %q from %d bytes", worker, len(data))
		}
		readIDs(wire.NewDecoder(data))
		callSubjectParts(string(data))
	})
}

// TestMessagesRoundTrip checks that each message reads back as written.
func TestMessagesRoundTrip(t *testing.T) {
	attempt, worker, rest, ok := readHead(appendStart(nil, 2, "host:1:abc", []uint64{1, 9})[1:])
	d := wire.NewDecoder(rest)
	ids := readIDs(d)
	if !ok || attempt != 2 || worker != "host:1:abc" || len(ids) != 2 || ids[1] != 9 || d.Finish() != nil {
		t.Errorf("start message read back as %d, %q, %v", attempt, worker, ids)
	}
	for _, kind := range []byte{msgOverran, msgFreed} {
		b := appendOverrun(nil, kind, 3, "host:1:abc", 5<<idShift|7)
		attempt, worker, id, err := parseOverrun(b[1:])
		if b[0] != kind || err != nil || attempt != 3 || worker != "host:1:abc" || id != 5<<idShift|7 {
			t.Errorf("overrun message %d read back as %d, %q, %d, %v", kind, attempt, worker, id, err)
		}
		if _, _, _, err := parseOverrun(append(b[1:], 0)); err == nil {
			t.Errorf("overrun message %d with a byte left over was accepted", kind)
		}
	}
	if ran, rest, ok := readResultsHead(append(appendResultsHead(nil, 3, "w", 7*time.Microsecond), 9)[1:]); !ok || ran != 7*time.Microsecond || len(rest) != 1 || rest[0] != 9 {
		t.Errorf("results head read back as %v, %v, %v", ran, rest, ok)
	}
	if _, _, ok := readResultsHead(appendResultsHead(nil, 3, "w", 0)[1:3]); ok {
		t.Error("a results head cut short was read")
	}
	c, err := parseCancel(appendCancel(nil, cancelMsg{groups: []uint64{3, 4}}))
	if err != nil || c.all || len(c.groups) != 2 || c.groups[1] != 4 {
		t.Errorf("cancel message read back as %+v, %v", c, err)
	}
	if id, slots, err := parseHello(appendHello(nil, "host:1:abc", 4)); err != nil || id != "host:1:abc" || slots != 4 {
		t.Errorf("hello read back as %q, %d, %v", id, slots, err)
	}
	if _, _, err := parseHello(appendHello(nil, "w", 1<<21)); err == nil {
		t.Error("a hello of 2M slots was accepted")
	}
	client, group, err := callSubjectParts(topology{pool: "p"}.callSubject("abc", 12))
	if err != nil || client != "abc" || group != 12 {
		t.Errorf("call subject read back as %q, %d, %v", client, group, err)
	}
	if _, _, err := callSubjectParts("fut.p.res.abc"); err == nil {
		t.Error("a result subject read as a call subject")
	}
}
