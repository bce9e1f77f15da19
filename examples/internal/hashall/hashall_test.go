package hashall

import (
	"context"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The digests match Python's hashlib.pbkdf2_hmac for the same inputs:
// sha256(b"".join(pbkdf2_hmac("sha256", b"password", b"salt", i*10000)
// for i in range(1, n))).hexdigest()[:16].
func TestHashOneMatchesPython(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "e3b0c44298fc1c14"},
		{1, "e3b0c44298fc1c14"},
		{2, "a9ad610dbd5b6af3"},
		{4, "74a0200f161b1501"},
	}
	for _, tt := range tests {
		got, err := HashOne(context.Background(), tt.n)
		if err != nil || got != tt.want {
			t.Errorf("HashOne(%d) = %q, %v; want %q", tt.n, got, err, tt.want)
		}
	}
}

func TestHashOneStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashOne(ctx, 3); err != context.Canceled {
		t.Errorf("HashOne of a cancelled ctx = %v, want context.Canceled", err)
	}
}

func TestSequential(t *testing.T) {
	got, err := Sequential(context.Background(), 3)
	want := []string{"e3b0c44298fc1c14", "e3b0c44298fc1c14", "a9ad610dbd5b6af3"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Sequential(3) = %v, %v; want %v", got, err, want)
	}
}

func TestIterations(t *testing.T) {
	if got := Iterations(20); got != 11_400_000 {
		t.Errorf("Iterations(20) = %d, want 11400000 (hash_all(20) of the walk-through)", got)
	}
}

func TestUpTo(t *testing.T) {
	if got := slices.Collect(UpTo(4)); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("UpTo(4) = %v", got)
	}
	for k := range UpTo(5) {
		if k == 1 {
			break // stopping early must not panic
		}
	}
}
