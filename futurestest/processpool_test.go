package futurestest_test

// This file is the pattern for testing code that uses a ProcessPool: the
// functions the pool runs are registered in init, TestMain (main_test.go)
// calls futures.WorkerMain first, and the code under test takes a
// futures.Executor, so that the same test runs it inline and in worker
// processes.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// countWords is a function the code under test sends to a ProcessPool.
func countWords(_ context.Context, doc string) (int, error) {
	if doc == "" {
		return 0, errors.New("empty document")
	}
	return len(strings.Fields(doc)), nil
}

// Registered in init, so that every worker process, which runs this same test
// binary, registers it too.
func init() { futures.Register(countWords) }

// totalWords is the code under test: it counts the words of docs on ex.
func totalWords(ctx context.Context, ex futures.Executor, docs []string) (int, error) {
	total := 0
	for n, err := range futures.Map(ctx, ex, countWords, slices.Values(docs)) {
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func TestTotalWords(t *testing.T) {
	executors := []struct {
		name string
		new  func(t *testing.T) futures.Executor
	}{
		{"Inline", func(*testing.T) futures.Executor { return futurestest.NewInline() }},
		{"ProcessPool", func(t *testing.T) futures.Executor {
			p, err := futures.NewProcessPool(futures.MaxWorkers(2))
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skip(err) // Windows has no worker processes
			}
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	tests := []struct {
		name    string
		docs    []string
		want    int
		wantErr string
	}{
		{"words", []string{"one two", "three", "four five six"}, 6, ""},
		{"an empty document", []string{"one", ""}, 0, "empty document"},
	}
	for _, ex := range executors {
		t.Run(ex.name, func(t *testing.T) {
			e := ex.new(t)
			defer e.Close()
			for _, tt := range tests {
				got, err := totalWords(context.Background(), e, tt.docs)
				if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("%s: totalWords() = %d, %v; want %d, an error containing %q", tt.name, got, err, tt.want, tt.wantErr)
				}
			}
		})
	}
}

// TestOnlyProcessPoolRefusesClosures shows why code meant for a ProcessPool
// needs one test against a real pool: Inline runs a closure that a
// ProcessPool refuses.
func TestOnlyProcessPoolRefusesClosures(t *testing.T) {
	closure := func(ctx context.Context, doc string) (int, error) { return countWords(ctx, doc) }
	in := futurestest.NewInline()
	if n, err := futures.Submit(in, closure, "a b").Result(context.Background()); n != 2 || err != nil {
		t.Fatalf("Inline: %d, %v; want 2, nil", n, err)
	}
	p, err := futures.NewProcessPool(futures.MaxWorkers(1))
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err) // Windows has no worker processes
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := futures.Submit(p, closure, "a b").Result(context.Background()); !errors.Is(err, futures.ErrNotRegistered) {
		t.Fatalf("ProcessPool: error %v, want ErrNotRegistered", err)
	}
}
