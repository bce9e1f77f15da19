//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofutures/futures"
)

// waitForStack waits until a goroutine's stack holds fn, or fails the test
// when ctx ends.
func waitForStack(t *testing.T, ctx context.Context, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for ctx.Err() == nil {
		if strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn) {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("no goroutine reached %s", fn)
}

// TestShutdownWhileMapWaitsForRoom: a Map whose chunk waits for room in the
// queue (QueueSize) when Shutdown starts ends with ErrShutdown at once,
// instead of leaving the chunk's futures never completed.
func TestShutdownWhileMapWaitsForRoom(t *testing.T) {
	p := newTestPool(t, LocalWorkers(0), QueueSize(1))
	ctx := testContext(t, 3*time.Second)
	queued := futures.Submit(p, square, 1) // no worker: it stays queued
	got := make(chan error, 1)
	go func() {
		var first error
		for _, err := range futures.Map(ctx, p, square, slices.Values([]int{1, 2, 3, 4}), futures.Chunksize(4)) {
			if err != nil && first == nil {
				first = err
			}
		}
		got <- first
	}()
	waitForStack(t, ctx, "waitRoomLocked")
	if err := p.Shutdown(ctx, futures.CancelPending()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-got; !errors.Is(err, futures.ErrShutdown) {
		t.Errorf("Map waiting for room during Shutdown: first error %v, want ErrShutdown", err)
	}
	if err := queued.Err(); !errors.Is(err, futures.ErrCancelled) {
		t.Errorf("queued call after Shutdown with CancelPending: %v, want ErrCancelled", err)
	}
}
