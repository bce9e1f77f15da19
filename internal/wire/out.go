package wire

import (
	"encoding/binary"
	"io"
)

// SpliceAbove is the size from which Out refers to a byte string instead of
// copying it: an argument or a result that large is written to the pipe
// from where the codec put it.
const SpliceAbove = 64 << 10

// Out is bytes to write, frames usually: a buffer, and byte strings of at
// least SpliceAbove bytes that go between its bytes without being copied
// into it. A referred byte string must not change until Out is written or
// reset.
type Out struct {
	Buf    []byte
	splice []splice // in the order of at
	size   int      // the bytes of splice
}

// splice is a byte string that goes at offset at of Out.Buf.
type splice struct {
	at int
	b  []byte
}

// Mark is a place in an Out: where a frame begun with Begin starts, or
// what Cut goes back to.
type Mark struct{ at, size, n int }

// Len returns the number of bytes o holds.
func (o *Out) Len() int { return len(o.Buf) + o.size }

// Mark returns the end of o, for Cut or Since.
func (o *Out) Mark() Mark { return Mark{len(o.Buf), o.size, len(o.splice)} }

// Cut drops what was appended to o since m.
func (o *Out) Cut(m Mark) {
	clear(o.splice[m.n:])
	o.Buf, o.splice, o.size = o.Buf[:m.at], o.splice[:m.n], m.size
}

// Since returns the bytes appended to o since m, and false, with no bytes,
// if they include a byte string o refers to.
func (o *Out) Since(m Mark) ([]byte, bool) {
	if len(o.splice) > m.n {
		return nil, false
	}
	return o.Buf[m.at:], true
}

// Begin starts a frame of type t at the end of o; End finishes it.
func (o *Out) Begin(t Type) Mark {
	m := o.Mark()
	o.Buf = append(o.Buf, 0, 0, 0, 0, byte(t))
	return m
}

// End writes the length of the frame begun at m.
func (o *Out) End(m Mark) {
	binary.LittleEndian.PutUint32(o.Buf[m.at:], uint32(len(o.Buf)-m.at-4+o.size-m.size))
}

// appendBytes appends to buf, which is o.Buf or a longer version of it,
// the length-prefixed byte string of head followed by tail: tail, or head
// if tail is nil, is referred to if it is large, the rest copied.
func (o *Out) appendBytes(buf, head, tail []byte) []byte {
	if tail == nil {
		head, tail = nil, head
	}
	buf = append(AppendUvarint(buf, uint64(len(head)+len(tail))), head...)
	if len(tail) < SpliceAbove {
		return append(buf, tail...)
	}
	o.splice = append(o.splice, splice{len(buf), tail})
	o.size += len(tail)
	return buf
}

// appendJoined is appendBytes that copies: it appends the length-prefixed
// byte string of head followed by tail to buf.
func appendJoined(buf, head, tail []byte) []byte {
	return append(append(AppendUvarint(buf, uint64(len(head)+len(tail))), head...), tail...)
}

// Append appends the bytes of src to o, referring to the byte strings src
// refers to.
func (o *Out) Append(src *Out) {
	base := len(o.Buf)
	o.Buf = append(o.Buf, src.Buf...)
	for _, s := range src.splice {
		o.splice = append(o.splice, splice{base + s.at, s.b})
	}
	o.size += src.size
}

// Reset empties o. It keeps its buffer for the next bytes unless it grew
// past MaxKept, and forgets the byte strings it referred to.
func (o *Out) Reset() {
	clear(o.splice)
	o.Buf, o.splice, o.size = o.Buf[:0], o.splice[:0], 0
	if cap(o.Buf) > MaxKept {
		o.Buf = nil
	}
}

// WriteTo writes the bytes of o to w, in one write unless o refers to byte
// strings, each of which is written from where it is. It returns the bytes
// written and the first error.
func (o *Out) WriteTo(w io.Writer) (int64, error) {
	var total int64
	at := 0
	for _, s := range o.splice {
		for _, b := range [2][]byte{o.Buf[at:s.at], s.b} {
			n, err := w.Write(b)
			total += int64(n)
			if err != nil {
				return total, err
			}
		}
		at = s.at
	}
	n, err := w.Write(o.Buf[at:])
	return total + int64(n), err
}
