package value

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Gob over a connection. A gob stream describes each type once, before the
// first value of that type, and the decoder compiles a type once; a new
// encoder per value describes and compiles the type every time. A Stream
// lets the values that cross one connection share that work, while each
// value is still encoded on its own, by whichever goroutine has it, and
// decoded in any order:
//
//   - The encoding side keeps a Types log: every gob type definition its
//     encoders wrote, each once, in the order they appeared. Gob numbers
//     types per process, so a definition means the same to every encoder
//     of the process. Encoding a value appends the definitions it needs
//     that the log lacks to the log, and gives back the value's message
//     alone (after tagCodec).
//   - Before a value crosses a connection, the sender sends that
//     connection the part of the log it has not sent yet (Types.Since):
//     every definition a value encoded before then refers to is in it.
//   - The receiving side's Stream gets those definitions (AddTypes) in the
//     order they crossed, and hands them to its gob decoder with the next
//     value it decodes: its decoder keeps the definitions and the compiled
//     types for the rest of the connection.
//
// A value that holds a non-nil interface value is the exception: gob writes
// the definition of the type it holds among the value's own messages, where
// the log cannot tell them apart. Such a value is encoded by a new encoder
// and decoded by a new decoder, as by Gob (after tagGobSelf), and pays for
// its definitions every time. So is any value whose encoding is not
// definitions followed by one value message, should gob write one; the
// encoder that wrote it is dropped.
//
// So nothing the encoding side does depends on the connection: a value
// encoded for a call that is then refused, or whose worker dies before it is
// sent, leaves nothing out of step; a new connection starts at the beginning
// of the log. An encoder that fails or panics halfway is dropped, after the
// definitions it wrote are logged: what it recorded as sent is in the log.

// Types is the log of the gob type definitions written by the encoders of
// one side of one or more connections. It is safe for concurrent use.
type Types struct {
	mu   sync.Mutex
	defs []byte         // definition messages, back to back
	ids  map[int64]bool // the type ids defined in defs
	size atomic.Int64   // len(defs)
	encs sync.Pool      // of *streamEncoder, whose definitions are in defs
}

// streamEncoder is a gob encoder writing into buf.
type streamEncoder struct {
	buf bytes.Buffer
	enc *gob.Encoder
}

// NewTypes returns an empty log.
func NewTypes() *Types { return &Types{ids: map[int64]bool{}} }

// Len returns the size of the log: the offset of its end.
func (l *Types) Len() int { return int(l.size.Load()) }

// Since returns the definitions logged from offset from on, and the offset
// of the log's end; nothing if the log has nothing past from.
func (l *Types) Since(from int) (defs []byte, end int) {
	if int(l.size.Load()) <= from {
		return nil, from
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.defs[from:len(l.defs):len(l.defs)], len(l.defs)
}

// appendValue appends the gob message of v to dst, logging the definitions
// the encoder wrote before it. It reports whether gob wrote definitions
// and one value message: if not, it appends nothing and drops the encoder.
func (l *Types) appendValue(dst []byte, v any) (out []byte, clean bool, err error) {
	e, _ := l.encs.Get().(*streamEncoder)
	if e == nil {
		e = &streamEncoder{}
		e.enc = gob.NewEncoder(&e.buf)
	}
	e.buf.Reset()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoding a %T panicked: %v", v, r)
		}
		msg, ok := l.logDefs(e.buf.Bytes())
		if err != nil || !ok {
			return // e is dropped: it may think it sent what it did not log
		}
		out, clean = append(dst, msg...), true
		if e.buf.Cap() <= MaxKeptBuffer {
			l.encs.Put(e)
		}
	}()
	err = e.enc.Encode(v)
	return dst, false, err
}

// MaxKeptBuffer is the largest buffer an encoder keeps for the next value.
const MaxKeptBuffer = 1 << 20

// logDefs logs the definition messages at the start of b, which gob wrote,
// and returns the value message that follows them. It reports whether one
// value message follows them and ends b.
func (l *Types) logDefs(b []byte) (msg []byte, ok bool) {
	if n, id, ok := parseMessage(b); ok && id >= 0 { // no definitions: the usual case
		return b, n == len(b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(b) > 0 {
		n, id, ok := parseMessage(b)
		if !ok {
			return nil, false
		}
		if id >= 0 {
			return b, n == len(b)
		}
		if !l.ids[-id] {
			l.ids[-id] = true
			l.defs = append(l.defs, b[:n]...)
			l.size.Store(int64(len(l.defs)))
		}
		b = b[n:]
	}
	return nil, false
}

// parseMessage returns the length of the gob message at the start of b,
// its count included, and the type id it begins with: negative for a type
// definition.
func parseMessage(b []byte) (n int, id int64, ok bool) {
	count, k, ok := gobUint(b)
	if !ok || count > uint64(len(b)-k) || count == 0 {
		return 0, 0, false
	}
	u, _, ok := gobUint(b[k : k+int(count)])
	if !ok {
		return 0, 0, false
	}
	id = int64(u >> 1)
	if u&1 != 0 {
		id = ^id
	}
	return k + int(count), id, true
}

// gobUint decodes the gob unsigned integer at the start of b: one byte
// below 0x80, or a byte holding minus the length of the big-endian bytes
// that follow.
func gobUint(b []byte) (u uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	k := -int(int8(b[0]))
	if k > 8 || k >= len(b) {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+k] {
		u = u<<8 | uint64(c)
	}
	return u, 1 + k, true
}

// Stream is Gob for the values that cross one connection, in one direction
// or both: it encodes with the definitions of a Types log, which the
// connection's other end must get before the values (see Types), and
// decodes values whose definitions it got with AddTypes. It is a Codec named
// "gob", safe for concurrent use; the fast path of Append and Decode applies
// to it as to Gob. A Stream without a log cannot encode, one made by
// NewStream always decodes.
type Stream struct {
	types *Types

	mu      sync.Mutex
	dec     *gob.Decoder
	in      bytes.Reader // what dec reads: pending definitions, then a value
	pending []byte       // definitions not yet handed to dec
	scratch []byte
}

// NewStream returns a Stream that encodes with types (nil for a stream that
// only decodes), with a decoder of its own.
func NewStream(types *Types) *Stream {
	s := &Stream{types: types}
	s.dec = gob.NewDecoder(&s.in)
	return s
}

// Streams reports whether c, a pool's codec, has a Stream for connections.
func Streams(c Codec) bool {
	_, ok := c.(GobCodec)
	return ok
}

// Name returns "gob".
func (*Stream) Name() string { return "gob" }

// Marshal encodes v as Append does, for Unmarshal at the other end.
func (s *Stream) Marshal(v any) ([]byte, error) {
	if s.types == nil {
		return nil, errors.New("futures: this stream only decodes")
	}
	return Append(nil, s, v)
}

// Unmarshal decodes data, from Marshal at the other end, into v.
func (s *Stream) Unmarshal(data []byte, v any) error { return Decode(s, data, v) }

// AddTypes hands defs, definitions from the other end's Types log, to the
// stream, which decodes the values after them in its order. It copies defs.
func (s *Stream) AddTypes(defs []byte) {
	s.mu.Lock()
	s.pending = append(s.pending, defs...)
	s.mu.Unlock()
}

// decodeMessage decodes data, a message of the other end's stream, into v.
func (s *Stream) decodeMessage(data []byte, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := data
	if len(s.pending) > 0 {
		s.scratch = append(append(s.scratch[:0], s.pending...), data...)
		s.pending = s.pending[:0]
		in = s.scratch
	}
	s.in.Reset(in)
	err := s.dec.Decode(v)
	if err == nil && s.in.Len() > 0 {
		err = errors.New("gob left bytes of the value undecoded")
	}
	s.in.Reset(nil)
	if cap(s.scratch) > MaxKeptBuffer {
		s.scratch = nil
	} else {
		s.scratch = s.scratch[:0]
	}
	return err
}
