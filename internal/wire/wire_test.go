package wire

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sampleFrames() []byte {
	var buf []byte
	buf = AppendSetup(buf, Setup{Version: Version, Codec: "gob", Initializer: "pkg.init", TaskTimeout: 5e9})
	buf = AppendReady(buf, 1234)
	var b CallsBuilder
	b.Add(&Call{ID: 1, Group: 0, Flags: FlagArg, Func: "pkg.square", Arg: []byte{1, 2, 3}})
	b.Add(&Call{ID: 2, Group: 7, Flags: FlagArg | FlagCancelled, Func: "pkg.square", Arg: nil})
	b.Add(&Call{ID: 3, Func: "pkg.noarg"})
	b.Add(&Call{ID: 4, Group: 8, Flags: FlagArg | FlagDeadline, Func: "pkg.noarg", Arg: []byte{4}, Deadline: 1500})
	buf = append(buf, callsFrame(&b)...)
	buf = AppendCancel(buf, []uint64{7, 9})
	var recs []byte
	recs = AppendResult(recs, &Result{ID: 1, Kind: KindOK, Value: []byte("v")})
	recs = AppendResult(recs, &Result{ID: 2, Kind: KindError, Type: "*errors.errorString", Message: "bad", Stack: "s"})
	recs = AppendResult(recs, &Result{ID: 3, Kind: KindPanic, Message: "boom"})
	recs = AppendResult(recs, &Result{ID: 4, Kind: KindCancelled})
	recs = AppendResult(recs, &Result{ID: 5, Kind: KindError, Type: "*fmt.wrapError", Message: "w: x", Value: AppendErrTree(nil, sampleTree())})
	recs = AppendResult(recs, &Result{ID: 6, Kind: KindPanic, Message: "x", Value: AppendPanicValue(nil, PanicError, sampleTree(), "", nil)})
	recs = AppendResult(recs, &Result{ID: 7, Kind: KindPanic, Message: "42", Value: AppendPanicValue(nil, PanicValue, nil, "int", []byte{1, 84})})
	buf = AppendResults(buf, TResults, 7, recs)
	return AppendEmpty(buf, TAbort)
}

// callsFrame returns the TCalls frame of b's records, as written.
func callsFrame(b *CallsBuilder) []byte {
	var o Out
	b.AppendTo(&o)
	var w bytes.Buffer
	if _, err := o.WriteTo(&w); err != nil {
		panic(err)
	}
	return w.Bytes()
}

// parse decodes every frame of data as the receiving side would.
func parse(data []byte) error {
	r := NewReader(bytes.NewReader(data))
	for {
		t, body, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t {
		case TSetup:
			_, err = ParseSetup(body)
		case TReady:
			_, err = ParseReady(body)
		case TCalls:
			cr := ReadCalls(body)
			for cr.Next() {
			}
			err = cr.Err()
		case TCancel:
			_, err = ParseCancel(body)
		case TResults, TInitErr:
			err = ParseResults(body, func(*Result) bool { return true })
		case TAbort:
			if len(body) != 0 {
				err = malformed("abort with a body")
			}
		default:
			err = malformed("frame type %d", t)
		}
		if err != nil {
			return err
		}
	}
}

func TestRoundTrip(t *testing.T) {
	data := sampleFrames()
	r := NewReader(bytes.NewReader(data))
	typ, body, err := r.Read()
	if err != nil || typ != TSetup {
		t.Fatalf("first frame: %v %v", typ, err)
	}
	s, err := ParseSetup(body)
	if err != nil || s.Codec != "gob" || s.Initializer != "pkg.init" || s.TaskTimeout != 5e9 {
		t.Fatalf("setup: %+v %v", s, err)
	}
	if _, body, _ = r.Read(); true {
		if pid, err := ParseReady(body); pid != 1234 || err != nil {
			t.Fatalf("ready: %d %v", pid, err)
		}
	}
	_, body, _ = r.Read()
	var calls []Call
	var same []bool
	cr := ReadCalls(body)
	for cr.Next() {
		calls = append(calls, cr.Call)
		same = append(same, cr.SameFunc)
		if a := cr.Call.Arg; a != nil && !bytes.Equal(body[cr.ArgStart:cr.ArgStart+len(a)], a) {
			t.Errorf("call %d: ArgStart %d does not point at its argument", cr.Call.ID, cr.ArgStart)
		}
	}
	if err := cr.Err(); err != nil || cr.Len() != 4 {
		t.Fatalf("calls: %d records, %v", cr.Len(), err)
	}
	if !slices.Equal(same, []bool{false, true, false, true}) {
		t.Errorf("SameFunc %v, want [false true false true]", same)
	}
	want := []Call{
		{ID: 1, Flags: FlagArg, Func: "pkg.square", Arg: []byte{1, 2, 3}},
		{ID: 2, Group: 7, Flags: FlagArg | FlagCancelled, Func: "pkg.square", Arg: []byte{}},
		{ID: 3, Func: "pkg.noarg"},
		{ID: 4, Group: 8, Flags: FlagArg | FlagDeadline, Func: "pkg.noarg", Arg: []byte{4}, Deadline: 1500},
	}
	if len(calls) != len(want) {
		t.Fatalf("got %d calls", len(calls))
	}
	for i := range want {
		g, w := calls[i], want[i]
		if g.ID != w.ID || g.Group != w.Group || g.Flags != w.Flags || g.Func != w.Func || !bytes.Equal(g.Arg, w.Arg) || g.Deadline != w.Deadline {
			t.Errorf("call %d: got %+v, want %+v", i, g, w)
		}
	}
	_, body, _ = r.Read()
	if gs, err := ParseCancel(body); err != nil || len(gs) != 2 || gs[1] != 9 {
		t.Fatalf("cancel: %v %v", gs, err)
	}
	_, body, _ = r.Read()
	var kinds []byte
	if err := ParseResults(body, func(r *Result) bool { kinds = append(kinds, r.Kind); return true }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kinds, []byte{KindOK, KindError, KindPanic, KindCancelled, KindError, KindPanic, KindPanic}) {
		t.Fatalf("kinds %v", kinds)
	}
	if typ, _, err = r.Read(); typ != TAbort || err != nil {
		t.Fatalf("abort: %v %v", typ, err)
	}
	if _, _, err = r.Read(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestReadInto(t *testing.T) {
	var b CallsBuilder
	b.Add(&Call{ID: 1, Flags: FlagArg, Func: "pkg.f", Arg: bytes.Repeat([]byte{7}, 100)})
	small := callsFrame(&b)
	b.Add(&Call{ID: 2, Flags: FlagArg, Func: "pkg.f", Arg: bytes.Repeat([]byte{8}, 3<<20)})
	large := callsFrame(&b)
	for _, tc := range []struct {
		name   string
		frame  []byte
		buf    []byte
		shared bool // the body is in buf's array
	}{
		{"fits", small, make([]byte, 5, 1000), true},
		{"too small", small, make([]byte, 0, 10), false},
		{"no buffer", small, nil, false},
		{"large, fits", large, make([]byte, 0, 4<<20), true},
		{"large, too small", large, make([]byte, 0, 10), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, body, err := NewReader(bytes.NewReader(tc.frame)).ReadInto(tc.buf)
			if err != nil || typ != TCalls {
				t.Fatalf("got %v %v", typ, err)
			}
			if !bytes.Equal(body, tc.frame[5:]) {
				t.Fatal("the body differs from the frame's")
			}
			if shared := cap(tc.buf) > 0 && &body[:1][0] == &tc.buf[:1][0]; shared != tc.shared {
				t.Fatalf("body in the buffer's array: %v, want %v", shared, tc.shared)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	full := sampleFrames()
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"truncated header", full[:2], io.ErrUnexpectedEOF},
		{"truncated body", full[:10], io.ErrUnexpectedEOF},
		{"zero length", []byte{0, 0, 0, 0}, ErrFrame},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 1}, ErrFrame},
		{"lying length", []byte{0, 0, 0, 0x30, 1, 2, 3}, io.ErrUnexpectedEOF},
		{"count beyond body", AppendResults(nil, TResults, 1000, []byte{1, 0, 0}), ErrFrame},
		{"bad result kind", AppendResults(nil, TResults, 1, []byte{1, 99, 0}), ErrFrame},
		{"first call repeats a function", []byte{6, 0, 0, 0, byte(TCalls), 1, 1, 0, 0, 0}, ErrFrame},
		{"function name beyond body", []byte{6, 0, 0, 0, byte(TCalls), 1, 1, 0, 0, 9}, ErrFrame},
		{"leftover bytes", append(AppendReady(nil, 1)[:0:0], 3, 0, 0, 0, byte(TReady), 1, 1), ErrFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := parse(tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if err := parse(full); err != nil {
		t.Fatalf("well-formed input: %v", err)
	}
}

// FuzzFrames feeds garbled and truncated frames to every decoder: each must
// return an error or succeed, never panic, hang or allocate without bound.
func FuzzFrames(f *testing.F) {
	full := sampleFrames()
	f.Add(full)
	f.Add(full[:len(full)/2])
	f.Add([]byte{5, 0, 0, 0, byte(TCalls), 1, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0x3f, byte(TResults)})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parse(data)
	})
}

func TestAddRunIsAddForEachCall(t *testing.T) {
	args := [][]byte{{1}, {}, {2, 3}, bytes.Repeat([]byte{4}, 300)}
	for _, tc := range []struct {
		name string
		c    Call
		prev string // the function of a record added before, if any
	}{
		{"with arguments", Call{ID: 127, Group: 300, Flags: FlagArg, Func: "pkg.f"}, ""},
		{"without", Call{ID: 1 << 40, Flags: FlagCancelled, Func: "pkg.g"}, ""},
		{"with a deadline", Call{ID: 5, Group: 2, Flags: FlagArg | FlagDeadline, Func: "pkg.f", Deadline: 1 << 35}, ""},
		{"after the same function", Call{ID: 9, Group: 1, Flags: FlagArg, Func: "pkg.f"}, "pkg.f"},
		{"after another", Call{ID: 9, Group: 1, Flags: FlagArg, Func: "pkg.f"}, "pkg.h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var one, run CallsBuilder
			if tc.prev != "" {
				one.Add(&Call{ID: 1, Func: tc.prev})
				run.Add(&Call{ID: 1, Func: tc.prev})
			}
			for i := range args {
				c := tc.c
				c.ID += uint64(i)
				if c.Flags&FlagArg != 0 {
					c.Arg = args[i]
				}
				one.Add(&c)
			}
			run.AddRun(&tc.c, len(args), func(i int) []byte { return args[i] })
			if run.Len() != one.Len() {
				t.Fatalf("Len = %d, want %d", run.Len(), one.Len())
			}
			if got, want := callsFrame(&run), callsFrame(&one); !bytes.Equal(got, want) {
				t.Fatalf("AddRun wrote\n% x\nwant\n% x", got, want)
			}
		})
	}
}

func TestCallsBuilderDropsALargeBuffer(t *testing.T) {
	var b CallsBuilder
	for i := range 2 * MaxKept / (SpliceAbove / 2) {
		b.Add(&Call{ID: uint64(i), Flags: FlagArg, Func: "pkg.f", Arg: make([]byte, SpliceAbove/2)})
	}
	callsFrame(&b)
	if cap(b.out.Buf) > MaxKept {
		t.Fatalf("the builder keeps %d bytes after large records", cap(b.out.Buf))
	}
	b.Add(&Call{ID: 2, Flags: FlagArg, Func: "pkg.f", Arg: make([]byte, 100)})
	callsFrame(&b)
	if kept := cap(b.out.Buf); kept == 0 || kept > MaxKept {
		t.Fatalf("the builder keeps %d bytes after a small argument, want its buffer", kept)
	}
}

// A large argument is written from where it is, not copied into the
// frame's buffer, and the builder forgets it once the frame is made.
func TestCallsBuilderRefersToALargeArgument(t *testing.T) {
	arg := bytes.Repeat([]byte{5}, 3*SpliceAbove)
	var b CallsBuilder
	b.Add(&Call{ID: 1, Flags: FlagArg, Func: "pkg.f", Arg: []byte{1}})
	b.Add(&Call{ID: 2, Flags: FlagArg, Func: "pkg.f", Arg: arg})
	b.Add(&Call{ID: 3, Flags: FlagArg, Func: "pkg.f", Arg: []byte{3}})
	if n := len(b.out.Buf); n >= SpliceAbove {
		t.Fatalf("the records take %d bytes of the buffer", n)
	}
	var o Out
	b.AppendTo(&o)
	if b.out.Len() != len(b.out.Buf) || slices.ContainsFunc(b.out.splice[:cap(b.out.splice)], func(s splice) bool { return s.b != nil }) {
		t.Fatal("the builder still refers to the argument")
	}
	var w bytes.Buffer
	if _, err := o.WriteTo(&w); err != nil || w.Len() != o.Len() {
		t.Fatalf("wrote %d bytes of %d: %v", w.Len(), o.Len(), err)
	}
	_, body, err := NewReader(&w).Read()
	if err != nil {
		t.Fatal(err)
	}
	cr := ReadCalls(body)
	var args [][]byte
	for cr.Next() {
		args = append(args, cr.Call.Arg)
	}
	if err := cr.Err(); err != nil || len(args) != 3 || !bytes.Equal(args[1], arg) || args[2][0] != 3 {
		t.Fatalf("read %d calls back: %v", len(args), err)
	}
}

// TestArgTailIsOneArgument: an argument given as Arg and ArgTail reads back
// as one, whether ArgTail is referred to (large) or copied (short), and a
// large ArgTail is not copied into the buffer.
func TestArgTailIsOneArgument(t *testing.T) {
	for _, n := range []int{0, 10, SpliceAbove - 1, SpliceAbove, 3 * SpliceAbove} {
		tail := bytes.Repeat([]byte{7}, n)
		var b CallsBuilder
		b.Add(&Call{ID: 1, Flags: FlagArg, Func: "pkg.f", Arg: []byte{1}})
		b.Add(&Call{ID: 2, Flags: FlagArg | FlagDeadline, Func: "pkg.f", Arg: []byte{9, 8}, ArgTail: tail, Deadline: 5})
		b.Add(&Call{ID: 3, Flags: FlagArg, Func: "pkg.f", Arg: []byte{3}})
		if n >= SpliceAbove && len(b.out.Buf) >= SpliceAbove {
			t.Fatalf("tail of %d bytes: the records take %d bytes of the buffer", n, len(b.out.Buf))
		}
		var w bytes.Buffer
		var o Out
		b.AppendTo(&o)
		if _, err := o.WriteTo(&w); err != nil {
			t.Fatal(err)
		}
		_, body, err := NewReader(&w).Read()
		if err != nil {
			t.Fatal(err)
		}
		cr := ReadCalls(body)
		var calls []Call
		for cr.Next() {
			c := cr.Call
			c.Arg = bytes.Clone(c.Arg)
			calls = append(calls, c)
		}
		want := append([]byte{9, 8}, tail...)
		if err := cr.Err(); err != nil || len(calls) != 3 || !bytes.Equal(calls[1].Arg, want) || calls[1].Deadline != 5 || calls[1].ArgTail != nil || calls[2].Arg[0] != 3 {
			t.Fatalf("tail of %d bytes: read %d calls back: %v", n, len(calls), err)
		}
	}
}

// TestValueTailIsOneValue: a result given as Value and ValueTail reads back
// as one value, from an Out (which refers to a large tail) and from
// AppendResult (which copies it).
func TestValueTailIsOneValue(t *testing.T) {
	for _, n := range []int{0, 10, SpliceAbove, 3 * SpliceAbove} {
		tail := bytes.Repeat([]byte{7}, n)
		r := Result{ID: 4, Kind: KindOK, Value: []byte{2}, ValueTail: tail}
		want := append([]byte{2}, tail...)
		var o Out
		o.AppendResult(&Result{ID: 3, Kind: KindOK, Value: []byte{1}})
		o.AppendResult(&r)
		if n >= SpliceAbove && len(o.Buf) >= SpliceAbove {
			t.Fatalf("tail of %d bytes: the records take %d bytes of the buffer", n, len(o.Buf))
		}
		var w bytes.Buffer
		if _, err := o.WriteTo(&w); err != nil {
			t.Fatal(err)
		}
		for _, body := range [][]byte{w.Bytes(), AppendResult(AppendResult(nil, &Result{ID: 3, Kind: KindOK, Value: []byte{1}}), &r)} {
			var got []Result
			err := ParseResults(append(AppendUvarint(nil, 2), body...), func(r *Result) bool {
				c := *r
				c.Value = bytes.Clone(c.Value)
				got = append(got, c)
				return true
			})
			if err != nil || len(got) != 2 || !bytes.Equal(got[1].Value, want) || got[1].ValueTail != nil || got[1].ID != 4 {
				t.Fatalf("tail of %d bytes: read %d results back: %v", n, len(got), err)
			}
		}
	}
}

// A record carries a deadline only with FlagDeadline, after everything else,
// so that a record without one has the bytes it always had.
func TestCallRecordBytes(t *testing.T) {
	for _, tc := range []struct {
		c    Call
		want []byte
	}{
		{Call{ID: 1, Group: 2, Flags: FlagArg, Func: "f", Arg: []byte{9}}, []byte{1, 2, FlagArg, 2, 'f', 1, 9}},
		{Call{ID: 1, Flags: FlagCancelled, Func: "f"}, []byte{1, 0, FlagCancelled, 2, 'f'}},
		{Call{ID: 1, Group: 2, Flags: FlagArg | FlagDeadline, Func: "f", Arg: []byte{9}, Deadline: 300}, []byte{1, 2, FlagArg | FlagDeadline, 2, 'f', 1, 9, 0xac, 0x02}},
	} {
		var b CallsBuilder
		b.Add(&tc.c)
		if !bytes.Equal(b.out.Buf, tc.want) {
			t.Errorf("%+v: record % x, want % x", tc.c, b.out.Buf, tc.want)
		}
	}
}

// A large frame is read into one buffer of its size, allocated once its
// first MiB has arrived, not into a buffer that grows.
func TestReadLargeFrameAllocatesItOnce(t *testing.T) {
	const size = 16 << 20
	var b CallsBuilder
	b.Add(&Call{ID: 1, Flags: FlagArg, Func: "pkg.f", Arg: make([]byte, size)})
	frame := callsFrame(&b)
	r := NewReader(bytes.NewReader(frame))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, body, err := r.ReadInto(nil)
	runtime.ReadMemStats(&after)
	if err != nil || len(body) != len(frame)-5 {
		t.Fatalf("read %d bytes of %d: %v", len(body), len(frame)-5, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size+2<<20 {
		t.Fatalf("reading a frame of %d bytes allocated %d", len(body), got)
	}
}

// Frame gives the bytes WriteTo writes, in one slice.
func TestCallsBuilderFrame(t *testing.T) {
	for _, size := range []int{10, 3 * SpliceAbove} {
		var one, other CallsBuilder
		for _, b := range []*CallsBuilder{&one, &other} {
			b.Add(&Call{ID: 1, Flags: FlagArg, Func: "pkg.f", Arg: bytes.Repeat([]byte{5}, size)})
			b.Add(&Call{ID: 2, Flags: FlagArg, Func: "pkg.f", Arg: []byte{6}})
		}
		if got, want := one.Frame(), callsFrame(&other); !bytes.Equal(got, want) {
			t.Errorf("an argument of %d bytes: Frame gives %d bytes, WriteTo %d", size, len(got), len(want))
		}
	}
}
