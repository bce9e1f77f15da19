package futurestest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/gofutures/futures"
)

// pair is one (result, error) a Map loop yielded.
type pair struct {
	v   int
	err error
}

// ints returns the sequence from, from+1, ... to-1.
func ints(from, to int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := from; i < to && yield(i); i++ {
		}
	}
}

// counted wraps seq so that *read counts the items Map took from it.
func counted[A any](seq iter.Seq[A], read *int) iter.Seq[A] {
	return func(yield func(A) bool) {
		for a := range seq {
			*read++
			if !yield(a) {
				return
			}
		}
	}
}

// endless yields 0, 1, 2, ... for as long as it is read.
func endless(yield func(int) bool) {
	for i := 0; yield(i); i++ {
	}
}

// checkSquares checks that got is the squares of from...to-1 without
// errors, in that order unless unordered.
func (s *suite) checkSquares(what string, got []pair, from, to int, unordered bool) {
	s.t.Helper()
	var vals []int
	for _, p := range got {
		if p.err != nil {
			s.t.Errorf("%s yielded the error %v; want none", what, p.err)
			return
		}
		vals = append(vals, p.v)
	}
	var want []int
	for i := from; i < to; i++ {
		want = append(want, i*i)
	}
	if unordered {
		slices.Sort(vals)
	}
	if !slices.Equal(vals, want) {
		s.t.Errorf("%s yielded %v; want %v", what, vals, want)
	}
}

// collect runs a Map loop to its end.
func collect(seq iter.Seq2[int, error]) []pair {
	var got []pair
	for v, err := range seq {
		got = append(got, pair{v, err})
	}
	return got
}

// checkMapOrdered: Map yields every result in input order.
func checkMapOrdered(s *suite) {
	s.checkSquares("Map(square, 0..99)", collect(futures.Map(s.bounded(), s.ex, square, ints(0, 100))), 0, 100, false)
	s.expect(100, 0, 0)
}

// checkMapUnordered: Unordered yields every result once.
func checkMapUnordered(s *suite) {
	s.checkSquares("Map(square, 0..99, Unordered())", collect(futures.Map(s.bounded(), s.ex, square, ints(0, 100), futures.Unordered())), 0, 100, true)
	s.expect(100, 0, 0)
}

// checkMapChunksize: chunks of every size, smaller and larger than the
// input, give the same results.
func checkMapChunksize(s *suite) {
	sizes := []int{1, 2, 7, 64}
	for _, n := range sizes {
		what := fmt.Sprintf("Map(square, 0..49, Chunksize(%d))", n)
		s.checkSquares(what, collect(futures.Map(s.bounded(), s.ex, square, ints(0, 50), futures.Chunksize(n))), 0, 50, false)
		s.checkSquares(what+" Unordered", collect(futures.Map(s.bounded(), s.ex, square, ints(0, 50), futures.Chunksize(n), futures.Unordered())), 0, 50, true)
	}
	s.expect(int64(2*50*len(sizes)), 0, 0)
}

// checkMapBuffer: with Buffer(b) Map reads at most b chunks ahead of the
// consumer, and yields every result.
func checkMapBuffer(s *suite) {
	cases := []struct{ buffer, chunk int }{{1, 1}, {2, 3}, {3, 1}}
	for _, c := range cases {
		what := fmt.Sprintf("Map(square, 0..39, Buffer(%d), Chunksize(%d))", c.buffer, c.chunk)
		read, yielded := 0, 0
		var got []pair
		for v, err := range futures.Map(s.bounded(), s.ex, square, counted(ints(0, 40), &read), futures.Buffer(c.buffer), futures.Chunksize(c.chunk)) {
			got = append(got, pair{v, err})
			yielded++
			if ahead := read - yielded; ahead > (c.buffer+1)*c.chunk {
				s.t.Errorf("%s had read %d items when it yielded %d: more than Buffer chunks ahead", what, read, yielded)
			}
		}
		s.checkSquares(what, got, 0, 40, false)
	}
	s.expect(int64(40*len(cases)), 0, 0)
}

// checkMapEmptyAfterShutdown: Map over an empty input on an executor that
// is shut down yields one error matching futures.ErrShutdown. Map cannot
// ask an executor whether it refuses calls without submitting one unless it
// is a futures.Refuser, so the check runs on those only.
func checkMapEmptyAfterShutdown(s *suite) {
	if _, ok := s.ex.(futures.Refuser); !ok {
		s.t.Skip("Map over an empty input yields an executor's refusal only on a futures.Refuser")
	}
	if err := s.ex.Close(); err != nil {
		s.t.Fatalf("Close() = %v, want nil", err)
	}
	if got := collect(futures.Map(s.bounded(), s.ex, square, ints(0, 0))); len(got) != 1 || !errors.Is(got[0].err, futures.ErrShutdown) {
		s.t.Errorf("Map over an empty input after Close yielded %v; want one error matching futures.ErrShutdown", got)
	}
	s.expect(0, 0, 0)
}

// checkMapEmpty: Map over an empty input yields nothing.
func checkMapEmpty(s *suite) {
	for _, opts := range [][]futures.MapOption{nil, {futures.Chunksize(5)}, {futures.Unordered()}} {
		if got := collect(futures.Map(s.bounded(), s.ex, square, ints(0, 0), opts...)); len(got) != 0 {
			s.t.Errorf("Map over an empty input yielded %v; want nothing", got)
		}
	}
	s.expect(0, 0, 0)
}

// checkMapItemError: an item's error is that item's pair, and the others
// still yield their results.
func checkMapItemError(s *suite) {
	for _, n := range []int{1, 4} {
		got := collect(futures.Map(s.bounded(), s.ex, square, ints(-3, 7), futures.Chunksize(n)))
		if len(got) != 10 {
			s.t.Errorf("Map(square, -3..6, Chunksize(%d)) yielded %d pairs, want 10: one failing item must not stop the others", n, len(got))
			continue
		}
		for i, p := range got {
			x := i - 3
			if x < 0 {
				s.checkCallError(fmt.Sprintf("Map item %d", x), p.err, sentinelText(x), func(err error) bool { return errors.Is(err, errSentinel) })
			} else if p.v != x*x || p.err != nil {
				s.t.Errorf("Map(square, -3..6, Chunksize(%d)) item %d: %d, %v; want %d, nil", n, x, p.v, p.err, x*x)
			}
		}
	}
	s.expect(14, 6, 0)
}

// checkNothingLeft checks that, per Stats, none of the executor's calls is
// queued or running.
func (s *suite) checkNothingLeft(when string) {
	s.t.Helper()
	if st := s.checkStats(when); st.Queued != 0 || st.Running != 0 {
		s.t.Errorf("Stats %s: Queued %d, Running %d; want 0, 0: when a Map loop ends, no call it made is queued or running", when, st.Queued, st.Running)
	}
}

// checkMapBreak: breaking out of a Map over an endless input stops it;
// no call it made is left queued or running.
func checkMapBreak(s *suite) {
	for _, n := range []int{1, 3} {
		i := 0
		for v, err := range futures.Map(s.bounded(), s.ex, square, endless, futures.Chunksize(n)) {
			if v != i*i || err != nil {
				s.t.Errorf("Map(square, 0...) item %d: %d, %v; want %d, nil", i, v, err, i*i)
			}
			if i++; i == 5 {
				break
			}
		}
		s.checkNothingLeft(fmt.Sprintf("right after breaking out of a Map with Chunksize(%d)", n))
	}
}

// breakWhileRunning runs a Map with Chunksize(n) over calls of block with
// ids first, first+1, ..., of which only the first returns at once, breaks
// out of the loop after the first pair, and returns the ids.
func (s *suite) breakWhileRunning(n, first int) []int {
	var ids []int
	gates := make([]gate, 4*s.workers+4)
	for i := range gates {
		gates[i] = s.gate(first+i, i == 0)
		ids = append(ids, first+i)
	}
	for v, err := range futures.Map(s.bounded(), s.ex, block, slices.Values(gates), futures.Chunksize(n)) {
		if v != first || err != nil {
			s.t.Errorf("Map(block) with Chunksize(%d): first pair %d, %v; want %d, nil", n, v, err, first)
		}
		break
	}
	return ids
}

// checkMapBreakWhileRunning: breaking out of a Map whose calls block
// cancels the calls not started and the contexts of the running ones, and
// the loop returns only once they have returned.
func checkMapBreakWhileRunning(s *suite) {
	for k, n := range []int{1, 3} {
		ids := s.breakWhileRunning(n, 1000*k)
		when := fmt.Sprintf("right after breaking out of a Map of blocked calls with Chunksize(%d)", n)
		s.checkReturned(when, ids)
		s.checkNothingLeft(when)
	}
}

// checkMapStopStartsNothing: once a Map stops, by a break or its deadline,
// none of its calls starts: a call not started when its Map stops is
// cancelled, not invoked. While the calls block, at most one runs per
// worker, so no more than that (and the one that returned at once) may
// have begun.
func checkMapStopStartsNothing(s *suite) {
	for k, n := range []int{1, 3} {
		ids := s.breakWhileRunning(n, 1000*k)
		s.checkStartedAtMost(fmt.Sprintf("breaking out of a Map of blocked calls with Chunksize(%d)", n), ids, s.workers+1)
	}
	_, ids := s.mapPastDeadline(5000)
	s.checkStartedAtMost("a Map of blocked calls stopped by its deadline", ids, s.workers)
}

// checkMapCancel: cancelling Map's ctx inside the loop makes it yield one
// last error matching futures.ErrCancelled and context.Canceled, then stop.
func checkMapCancel(s *suite) {
	ctx, cancel := context.WithCancel(s.bounded())
	defer cancel()
	var got []pair
	for v, err := range futures.Map(ctx, s.ex, square, endless) {
		got = append(got, pair{v, err})
		if len(got) == 3 {
			cancel()
		}
		if len(got) > 1000 {
			s.t.Errorf("Map went on for %d pairs after its ctx was cancelled", len(got)-3)
			break
		}
	}
	s.checkStopped("Map with a ctx cancelled after 3 items", got, futures.ErrCancelled, context.Canceled)
	s.checkNothingLeft("right after a Map stopped by its ctx")
}

// checkStopped checks that got are squares in order followed by exactly one
// error, matching both sentinel and ctxErr.
func (s *suite) checkStopped(what string, got []pair, sentinel, ctxErr error) {
	s.t.Helper()
	if len(got) == 0 || got[len(got)-1].err == nil {
		s.t.Errorf("%s: the last of %d pairs is not an error; want one last error matching %v", what, len(got), sentinel)
		return
	}
	last := got[len(got)-1]
	if !errors.Is(last.err, sentinel) || !errors.Is(last.err, ctxErr) || last.v != 0 {
		s.t.Errorf("%s: last pair %d, %v; want 0 and an error matching %v and %v", what, last.v, last.err, sentinel, ctxErr)
	}
	s.checkSquares(what+" before its error", got[:len(got)-1], 0, len(got)-1, false)
}

// mapPastDeadline runs a Map over calls of block with ids first, first+1,
// ..., all waiting for the gate, with a deadline that passes while they
// wait, and returns what it yielded and the ids.
func (s *suite) mapPastDeadline(first int) ([]pair, []int) {
	ctx, cancel := context.WithTimeout(s.bounded(), 50*time.Millisecond)
	defer cancel()
	var ids []int
	gates := make([]gate, 4*s.workers+4)
	for i := range gates {
		gates[i] = s.gate(first+i, false)
		ids = append(ids, first+i)
	}
	return collect(futures.Map(ctx, s.ex, block, slices.Values(gates))), ids
}

// checkMapDeadline: when Map's deadline passes while its calls block, it
// yields one error matching futures.ErrTimeout and context.DeadlineExceeded
// and stops, leaving no call running.
func checkMapDeadline(s *suite) {
	got, ids := s.mapPastDeadline(0)
	if len(got) != 1 || !errors.Is(got[0].err, futures.ErrTimeout) || !errors.Is(got[0].err, context.DeadlineExceeded) {
		s.t.Errorf("Map over blocked calls with a deadline yielded %v; want one error matching futures.ErrTimeout and context.DeadlineExceeded", got)
	}
	s.checkReturned("right after a Map stopped by its deadline", ids)
	s.checkNothingLeft("right after a Map stopped by its deadline")
}
