package futures

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"sync/atomic"
)

// Condition says when Wait returns.
type Condition int

const (
	// AllCompleted: when every future is done. Python: ALL_COMPLETED.
	AllCompleted Condition = iota
	// FirstCompleted: when any future is done. Python: FIRST_COMPLETED.
	FirstCompleted
	// FirstError: when any future finishes with an error (a cancellation is
	// not an error here), or when every future is done. Python:
	// FIRST_EXCEPTION.
	FirstError
)

// String returns the Go name of the condition.
func (c Condition) String() string {
	switch c {
	case AllCompleted:
		return "AllCompleted"
	case FirstCompleted:
		return "FirstCompleted"
	case FirstError:
		return "FirstError"
	}
	return fmt.Sprintf("Condition(%d)", int(c))
}

// AsCompleted yields each of fs once as it finishes, with its error (nil on
// success): first those already done, in the order given, then the others in
// the order they finish. A future given more than once is yielded once. Nil
// futures are skipped. Python: as_completed(fs, timeout).
//
// If ctx ends before every future is done, AsCompleted yields one last pair:
// the zero F and an error matching ErrTimeout and ctx's error that says how
// many futures are unfinished ("3 (of 10) futures unfinished"). The futures
// themselves go on.
//
// It starts no goroutine for futures made by this package; breaking out of
// the loop releases everything it registered. Its cost is O(len(fs)): about
// 35-100 ns per finished future, up to a million futures.
func AsCompleted[F Awaitable](ctx context.Context, fs ...F) iter.Seq2[F, error] {
	return func(yield func(F, error) bool) {
		if ctx == nil {
			var zero F
			yield(zero, errNilContext)
			return
		}
		s := newWatchSet(fs)
		defer s.close()
		for _, i := range s.ready {
			if !yield(s.fs[i], s.fs[i].Err()) {
				return
			}
		}
		for s.pending > 0 {
			i, ok := s.next(ctx)
			if !ok {
				var zero F
				what := fmt.Sprintf("AsCompleted: %d (of %d) futures unfinished", s.pending, len(s.fs))
				yield(zero, stopError(what, ctx, ErrTimeout))
				return
			}
			if !yield(s.fs[i], s.fs[i].Err()) {
				return
			}
		}
	}
}

// Wait waits until the condition when holds for fs, or until ctx ends, and
// returns the futures done at that point and those not, each list in the
// order given, a future given more than once listed once, nil futures left
// out. A when other than the three conditions waits as AllCompleted, and a
// nil ctx as context.Background(). Python: wait(fs, timeout, return_when).
//
// Wait never fails: when ctx ends first, notDone holds what is unfinished.
// It starts no goroutine for futures made by this package and costs
// O(len(fs)): about 50-100 ns per finished future, up to a million futures.
func Wait[F Awaitable](ctx context.Context, fs []F, when Condition) (done, notDone []F) {
	if ctx == nil {
		ctx = context.Background()
	}
	s := newWatchSet(fs)
	defer s.close()
	met := func(i int) bool {
		switch when {
		case FirstCompleted:
			return true
		case FirstError:
			return failed(s.fs[i])
		}
		return false
	}
	holds := false
	for _, i := range s.ready {
		holds = holds || met(i)
	}
	for !holds && s.pending > 0 {
		i, ok := s.next(ctx)
		if !ok {
			break
		}
		holds = met(i)
	}
	for i, f := range s.fs {
		if s.isDone[i] {
			done = append(done, f)
		} else {
			notDone = append(notDone, f)
		}
	}
	return done, notDone
}

// failed reports whether a done future finished with an error other than its
// cancellation.
func failed[F Awaitable](f F) bool {
	if st, ok := any(f).(stateReporter); ok && st.State() == Cancelled {
		return false
	}
	err := f.Err()
	return err != nil && !errors.Is(err, ErrCancelled)
}

// watchSet tracks a set of futures until they finish: futures of this
// package through a waiter registered on each, others through one goroutine
// each.
type watchSet[F Awaitable] struct {
	fs      []F    // unique, non-nil, in the order given
	isDone  []bool // by index in fs
	ready   []int  // indexes of the futures done at the start, in order
	pending int    // how many are not done yet
	w       *waiter

	stop    chan struct{} // closed to release the goroutines of other futures
	helpers sync.WaitGroup
}

func newWatchSet[F Awaitable](in []F) *watchSet[F] {
	s := &watchSet[F]{fs: unique(in)}
	s.isDone = make([]bool, len(s.fs))
	s.ready = make([]int, 0, len(s.fs))
	s.w = newWaiter()
	for i, f := range s.fs {
		if wf, ok := any(f).(watchable); ok {
			if wf.watch(s.w, i) {
				s.pending++
			} else {
				s.markDone(i)
			}
			continue
		}
		select {
		case <-f.Done():
			s.markDone(i)
			continue
		default:
		}
		if s.stop == nil {
			s.stop = make(chan struct{})
		}
		s.pending++
		s.helpers.Add(1)
		go func(i int, done <-chan struct{}) {
			defer s.helpers.Done()
			select {
			case <-done:
				s.w.notify(i)
			case <-s.stop:
			}
		}(i, f.Done())
	}
	return s
}

func (s *watchSet[F]) markDone(i int) {
	s.isDone[i] = true
	s.ready = append(s.ready, i)
}

// next waits for the next future to finish and returns its index, or false
// if ctx ends first.
func (s *watchSet[F]) next(ctx context.Context) (int, bool) {
	i, ok := s.w.next(ctx)
	if ok {
		s.isDone[i] = true
		s.pending--
	}
	return i, ok
}

// close removes every registration still in place.
func (s *watchSet[F]) close() {
	for i, f := range s.fs {
		if !s.isDone[i] {
			if wf, ok := any(f).(watchable); ok {
				wf.unwatch(s.w)
			}
		}
	}
	if s.stop != nil {
		close(s.stop)
		s.helpers.Wait()
	}
}

// claimStamps numbers the calls of unique. uniqueGuard packs how many calls
// of unique have started and ended (high 32 bits, wrapping) with how many are
// running (low 32 bits): one whose value is unchanged from its start to its
// end, and that ran alone, overlapped with no other.
var (
	claimStamps atomic.Uint64
	uniqueGuard atomic.Uint64
)

// unique returns fs without nil futures and without repeats, in order.
// Futures of this package are told apart without a map: each is claimed
// with a stamp of this call, and a second claim with the same stamp is a
// repeat. Another call running at the same time could overwrite a stamp, so
// then the map decides.
func unique[F Awaitable](fs []F) []F {
	entered := uniqueGuard.Add(1<<32 + 1)
	defer uniqueGuard.Add(1<<32 - 1)
	alone := uint32(entered) == 1
	stamp := claimStamps.Add(1)
	out := make([]F, 0, len(fs))
	foreign := false
	for _, f := range fs {
		if wf, ok := any(f).(watchable); ok {
			if wf.claim(stamp) {
				out = append(out, f)
			}
			continue
		}
		foreign = true
		break
	}
	if !foreign && alone && uniqueGuard.Load() == entered {
		return out
	}
	return uniqueByMap(fs)
}

// uniqueByMap is unique with a map of the futures seen.
func uniqueByMap[F Awaitable](fs []F) []F {
	out := make([]F, 0, len(fs))
	seen := make(map[any]struct{}, len(fs))
	for _, f := range fs {
		v := any(f)
		if isNil(v) {
			continue
		}
		if reflect.TypeOf(v).Comparable() {
			if _, dup := seen[v]; dup {
				continue
			}
			seen[v] = struct{}{}
		}
		out = append(out, f)
	}
	return out
}

// isNil reports whether v is nil or a nil pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}
