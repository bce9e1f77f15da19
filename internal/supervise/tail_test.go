package supervise

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTailKeepsTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
	}{
		{"empty", nil},
		{"short", []string{"abc", "def"}},
		{"exactly full", []string{strings.Repeat("x", TailSize)}},
		{"wraps in pieces", []string{strings.Repeat("a", TailSize-3), "bcdefg", "hij"}},
		{"one huge write", []string{strings.Repeat("0123456789", TailSize)}},
		{"many small writes", func() []string {
			var ws []string
			for i := range 3000 {
				ws = append(ws, strings.Repeat(string(rune('a'+i%26)), i%7))
			}
			return ws
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fwd bytes.Buffer
			tail := &Tail{dst: &fwd}
			for _, w := range tc.writes {
				n, err := tail.Write([]byte(w))
				if n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			all := strings.Join(tc.writes, "")
			if fwd.String() != all {
				t.Fatal("not everything was forwarded")
			}
			want := all[max(0, len(all)-TailSize):]
			if got := tail.String(); got != want {
				t.Fatalf("tail has %d bytes %.20q..., want %d bytes %.20q...", len(got), got, len(want), want)
			}
		})
	}
}
