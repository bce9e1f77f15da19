// Package hashall is the CPU-bound workload of the concurrent.futures
// walk-through, shared by the examples that run it on a ProcessPool
// (examples/hash) and on a cluster pool (examples/cluster): hash_one(n)
// derives PBKDF2-SHA256 keys, and hash_all(n) maps it over 0..n-1.
//
// HashOne is registered with futures.Register here, so that every program
// that imports the package can run it in its worker processes.
package hashall

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"iter"

	"github.com/gofutures/futures"
)

func init() { futures.Register(HashOne) }

// HashOne derives a PBKDF2-SHA256 key with i*10000 iterations for each i in
// 1..n-1, as the walk-through's hash_one(n) does, and returns a digest of
// all the keys, so that runs can be compared. It stops early, with ctx's
// error, once ctx is cancelled.
func HashOne(ctx context.Context, n int) (string, error) {
	sum := sha256.New()
	for i := 1; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		key, err := pbkdf2.Key(sha256.New, "password", []byte("salt"), i*10000, 32)
		if err != nil {
			return "", err
		}
		sum.Write(key)
	}
	return hex.EncodeToString(sum.Sum(nil)[:8]), nil
}

// Sequential calls HashOne(k) for k in 0..n-1, one after the other.
func Sequential(ctx context.Context, n int) ([]string, error) {
	out := make([]string, 0, n)
	for k := range n {
		h, err := HashOne(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// Iterations returns how many PBKDF2 iterations hash_all(n) runs.
func Iterations(n int) int {
	total := 0
	for k := range n {
		total += 10000 * k * (k - 1) / 2
	}
	return total
}

// UpTo yields 0, 1, ..., n-1: the arguments of hash_all(n)'s calls.
func UpTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for k := range n {
			if !yield(k) {
				return
			}
		}
	}
}
