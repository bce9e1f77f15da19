package wire

import "encoding/binary"

// Setup is the first frame a pool sends to a new worker.
type Setup struct {
	Version     uint64
	Codec       string // Codec.Name() of the pool's codec
	Initializer string // registered name, or empty
	TaskTimeout int64  // nanoseconds; 0 for none
}

// AppendSetup appends a TSetup frame.
func AppendSetup(buf []byte, s Setup) []byte {
	buf, at := Begin(buf, TSetup)
	buf = AppendUvarint(buf, s.Version)
	buf = AppendString(buf, s.Codec)
	buf = AppendString(buf, s.Initializer)
	buf = AppendUvarint(buf, uint64(s.TaskTimeout))
	return End(buf, at)
}

// ParseSetup decodes the body of a TSetup frame.
func ParseSetup(body []byte) (Setup, error) {
	d := NewDecoder(body)
	s := Setup{Version: d.Uvarint(), Codec: d.String(), Initializer: d.String(), TaskTimeout: int64(d.Uvarint())}
	if s.TaskTimeout < 0 {
		return s, malformed("negative timeout")
	}
	return s, d.Finish()
}

// Call flags.
const (
	FlagArg       = 1 << iota // the call has an argument
	FlagCancelled             // the call's context is cancelled already
	FlagDeadline              // the call's group has a deadline: the record ends with Deadline
)

// Call is one call in a TCalls frame.
type Call struct {
	ID    uint64
	Group uint64 // context group; 0: the worker's own context
	Flags byte
	Func  string // registered name
	Arg   []byte // encoded argument, with FlagArg
	// ArgTail, if not nil, is the rest of the encoded argument, after Arg:
	// Add writes them as one argument, referring to ArgTail if it is large.
	// CallReader never sets it.
	ArgTail []byte
	// Deadline, with FlagDeadline, is how many nanoseconds were left until
	// the deadline of the group's context when the record was written: the
	// worker's context for the group ends that long after it reads the
	// record. A record without the flag has no such field.
	Deadline uint64
}

// Bounds of the size of a TCalls frame: the frame header and the record
// count, then for each record the function name and the argument plus at
// most CallOverhead bytes.
const (
	CallsOverhead = 5 + binary.MaxVarintLen64
	CallOverhead  = 5*binary.MaxVarintLen64 + 1
)

// CallsBuilder accumulates the records of a TCalls frame.
type CallsBuilder struct {
	out Out // the records; a large argument is referred to, not copied
	n   int
	fn  string // the previous record's function
}

// Add appends a call record. A function name equal to the previous record's
// is sent once. An argument of SpliceAbove bytes or more (its ArgTail
// instead, if it has one) is not copied: it must not change until the
// frame is written.
func (b *CallsBuilder) Add(c *Call) {
	// b.out.Buf is stored once, at the end: each store of a slice into the
	// heap may cost a write barrier.
	buf := AppendUvarint(b.out.Buf, c.ID)
	buf = AppendUvarint(buf, c.Group)
	buf = append(buf, c.Flags)
	if b.n > 0 && c.Func == b.fn {
		buf = append(buf, 0)
	} else {
		buf = AppendUvarint(buf, uint64(len(c.Func))+1)
		buf = append(buf, c.Func...)
		b.fn = c.Func
	}
	if c.Flags&FlagArg != 0 {
		buf = b.out.appendBytes(buf, c.Arg, c.ArgTail)
	}
	if c.Flags&FlagDeadline != 0 {
		buf = AppendUvarint(buf, c.Deadline)
	}
	b.out.Buf = buf
	b.n++
}

// AddRun appends n call records with the ids c.ID, c.ID+1, ... that share
// c's group, flags, function and deadline; arg(i) is the argument of the
// i-th, with FlagArg. It is n calls of Add, cheaper.
func (b *CallsBuilder) AddRun(c *Call, n int, arg func(i int) []byte) {
	if n == 0 {
		return
	}
	first := *c
	if c.Flags&FlagArg != 0 {
		first.Arg = arg(0)
	}
	b.Add(&first) // names the function, unless the previous record did
	var same [binary.MaxVarintLen64 + 2]byte
	rest := append(AppendUvarint(same[:0], c.Group), c.Flags, 0)
	buf := b.out.Buf
	for i := 1; i < n; i++ {
		buf = append(AppendUvarint(buf, c.ID+uint64(i)), rest...)
		if c.Flags&FlagArg != 0 {
			buf = b.out.appendBytes(buf, arg(i), nil)
		}
		if c.Flags&FlagDeadline != 0 {
			buf = AppendUvarint(buf, c.Deadline)
		}
	}
	b.out.Buf = buf
	b.n += n - 1
}

// Len returns the number of records added.
func (b *CallsBuilder) Len() int { return b.n }

// AppendTo appends the TCalls frame to o and empties b, which keeps its
// buffer for the next records unless it grew past MaxKept. o refers to the
// large arguments b referred to.
func (b *CallsBuilder) AppendTo(o *Out) {
	m := o.Begin(TCalls)
	o.Buf = AppendUvarint(o.Buf, uint64(b.n))
	o.Append(&b.out)
	o.End(m)
	b.out.Reset()
	b.n = 0
}

// Frame returns the TCalls frame in one new byte slice, the arguments b
// refers to copied in, and empties b as AppendTo does: for a transport
// that sends each frame as one message.
func (b *CallsBuilder) Frame() []byte {
	o := Out{Buf: make([]byte, 0, CallsOverhead+len(b.out.Buf))}
	b.AppendTo(&o)
	if len(o.splice) == 0 {
		return o.Buf
	}
	buf := make([]byte, 0, o.Len())
	at := 0
	for _, s := range o.splice {
		buf = append(append(buf, o.Buf[at:s.at]...), s.b...)
		at = s.at
	}
	return append(buf, o.Buf[at:]...)
}

// CallReader decodes the records of a TCalls frame body one at a time.
type CallReader struct {
	// Call is the record read by the last successful Next; Call.Arg
	// aliases the body, and Call.Func is the same string as the previous
	// record's when SameFunc is set.
	Call     Call
	SameFunc bool // the record repeats the previous record's function
	ArgStart int  // the offset of Call.Arg in the body
	d        Decoder
	n, i     int
}

// ReadCalls returns a CallReader over body, the body of a TCalls frame.
func ReadCalls(body []byte) CallReader {
	r := CallReader{d: Decoder{b: body}}
	r.n = r.d.Count(4)
	return r
}

// Len returns the number of records the frame announces, at most one per 4
// bytes of body.
func (r *CallReader) Len() int { return r.n }

// Next reads the next record into r.Call. It returns false at the end of
// the records or at the first malformed one; Err then says which.
func (r *CallReader) Next() bool {
	d := &r.d
	if r.i >= r.n || d.Err != nil {
		return false
	}
	c := &r.Call
	c.ID = d.Uvarint()
	c.Group = d.Uvarint()
	c.Flags = d.Byte()
	k := d.Uvarint()
	r.SameFunc = k == 0
	switch {
	case d.Err != nil:
	case k == 0 && r.i == 0:
		d.fail("first call refers to a previous function")
	case k == 0:
	case k-1 > uint64(d.left()):
		d.fail("function name of %d bytes", k-1)
	default:
		c.Func = string(d.take(int(k - 1)))
	}
	c.Arg = nil
	if c.Flags&FlagArg != 0 {
		c.Arg = d.Bytes()
		r.ArgStart = d.i - len(c.Arg)
	}
	c.Deadline = 0
	if c.Flags&FlagDeadline != 0 {
		c.Deadline = d.Uvarint()
	}
	r.i++
	return d.Err == nil
}

// Err, called once Next returned false, returns the malformed record's
// error, an error if bytes follow the last record, or nil.
func (r *CallReader) Err() error { return r.d.Finish() }

// AppendCancel appends a TCancel frame for the given groups.
func AppendCancel(buf []byte, groups []uint64) []byte {
	buf, at := Begin(buf, TCancel)
	buf = AppendUvarint(buf, uint64(len(groups)))
	for _, g := range groups {
		buf = AppendUvarint(buf, g)
	}
	return End(buf, at)
}

// ParseCancel decodes the body of a TCancel frame.
func ParseCancel(body []byte) ([]uint64, error) {
	d := NewDecoder(body)
	n := d.Count(1)
	gs := make([]uint64, 0, n)
	for i := 0; i < n && d.Err == nil; i++ {
		gs = append(gs, d.Uvarint())
	}
	return gs, d.Finish()
}

// AppendTypes appends a TTypes frame holding defs, gob type definition
// messages from a value.Types log.
func AppendTypes(buf, defs []byte) []byte {
	buf, at := Begin(buf, TTypes)
	return End(append(buf, defs...), at)
}

// AppendEmpty appends a frame of type t with no body, such as TAbort.
func AppendEmpty(buf []byte, t Type) []byte {
	buf, at := Begin(buf, t)
	return End(buf, at)
}

// AppendReady appends a TReady frame.
func AppendReady(buf []byte, pid int) []byte {
	buf, at := Begin(buf, TReady)
	buf = AppendUvarint(buf, uint64(pid))
	return End(buf, at)
}

// ParseReady decodes the body of a TReady frame.
func ParseReady(body []byte) (int, error) {
	d := NewDecoder(body)
	pid := d.Uvarint()
	if d.Err == nil && pid > 1<<31 {
		return 0, malformed("pid %d", pid)
	}
	return int(pid), d.Finish()
}

// Result kinds.
const (
	KindOK        byte = iota // Value holds the encoded result
	KindError                 // the call returned an error: Type, Message, Stack, Value
	KindPanic                 // the call panicked: Message is the value as text, Stack, Value
	KindFail                  // the worker could not make the call: Message
	KindTimeout               // the call overran TaskTimeout: Message
	KindCancelled             // the call's context had ended when its turn came: it was not invoked
	kindEnd
)

// Result is the outcome of one call.
type Result struct {
	ID   uint64
	Kind byte
	// Value is, for KindOK, the encoded result; for KindError, the
	// error's tree (AppendErrTree) or nothing; for KindPanic, the panic
	// value (AppendPanicValue) or nothing.
	Value []byte
	// ValueTail, if not nil, is the rest of a KindOK Value, after it: the
	// records refer to it if it is large instead of copying it.
	// ParseResults never sets it.
	ValueTail []byte
	Type      string // KindError
	Message   string
	Stack     string
}

// Kinds of the Value of a KindPanic result, its first byte.
const (
	PanicError byte = 1 + iota // an error tree follows
	PanicValue                 // the type of the value (a string), then the value encoded by the codec
)

// AppendPanicValue appends the Value of a KindPanic result: kind, then for
// PanicError the tree rooted at n, for PanicValue typ and the encoded val.
func AppendPanicValue(buf []byte, kind byte, n *ErrNode, typ string, val []byte) []byte {
	buf = append(buf, kind)
	if kind == PanicError {
		return AppendErrTree(buf, n)
	}
	return append(AppendString(buf, typ), val...)
}

// ParsePanicValue decodes the Value of a KindPanic result: for PanicError
// the tree, for PanicValue the type and the encoded value (which aliases
// b).
func ParsePanicValue(b []byte) (kind byte, n *ErrNode, typ string, val []byte, err error) {
	d := NewDecoder(b)
	switch kind = d.Byte(); {
	case d.Err != nil:
	case kind == PanicError:
		n, err = ParseErrTree(b[1:])
		return kind, n, "", nil, err
	case kind == PanicValue:
		typ = d.String()
		val = d.take(d.left())
	default:
		d.fail("panic value kind %d", kind)
	}
	return kind, nil, typ, val, d.Finish()
}

// checkPanicValue reports whether b is a well-formed panic value.
func checkPanicValue(b []byte) error {
	if len(b) > 0 && b[0] == PanicError {
		return checkErrTree(b[1:])
	}
	_, _, _, _, err := ParsePanicValue(b)
	return err
}

// AppendResult appends r's record (not a frame) to buf.
func AppendResult(buf []byte, r *Result) []byte { return appendResult(buf, r, appendJoined) }

// AppendResult appends r's record (not a frame) to o. A Value of
// SpliceAbove bytes or more (its ValueTail instead, if it has one) is not
// copied: it must not change until o is written or reset.
func (o *Out) AppendResult(r *Result) { o.Buf = appendResult(o.Buf, r, o.appendBytes) }

// appendResult appends r's record to buf, the Value of a KindOK one (and
// its ValueTail) with appendValue.
func appendResult(buf []byte, r *Result, appendValue func(buf, head, tail []byte) []byte) []byte {
	buf = AppendUvarint(buf, r.ID)
	buf = append(buf, r.Kind)
	if r.Kind == KindOK {
		return appendValue(buf, r.Value, r.ValueTail)
	}
	buf = AppendString(buf, r.Type)
	buf = AppendString(buf, r.Message)
	buf = AppendString(buf, r.Stack)
	if r.Kind == KindError || r.Kind == KindPanic {
		buf = AppendBytes(buf, r.Value)
	}
	return buf
}

// AppendResults appends a frame of type t (TResults or TInitErr) holding n
// records, already encoded with AppendResult in recs.
func AppendResults(buf []byte, t Type, n int, recs []byte) []byte {
	buf, at := Begin(buf, t)
	buf = AppendUvarint(buf, uint64(n))
	buf = append(buf, recs...)
	return End(buf, at)
}

// checkValue checks v, the Value of a KindError or KindPanic record that d
// has read: it returns v, or nil after failing d if v is malformed.
func checkValue(d *Decoder, kind byte, v []byte) []byte {
	if d.Err != nil || len(v) == 0 {
		return v
	}
	check := checkErrTree
	if kind == KindPanic {
		check = checkPanicValue
	}
	if err := check(v); err != nil {
		d.Err, d.i = err, len(d.b)
		return nil
	}
	return v
}

// ParseResults decodes the body of a TResults or TInitErr frame, calling fn
// for each record; r.Value aliases body. It stops at the first malformed
// record or when fn returns false.
func ParseResults(body []byte, fn func(r *Result) bool) error {
	d := NewDecoder(body)
	n := d.Count(3)
	var r Result
	for i := 0; i < n && d.Err == nil; i++ {
		r = Result{ID: d.Uvarint(), Kind: d.Byte()}
		switch {
		case d.Err != nil:
		case r.Kind >= kindEnd:
			d.fail("result kind %d", r.Kind)
		case r.Kind == KindOK:
			r.Value = d.Bytes()
		default:
			r.Type, r.Message, r.Stack = d.String(), d.String(), d.String()
			if r.Kind == KindError || r.Kind == KindPanic {
				r.Value = checkValue(d, r.Kind, d.Bytes())
			}
		}
		if d.Err == nil && !fn(&r) {
			return nil
		}
	}
	return d.Finish()
}
