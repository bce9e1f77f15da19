// Package wire is the protocol between a ProcessPool and its worker
// processes: length-prefixed frames over a pair of pipes, and the messages
// they carry. Every decoder here treats its input as untrusted: garbled or
// truncated input is an error, never a panic, a hang or a huge allocation
// (a frame's buffer, at most MaxFrame, is allocated whole only once the
// first MiB of its bytes has arrived).
//
// A frame is a 4-byte little-endian length n, then n bytes: one type byte and
// the message. Messages are built from unsigned varints, bytes and
// length-prefixed byte strings.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version; parent and worker check that they agree.
const Version = 2

// MaxFrame is the largest frame accepted, type byte included. It is a
// variable so that tests can lower it.
var MaxFrame = 1 << 30

// MaxKept is the largest buffer either side keeps to build or read the next
// frame in: a larger one, left by a large argument or result, is dropped.
const MaxKept = 1 << 20

// Type says what a frame carries.
type Type byte

// Frame types. P→W frames go from the pool to a worker, W→P the other way.
const (
	TSetup   Type = iota + 1 // P→W, first frame: Setup
	TReady                   // W→P: the worker is ready: Ready
	TInitErr                 // W→P: setup or the Initializer failed: one Result record
	TCalls                   // P→W: calls to run, in order: Call records
	TCancel                  // P→W: cancel the context of groups: count, group ids
	TAbort                   // P→W: cancel everything and exit now; empty
	TResults                 // W→P: outcomes, in the order of the calls: Result records
	TTypes                   // both ways, with Gob: type definitions the values after it refer to: gob messages
)

// ErrFrame is matched by every error about malformed input.
var ErrFrame = errors.New("futures: malformed frame from the other process")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, args...))
}

// Reader reads frames.
type Reader struct {
	r   *bufio.Reader
	hdr [4]byte
}

// NewReader returns a Reader reading frames from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// Read returns the next frame's type and body. The body is newly allocated
// and stays valid. At a clean end of input it returns io.EOF; a frame cut
// short returns io.ErrUnexpectedEOF.
func (r *Reader) Read() (Type, []byte, error) { return r.ReadInto(nil) }

// ReadInto is Read with the body read into buf's array if it fits there,
// else into a newly allocated one.
func (r *Reader) ReadInto(buf []byte) (Type, []byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(r.hdr[:])
	if n == 0 || uint64(n) > uint64(MaxFrame) {
		return 0, nil, malformed("frame length %d", n)
	}
	t, err := r.r.ReadByte()
	if err != nil {
		return 0, nil, unexpected(err)
	}
	body, err := readN(r.r, int(n-1), buf[:0])
	if err != nil {
		return 0, nil, unexpected(err)
	}
	return Type(t), body, nil
}

// readN reads n bytes into b's array if they fit, else into a new array.
// An array of more than a step is allocated whole only once a step of the
// bytes has arrived, so that a lying length costs memory only when a step
// of the frame came, and the bytes are read where they stay, not into
// buffers that grow and are copied.
func readN(r io.Reader, n int, b []byte) ([]byte, error) {
	const step = 1 << 20
	if n <= cap(b) || n <= step {
		if n > cap(b) {
			b = make([]byte, n)
		}
		b = b[:n]
		_, err := io.ReadFull(r, b)
		return b, err
	}
	first := b[:0]
	if cap(first) < step {
		first = make([]byte, 0, step)
	}
	first = first[:step]
	if _, err := io.ReadFull(r, first); err != nil {
		return nil, err
	}
	b = make([]byte, n)
	copy(b, first)
	_, err := io.ReadFull(r, b[step:])
	return b, err
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Begin starts a frame of type t at the end of buf; End finishes it.
func Begin(buf []byte, t Type) ([]byte, int) {
	at := len(buf)
	return append(buf, 0, 0, 0, 0, byte(t)), at
}

// End writes the length of the frame begun at offset at.
func End(buf []byte, at int) []byte {
	binary.LittleEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	return buf
}

// AppendUvarint appends v.
func AppendUvarint(buf []byte, v uint64) []byte { return binary.AppendUvarint(buf, v) }

// AppendBytes appends a length-prefixed byte string.
func AppendBytes(buf, b []byte) []byte {
	return append(binary.AppendUvarint(buf, uint64(len(b))), b...)
}

// AppendString appends a length-prefixed string.
func AppendString(buf []byte, s string) []byte {
	return append(binary.AppendUvarint(buf, uint64(len(s))), s...)
}

// Decoder reads the fields of a message body. The first malformed field sets
// Err; later reads return zero values.
type Decoder struct {
	b   []byte
	i   int // the next byte to read; len(b) once Err is set
	Err error
}

// NewDecoder returns a Decoder over body.
func NewDecoder(body []byte) *Decoder { return &Decoder{b: body} }

// left returns the number of bytes not read yet.
func (d *Decoder) left() int { return len(d.b) - d.i }

// fail records the first error; the rest of the body is not read.
func (d *Decoder) fail(format string, args ...any) {
	if d.Err == nil {
		d.Err = malformed(format, args...)
	}
	d.i = len(d.b)
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if i := d.i; i < len(d.b) && d.b[i] < 0x80 { // one byte, as most are
		d.i++
		return uint64(d.b[i])
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.i += n
	return v
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if i := d.i; i < len(d.b) {
		d.i++
		return d.b[i]
	}
	d.cutShort()
	return 0
}

// cutShort records that the message ended before a field.
func (d *Decoder) cutShort() { d.fail("message cut short") }

// Bytes reads a length-prefixed byte string; the result aliases the body.
func (d *Decoder) Bytes() []byte {
	n := d.Uvarint()
	if d.Err != nil {
		return nil
	}
	if n > uint64(d.left()) {
		d.fail("byte string of %d bytes with %d left", n, d.left())
		return nil
	}
	return d.take(int(n))
}

// take returns the next n bytes, which the caller checked are there.
func (d *Decoder) take(n int) []byte {
	b := d.b[d.i : d.i+n : d.i+n]
	d.i += n
	return b
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.Bytes()) }

// Count reads a record count and checks it against what is left, each
// record taking at least min bytes.
func (d *Decoder) Count(min int) int {
	n := d.Uvarint()
	if d.Err == nil && n > uint64(d.left()/min) {
		d.fail("%d records in %d bytes", n, d.left())
		return 0
	}
	return int(n)
}

// Finish returns Err, or an error if bytes are left over.
func (d *Decoder) Finish() error {
	if d.Err == nil && d.left() > 0 {
		d.fail("%d bytes left over", d.left())
	}
	return d.Err
}
