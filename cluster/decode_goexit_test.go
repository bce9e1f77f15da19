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

// exitDecode is a result whose GobDecode calls runtime.Goexit when its
// Mode is 1; exitError is a registered error that does the same.
type exitDecode struct{ Mode int }

func (e exitDecode) GobEncode() ([]byte, error) { return []byte{byte(e.Mode)}, nil }

func (e *exitDecode) GobDecode(b []byte) (err error) {
	e.Mode, err = exitMode(b)
	return err
}

type exitError struct{ Mode int }

func (e *exitError) Error() string { return "exit error" }

func (e exitError) GobEncode() ([]byte, error) { return []byte{byte(e.Mode)}, nil }

func (e *exitError) GobDecode(b []byte) (err error) {
	e.Mode, err = exitMode(b)
	return err
}

// exitMode is the Mode encoded as b; it calls runtime.Goexit for 1.
func exitMode(b []byte) (int, error) {
	if len(b) != 1 {
		return 0, errors.New("exitMode: bad length")
	}
	if b[0] == 1 {
		runtime.Goexit()
	}
	return int(b[0]), nil
}

func makeExitDecode(_ context.Context, mode int) (exitDecode, error) { return exitDecode{mode}, nil }

func failExitError(_ context.Context, mode int) (int, error) { return 0, &exitError{mode} }

func init() {
	futures.Register(makeExitDecode, failExitError)
	futures.RegisterError(&exitError{})
}

// TestDecodingCallsGoexit: a result whose GobDecode calls runtime.Goexit
// in the pool's process fails its call with an error saying so, through
// Submit and a chunked Map, while the other calls complete; a registered
// error whose GobDecode calls it fails its call with its text. The one
// worker serves on, and Shutdown returns.
func TestDecodingCallsGoexit(t *testing.T) {
	p, err := NewPool(LocalWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	const exits = "decoding a *cluster.exitDecode called runtime.Goexit"
	fails := func(err error, want string) {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one saying %q", err, want)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := futures.Submit(p, makeExitDecode, 1).Result(ctx)
		fails(err, exits)
		i := 0
		for r, err := range futures.Map(ctx, p, makeExitDecode, slices.Values([]int{1, 0, 1, 2, 1, 4}), futures.Chunksize(3)) {
			if i%2 == 0 {
				fails(err, exits)
			} else if err != nil || r != (exitDecode{i - 1}) {
				t.Errorf("item %d: %v, %v, want %v", i, r, err, exitDecode{i - 1})
			}
			i++
		}
		if i != 6 {
			t.Errorf("Map gave %d items, want 6", i)
		}
		_, err = futures.Submit(p, failExitError, 1).Result(ctx)
		fails(err, "exit error")
		var ee *exitError
		if _, err = futures.Submit(p, failExitError, 3).Result(ctx); !errors.As(err, &ee) || ee.Mode != 3 {
			t.Errorf("a registered error that decodes: %v", err)
		}
		if v, err := futures.Submit(p, square, 3).Result(ctx); v != 9 || err != nil {
			t.Errorf("square(3) = %d, %v after the failed decodings", v, err)
		}
		if st := p.Stats(); st.WorkerStarts != 1 {
			t.Errorf("Stats %+v: the worker was started %d times, want once", st, st.WorkerStarts)
		}
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the pool hangs after a value's GobDecode called runtime.Goexit")
	}
}
