package value

import (
	"bytes"
	"testing"
)

// A []byte value longer than OwnedAbove decodes as the bytes it was encoded
// in; a shorter one is copied, so that its buffer may be reused.
func TestBytesAliasOnlyAboveOwnedAbove(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		aliases bool
	}{
		{"small", 100, false},
		{"at the limit", OwnedAbove, false},
		{"large", OwnedAbove + 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := Append(nil, Gob, bytes.Repeat([]byte{3}, tc.size))
			if err != nil {
				t.Fatal(err)
			}
			var fast, slow []byte
			var boxed any
			if !DecodeFast(Gob, enc, &fast) {
				t.Fatal("DecodeFast did not decode a []byte")
			}
			if err := Decode(Gob, enc, &slow); err != nil {
				t.Fatal(err)
			}
			if err := Decode(Gob, enc, &boxed); err != nil {
				t.Fatal(err)
			}
			for i, got := range [][]byte{fast, slow, boxed.([]byte)} {
				if len(got) != tc.size || got[0] != 3 {
					t.Fatalf("decoding %d: %d bytes", i, len(got))
				}
				if shared := &got[0] == &enc[1]; shared != tc.aliases {
					t.Errorf("decoding %d: shares the encoded bytes: %v, want %v", i, shared, tc.aliases)
				}
				if tc.aliases && cap(got) != len(got) {
					t.Errorf("decoding %d: cap %d for %d bytes: appending would write over what follows", i, cap(got), len(got))
				}
			}
		})
	}
}
