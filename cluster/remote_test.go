//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package cluster

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/cluster/internal/testfn"
)

// buildTestWorker builds internal/testworker, a program that serves the
// pool of the URL it is given, into a directory of t's, with -race if the
// test binary has it.
func buildTestWorker(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the worker program: %v", err)
	}
	exe := filepath.Join(t.TempDir(), "testworker")
	args := []string{"build", "-o", exe}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command(gobin, append(args, "./internal/testworker")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./internal/testworker: %v\n%s", err, out)
	}
	return exe
}

// TestServeOtherProcess: a program of its own, started from the pool's
// WorkerURL as it would be on another machine, serves the pool's calls
// (here no local worker runs), and exits when told to; started with a
// wrong token, it is refused and exits with Serve's error.
func TestServeOtherProcess(t *testing.T) {
	exe := buildTestWorker(t)
	p, err := NewPool(LocalWorkers(0), Name("remote"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := testContext(t, time.Minute)

	t.Run("serves", func(t *testing.T) {
		cmd := exec.CommandContext(ctx, exe, p.WorkerURL())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		i := 0
		for got, err := range futures.Map(ctx, p, testfn.PID, func(yield func(int) bool) {
			for n := range 20 {
				if !yield(n) {
					return
				}
			}
		}) {
			if err != nil || got != [2]int{cmd.Process.Pid, i} {
				t.Errorf("call %d: %v, %v; want it served by the worker program, pid %d", i, got, err, cmd.Process.Pid)
			}
			i++
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the worker program, told to stop, exited with %v; stderr: %s", err, stderr.String())
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		token := p.link.srv.token
		wrong := strings.Replace(p.WorkerURL(), token, strings.Repeat("f", len(token)), 1)
		cmd := exec.CommandContext(ctx, exe, wrong)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("the worker program with a wrong token: %v, want exit status 1", err)
		}
		if msg := stderr.String(); !strings.Contains(msg, "refused the credentials") || strings.Contains(msg, token) {
			t.Errorf("the worker program with a wrong token wrote %q; want the refusal, without the token", msg)
		}
	})
	if st := p.Stats(); st.Succeeded != 20 || st.Workers != 0 {
		t.Errorf("Stats %+v: want 20 successes and no local worker", st)
	}
}
