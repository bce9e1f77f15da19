package futurestest

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gofutures/futures"
)

// squares submits square for from...to-1 and returns the futures.
func (s *suite) squares(from, to int) []*futures.Future[int] {
	var fs []*futures.Future[int]
	for i := from; i < to; i++ {
		fs = append(fs, futures.Submit(s.ex, square, i))
	}
	return fs
}

// never returns a future that never finishes, for waits whose ctx ends.
func never() *futures.Future[int] { return futures.NewPromise[int]().Future() }

// checkAsCompleted: AsCompleted yields every future of the executor once,
// done and with its result, and, when ctx ends first, one last error
// matching futures.ErrTimeout and ctx's error that counts the unfinished.
func checkAsCompleted(s *suite) {
	fs := s.squares(0, 10)
	seen := map[*futures.Future[int]]bool{}
	for f, err := range futures.AsCompleted(s.bounded(), append(fs, fs[0], fs[3])...) {
		if f == nil || seen[f] {
			s.t.Errorf("AsCompleted yielded %p (error %v): not one of the futures, or a second time", f, err)
			continue
		}
		seen[f] = true
		if err != nil || f.State() != futures.Finished {
			s.t.Errorf("AsCompleted yielded a future in state %v with error %v; want finished, nil", f.State(), err)
		}
	}
	for i, f := range fs {
		if v, err := f.Result(context.Background()); !seen[f] || v != i*i || err != nil {
			s.t.Errorf("AsCompleted: future %d yielded %v, result %d, %v; want yielded, %d, nil", i, seen[f], v, err, i*i)
		}
	}

	ctx, cancel := context.WithCancel(s.bounded())
	defer cancel()
	n := 0
	var last error
	for f, err := range futures.AsCompleted(ctx, append(fs, never())...) {
		if f == nil {
			last = err
			continue
		}
		if n++; n == len(fs) {
			cancel()
		}
	}
	if !errors.Is(last, futures.ErrTimeout) || !errors.Is(last, context.Canceled) || !strings.Contains(last.Error(), "1 (of 11)") {
		s.t.Errorf("AsCompleted with a ctx cancelled before the last future finished ended with %v after %d futures; want an error matching futures.ErrTimeout and context.Canceled saying 1 (of 11) futures unfinished", last, n)
	}
	s.expect(10, 0, 0)
}

// checkWaitAllCompleted: Wait returns every future done, in input order,
// duplicates collapsed; when ctx ends first, notDone holds the unfinished.
func checkWaitAllCompleted(s *suite) {
	fs := s.squares(0, 10)
	done, notDone := futures.Wait(s.bounded(), append(fs, fs[2]), futures.AllCompleted)
	if !slices.Equal(done, fs) || len(notDone) != 0 {
		s.t.Errorf("Wait(AllCompleted) returned %d done, %d not done; want the %d futures in input order, none", len(done), len(notDone), len(fs))
	}
	s.checkAllDone("Wait(AllCompleted)", done)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pending := never()
	done, notDone = futures.Wait(ctx, append(fs, pending), futures.AllCompleted)
	if !slices.Equal(done, fs) || !slices.Equal(notDone, []*futures.Future[int]{pending}) {
		s.t.Errorf("Wait(AllCompleted) with a ctx that ended returned %d done, %d not done; want the %d finished futures, the one unfinished", len(done), len(notDone), len(fs))
	}
	s.expect(10, 0, 0)
}

// checkAllDone checks that every future of fs is done.
func (s *suite) checkAllDone(what string, fs []*futures.Future[int]) {
	s.t.Helper()
	for _, f := range fs {
		select {
		case <-f.Done():
		default:
			s.t.Errorf("%s listed a future as done in state %v", what, f.State())
		}
	}
}

// checkWaitFirstCompleted: Wait(FirstCompleted) returns once one of the
// executor's futures is done, with the unfinished one in notDone.
func checkWaitFirstCompleted(s *suite) {
	pending := never()
	fs := append([]*futures.Future[int]{pending}, s.squares(1, 3)...)
	done, notDone := futures.Wait(s.bounded(), fs, futures.FirstCompleted)
	if len(done) == 0 || slices.Contains(done, pending) || !slices.Contains(notDone, pending) || len(done)+len(notDone) != 3 {
		s.t.Errorf("Wait(FirstCompleted) returned %d done, %d not done; want at least one of the executor's futures done and the unfinished one not", len(done), len(notDone))
	}
	s.checkAllDone("Wait(FirstCompleted)", done)
	s.expect(2, 0, 0)
}

// checkWaitFirstError: Wait(FirstError) returns at the first failed future,
// without waiting for the others, and behaves as AllCompleted when none
// fails.
func checkWaitFirstError(s *suite) {
	pending := never()
	failing := futures.Submit(s.ex, square, -1)
	fs := []*futures.Future[int]{futures.Submit(s.ex, square, 1), failing, pending}
	done, notDone := futures.Wait(s.bounded(), fs, futures.FirstError)
	if !slices.Contains(done, failing) || !slices.Contains(notDone, pending) {
		s.t.Errorf("Wait(FirstError) returned %d done, %d not done; want the failed future done and the unfinished one not", len(done), len(notDone))
	}
	s.checkAllDone("Wait(FirstError)", done)

	ok := s.squares(0, 5)
	if done, notDone := futures.Wait(s.bounded(), ok, futures.FirstError); !slices.Equal(done, ok) || len(notDone) != 0 {
		s.t.Errorf("Wait(FirstError) over futures that all succeed returned %d done, %d not done; want all %d done, as AllCompleted", len(done), len(notDone), len(ok))
	}
	s.expect(6, 1, 0)
}
