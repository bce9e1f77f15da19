package futures

import (
	"testing"
)

// FuzzFastValues checks that the fast paths of both ends agree with the
// general ones: what appendArgOf writes decodes back through decodeFast and
// decodeValue alike, and decodeFast, given any bytes, either declines or
// decodes what decodeValue decodes.
func FuzzFastValues(f *testing.F) {
	f.Add(int64(7), "x", []byte{tagInt, 2})
	f.Add(int64(-1<<63), "", []byte{tagString, 'a'})
	f.Add(int64(1<<62), "\xff", []byte{tagInt, 0x80})
	f.Fuzz(func(t *testing.T, n int64, s string, raw []byte) {
		for _, c := range []Codec{Gob, JSON} {
			in := int(n)
			data, err := appendArgOf(nil, c, &in)
			if err != nil {
				t.Fatal(err)
			}
			var got int
			if !decodeFast(c, data, &got) || got != int(n) {
				t.Fatalf("%s: int %d: decodeFast gave %d", c.Name(), n, got)
			}
			if data, err = appendArgOf(nil, c, &s); err != nil {
				t.Fatal(err)
			}
			var str string
			if !decodeFast(c, data, &str) || str != s {
				t.Fatalf("%s: string %q: decodeFast gave %q", c.Name(), s, str)
			}

			var fastInt, slowInt int
			if decodeFast(c, raw, &fastInt) {
				if err := decodeValue(c, raw, &slowInt); err != nil || slowInt != fastInt {
					t.Fatalf("%s: % x: decodeFast gave %d, decodeValue %d, %v", c.Name(), raw, fastInt, slowInt, err)
				}
			}
			var fastStr, slowStr string
			if decodeFast(c, raw, &fastStr) {
				if err := decodeValue(c, raw, &slowStr); err != nil || slowStr != fastStr {
					t.Fatalf("%s: % x: decodeFast gave %q, decodeValue %q, %v", c.Name(), raw, fastStr, slowStr, err)
				}
			}
		}
		var other struct{ X int }
		if decodeFast(Gob, raw, &other) {
			t.Fatal("decodeFast decoded a struct")
		}
	})
}
