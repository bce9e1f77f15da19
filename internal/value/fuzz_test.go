package value

import (
	"math"
	"reflect"
	"testing"
)

// FuzzFastValues checks that the fast paths of both ends agree with the
// general ones: what AppendOf writes decodes back through DecodeFast and
// Decode alike, and DecodeFast, given any bytes, either declines or
// decodes what Decode decodes.
func FuzzFastValues(f *testing.F) {
	f.Add(int64(7), "x", []byte{tagInt, 2})
	f.Add(int64(-1<<63), "", []byte{tagString, 'a'})
	f.Add(int64(1<<62), "\xff", []byte{tagInt, 0x80})
	f.Fuzz(func(t *testing.T, n int64, s string, raw []byte) {
		for _, c := range []Codec{Gob, JSON} {
			in := int(n)
			data, err := AppendOf(nil, c, &in)
			if err != nil {
				t.Fatal(err)
			}
			var got int
			if !DecodeFast(c, data, &got) || got != int(n) {
				t.Fatalf("%s: int %d: DecodeFast gave %d", c.Name(), n, got)
			}
			if data, err = AppendOf(nil, c, &s); err != nil {
				t.Fatal(err)
			}
			var str string
			if !DecodeFast(c, data, &str) || str != s {
				t.Fatalf("%s: string %q: DecodeFast gave %q", c.Name(), s, str)
			}

			var fastInt, slowInt int
			if DecodeFast(c, raw, &fastInt) {
				if err := Decode(c, raw, &slowInt); err != nil || slowInt != fastInt {
					t.Fatalf("%s: % x: DecodeFast gave %d, Decode %d, %v", c.Name(), raw, fastInt, slowInt, err)
				}
			}
			var fastStr, slowStr string
			if DecodeFast(c, raw, &fastStr) {
				if err := Decode(c, raw, &slowStr); err != nil || slowStr != fastStr {
					t.Fatalf("%s: % x: DecodeFast gave %q, Decode %q, %v", c.Name(), raw, fastStr, slowStr, err)
				}
			}
		}
		var other struct{ X int }
		if DecodeFast(Gob, raw, &other) {
			t.Fatal("DecodeFast decoded a struct")
		}
	})
}

// fuzzRecord is a value with the kinds of fields arguments carry.
type fuzzRecord struct {
	N     int64
	F     float64
	S     string
	B     []byte
	Tags  map[string]int
	Inner struct{ OK bool }
}

// FuzzCodecRoundTrip encodes and decodes arbitrary values with both codecs:
// what comes back equals what went in.
func FuzzCodecRoundTrip(f *testing.F) {
	f.Add(int64(1), 2.5, "x", []byte{0, 1}, true)
	f.Add(int64(math.MinInt64), math.MaxFloat64, "\xff\xfe", []byte(nil), false)
	f.Fuzz(func(t *testing.T, n int64, x float64, s string, b []byte, ok bool) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0 // not representable in JSON; NaN never equals itself
		}
		in := fuzzRecord{N: n, F: x, S: s, B: b, Tags: map[string]int{s: int(n % 1000)}}
		in.Inner.OK = ok
		for _, c := range []Codec{Gob, JSON} {
			data, err := c.Marshal(in)
			if err != nil {
				if c == JSON {
					continue // strings that are not UTF-8 are coerced, not refused
				}
				t.Fatalf("%s: Marshal: %v", c.Name(), err)
			}
			var out fuzzRecord
			if err := c.Unmarshal(data, &out); err != nil {
				t.Fatalf("%s: Unmarshal: %v", c.Name(), err)
			}
			want := in
			if c == JSON {
				want.S, want.Tags = out.S, out.Tags // JSON replaces invalid UTF-8
			}
			if len(want.B) == 0 {
				want.B = out.B // nil and empty are one value on the wire
			}
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("%s: round trip changed the value:\n in  %#v\n out %#v", c.Name(), in, out)
			}
		}
	})
}
