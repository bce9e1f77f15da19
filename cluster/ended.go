package cluster

import (
	"math"
	"time"

	"github.com/gofutures/futures/internal/ring"
)

// endedGroups is what a worker remembers of the cancel messages of the
// pools: the groups whose context ended lately. A message of such a group
// that the worker takes afterwards, published before the context ended,
// has its calls answered as cancelled instead of run; a cancel message may
// also overtake the message it concerns on its way to the worker.
type endedGroups struct {
	at    map[endedGroup]time.Time // when each was cancelled
	order ring.Queue[endedGroup]   // oldest first
}

// endedGroup is a group of a client, or allGroups for all of its calls.
type endedGroup struct {
	client string
	group  uint64
}

// allGroups stands for every group of a client, which Shutdown cancels when
// it gives up.
const allGroups = math.MaxUint64

// maxEnded bounds the groups a worker remembers.
const maxEnded = 1 << 16

// add remembers the groups that the cancel message c of client names, at
// now, and forgets those older than keep.
func (e *endedGroups) add(client string, c cancelMsg, now time.Time, keep time.Duration) {
	for e.order.Len() > 0 {
		k, _ := e.order.Peek()
		if e.order.Len() < maxEnded && now.Sub(e.at[k]) <= keep {
			break
		}
		e.order.Pop()
		delete(e.at, k)
	}
	if e.at == nil {
		e.at = map[endedGroup]time.Time{}
	}
	put := func(k endedGroup) {
		if _, ok := e.at[k]; !ok {
			e.order.Push(k)
		}
		e.at[k] = now
	}
	if c.all {
		put(endedGroup{client, allGroups})
	}
	for _, g := range c.groups {
		if g != 0 {
			put(endedGroup{client, g})
		}
	}
}

// has reports whether the calls of group of client were cancelled lately.
func (e *endedGroups) has(client string, group uint64) bool {
	if len(e.at) == 0 {
		return false
	}
	if _, ok := e.at[endedGroup{client, allGroups}]; ok {
		return true
	}
	_, ok := e.at[endedGroup{client, group}]
	return group != 0 && ok
}
