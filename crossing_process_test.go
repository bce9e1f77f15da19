//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"encoding/gob"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gofutures/futures"
)

// What crosses into a worker process: each kind of value goes through a
// real ProcessPool, and what comes back is what the README's "What crosses
// into a worker process" section says.

type crossShape interface{ Area() float64 }

type crossCircle struct{ R float64 }

func (c crossCircle) Area() float64 { return 3 * c.R * c.R }

// crossSquare is never registered with gob.
type crossSquare struct{ S float64 }

func (s crossSquare) Area() float64 { return s.S * s.S }

type crossRecord struct {
	ID       int
	Name     string
	hidden   int // unexported: not encoded
	Ch       chan int
	Fn       func()
	NilList  []int
	Empty    []int
	NilMap   map[string]int
	EmptyMap map[string]int
	Shape    crossShape
	Any      any
	Ptr      *int
}

type crossNode struct {
	Next *crossNode
	N    int
}

func crossEchoRecord(_ context.Context, r crossRecord) (crossRecord, error) { return r, nil }
func crossEchoShape(_ context.Context, s crossShape) (crossShape, error)    { return s, nil }
func crossEchoAny(_ context.Context, v any) (any, error)                    { return v, nil }
func crossEchoPtr(_ context.Context, p *crossRecord) (*crossRecord, error)  { return p, nil }
func crossEchoInts(_ context.Context, s []int) ([]int, error)               { return s, nil }
func crossEchoBytes(_ context.Context, b []byte) ([]byte, error)            { return b, nil }
func crossEchoMap(_ context.Context, m map[string]int) (map[string]int, error) {
	return m, nil
}
func crossLen(_ context.Context, n *crossNode) (int, error) {
	k := 0
	for ; n != nil && k < 10; n = n.Next {
		k++
	}
	return k, nil
}
func crossIsNil(_ context.Context, p *crossRecord) (bool, error)   { return p == nil, nil }
func crossCount(_ context.Context, ps []*crossRecord) (int, error) { return len(ps), nil }
func crossCountMap(_ context.Context, m map[int]*crossRecord) (int, error) {
	return len(m), nil
}

// crossOpaque has no exported fields: gob refuses it, even in a field.
type crossOpaque struct{ n int }

type crossHolder struct {
	ID int
	O  crossOpaque
}

func crossEchoHolder(_ context.Context, h crossHolder) (crossHolder, error) { return h, nil }
func crossEchoOpaque(_ context.Context, o crossOpaque) (crossOpaque, error) { return o, nil }

// crossRing is a cycle that encodes itself: gob calls GobEncode and never
// recurses into its fields.
type crossRing struct {
	Name string
	Next *crossRing
}

func (r *crossRing) GobEncode() ([]byte, error) {
	var names []string
	for n := r; len(names) == 0 || n != r; n = n.Next {
		names = append(names, n.Name)
	}
	return []byte(strings.Join(names, ",")), nil
}

func (r *crossRing) GobDecode(b []byte) error {
	n := r
	for i, name := range strings.Split(string(b), ",") {
		if i > 0 {
			n.Next = &crossRing{}
			n = n.Next
		}
		n.Name = name
	}
	n.Next = r
	return nil
}

func crossRingNames(_ context.Context, r *crossRing) (string, error) {
	return r.Name + r.Next.Name + r.Next.Next.Name + r.Next.Next.Next.Name, nil
}

// crossCycle returns a cyclic list, which gob cannot encode.
func crossCycle(_ context.Context, n int) (*crossNode, error) {
	head := &crossNode{N: n}
	head.Next = &crossNode{Next: head}
	return head, nil
}

// crossUnregistered returns a shape whose type is not registered.
func crossUnregistered(_ context.Context, s float64) (crossShape, error) {
	return crossSquare{s}, nil
}

func init() {
	gob.Register(crossCircle{})
	futures.Register(crossEchoRecord, crossEchoShape, crossEchoAny, crossEchoPtr, crossEchoInts,
		crossEchoBytes, crossEchoMap, crossLen, crossIsNil, crossCycle, crossUnregistered,
		crossCount, crossCountMap, crossEchoHolder, crossEchoOpaque, crossRingNames)
}

func TestWhatCrossesIntoAWorker(t *testing.T) {
	seven := 7
	cyclic := &crossNode{N: 1}
	cyclic.Next = &crossNode{N: 2, Next: cyclic}
	for _, tc := range []struct {
		name  string
		codec futures.Codec
		call  func(p *futures.ProcessPool) (any, error)
		want  any // the result, compared with assert.Equal, when err is ""
		check func(t *testing.T, got any)
		err   string // what the error says, in order, if it fails
	}{
		{name: "exported fields cross; unexported, chan and func fields come back zero",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoRecord, crossRecord{ID: 1, Name: "a", hidden: 5, Ch: make(chan int), Fn: func() {}, Ptr: &seven}).Result(bg)
			},
			check: func(t *testing.T, got any) {
				r := got.(crossRecord)
				assert.Equal(t, 1, r.ID)
				assert.Equal(t, "a", r.Name)
				assert.Zero(t, r.hidden)
				assert.Nil(t, r.Ch)
				assert.Nil(t, r.Fn)
				assert.Equal(t, 7, *r.Ptr)
			}},
		{name: "in a struct, nil and empty slices come back nil; a nil map nil, an empty map empty",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoRecord, crossRecord{Empty: []int{}, EmptyMap: map[string]int{}}).Result(bg)
			},
			check: func(t *testing.T, got any) {
				r := got.(crossRecord)
				assert.Nil(t, r.NilList)
				assert.Nil(t, r.Empty)
				assert.Nil(t, r.NilMap)
				assert.NotNil(t, r.EmptyMap)
				assert.Empty(t, r.EmptyMap)
			}},
		{name: "a pointer to a zero value comes back nil, as gob sends no zero value",
			call: func(p *futures.ProcessPool) (any, error) {
				zero := 0
				return futures.Submit(p, crossEchoRecord, crossRecord{Ptr: &zero}).Result(bg)
			},
			check: func(t *testing.T, got any) { assert.Nil(t, got.(crossRecord).Ptr) }},
		{name: "interface fields of registered types",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoRecord, crossRecord{Shape: crossCircle{2}, Any: crossCircle{3}}).Result(bg)
			},
			check: func(t *testing.T, got any) {
				r := got.(crossRecord)
				assert.Equal(t, crossCircle{2}, r.Shape)
				assert.Equal(t, crossCircle{3}, r.Any)
			}},
		{name: "an interface argument and result of a registered type",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoShape, crossShape(crossCircle{4})).Result(bg)
			},
			want: crossShape(crossCircle{4})},
		{name: "an any argument and result of a registered type",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoAny, any(crossCircle{5})).Result(bg)
			},
			want: crossCircle{5}},
		{name: "an any argument and result of a common type",
			call: func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossEchoAny, any(12)).Result(bg) },
			want: 12},
		{name: "a nil interface argument and result",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoShape, crossShape(nil)).Result(bg)
			},
			want: crossShape(nil)},
		{name: "a nil pointer argument and result",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoPtr, (*crossRecord)(nil)).Result(bg)
			},
			want: (*crossRecord)(nil)},
		{name: "a nil pointer argument reaches the function as nil",
			call: func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossIsNil, nil).Result(bg) },
			want: true},
		{name: "an interface argument holding a nil pointer reaches the function as a nil interface",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoShape, crossShape((*crossCircle)(nil))).Result(bg)
			},
			want: crossShape(nil)},
		{name: "a nil pointer in an interface field fails",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoRecord, crossRecord{Shape: (*crossCircle)(nil)}).Result(bg)
			},
			err: "cannot encode nil pointer of type *futures_test.crossCircle inside interface"},
		{name: "a nil pointer in a slice fails",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossCount, []*crossRecord{{ID: 1}, nil}).Result(bg)
			},
			err: "gob: encodeArray: nil element"},
		{name: "a nil pointer in a map fails",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossCountMap, map[int]*crossRecord{1: nil}).Result(bg)
			},
			err: "nil element"},
		{name: "an exported field of a struct type with no exported fields fails",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoHolder, crossHolder{ID: 1}).Result(bg)
			},
			err: "gob: type futures_test.crossOpaque has no exported fields"},
		{name: "a struct with no exported fields as the whole argument fails",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoOpaque, crossOpaque{n: 1}).Result(bg)
			},
			err: "gob: type futures_test.crossOpaque has no exported fields"},
		{name: "a pointer argument and result",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoPtr, &crossRecord{ID: 3}).Result(bg)
			},
			want: &crossRecord{ID: 3}},
		{name: "top level: a nil slice comes back nil",
			call:  func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossEchoInts, nil).Result(bg) },
			check: func(t *testing.T, got any) { assert.Nil(t, got.([]int)) }},
		{name: "top level: an empty slice comes back nil",
			call:  func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossEchoInts, []int{}).Result(bg) },
			check: func(t *testing.T, got any) { assert.Nil(t, got.([]int)) }},
		{name: "top level: an empty []byte comes back empty, a nil one nil",
			call: func(p *futures.ProcessPool) (any, error) {
				e, err := futures.Submit(p, crossEchoBytes, []byte{}).Result(bg)
				if err != nil {
					return nil, err
				}
				n, err := futures.Submit(p, crossEchoBytes, nil).Result(bg)
				return [2][]byte{e, n}, err
			},
			check: func(t *testing.T, got any) {
				b := got.([2][]byte)
				assert.NotNil(t, b[0])
				assert.Empty(t, b[0])
				assert.Nil(t, b[1])
			}},
		{name: "top level: a nil map comes back empty, not nil",
			call: func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossEchoMap, nil).Result(bg) },
			check: func(t *testing.T, got any) {
				assert.NotNil(t, got.(map[string]int))
				assert.Empty(t, got.(map[string]int))
			}},
		{name: "JSON: an any result of a struct comes back a map",
			codec: futures.JSON,
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoAny, any(crossCircle{5})).Result(bg)
			},
			want: map[string]any{"R": 5.0}},
		{name: "a chan argument fails, naming the function, the type and the codec",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoAny, any(make(chan int))).Result(bg)
			},
			err: "cannot encode the argument of futures_test.crossEchoAny with gob (a interface {}): gob: type not registered for interface: chan int"},
		{name: "a func argument fails",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoAny, any(func() {})).Result(bg)
			},
			err: "cannot encode the argument of futures_test.crossEchoAny with gob"},
		{name: "an argument of an unregistered concrete type fails, naming it",
			call: func(p *futures.ProcessPool) (any, error) {
				return futures.Submit(p, crossEchoShape, crossShape(crossSquare{1})).Result(bg)
			},
			err: "cannot encode the argument of futures_test.crossEchoShape with gob (a futures_test.crossShape): gob: type not registered for interface: futures_test.crossSquare"},
		{name: "a result of an unregistered concrete type fails, naming it",
			call: func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossUnregistered, 2.0).Result(bg) },
			err:  "the worker cannot encode the result, a futures_test.crossShape: gob: type not registered for interface: futures_test.crossSquare (function futures_test.crossUnregistered, codec gob)"},
		{name: "a cyclic argument fails instead of overflowing the stack",
			call: func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossLen, cyclic).Result(bg) },
			err:  "cannot encode the argument of futures_test.crossLen with gob (a *futures_test.crossNode): a *futures_test.crossNode refers to itself"},
		{name: "a cycle that encodes itself with GobEncode crosses",
			call: func(p *futures.ProcessPool) (any, error) {
				r := &crossRing{Name: "a", Next: &crossRing{Name: "b"}}
				r.Next.Next = r
				return futures.Submit(p, crossRingNames, r).Result(bg)
			},
			want: "abab"},
		{name: "a value nested more than 10,000 levels deep fails",
			call: func(p *futures.ProcessPool) (any, error) {
				deep := &crossNode{}
				for range 10_001 {
					deep = &crossNode{Next: deep}
				}
				return futures.Submit(p, crossLen, deep).Result(bg)
			},
			err: "nests more than 10000 levels deep"},
		{name: "a cyclic result fails, and the worker survives",
			call: func(p *futures.ProcessPool) (any, error) { return futures.Submit(p, crossCycle, 1).Result(bg) },
			err:  "refers to itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []futures.Option{futures.MaxWorkers(1)}
			if tc.codec != nil {
				opts = append(opts, futures.Encoding(tc.codec))
			}
			p := newProcPool(t, opts...)
			got, err := tc.call(p)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
			} else if assert.NoError(t, err) {
				if tc.check != nil {
					tc.check(t, got)
				} else {
					assert.Equal(t, tc.want, got)
				}
			}
			// The pool and its one worker serve on.
			r, err := futures.Submit(p, crossEchoInts, []int{9}).Result(bg)
			require.NoError(t, err)
			assert.Equal(t, []int{9}, r)
			assert.Equal(t, int64(1), p.Stats().WorkerStarts)
		})
	}
}

// TestValuesCrossTheFrameLimitWithAClearError: an argument bigger than a
// frame fails with the function and the sizes, and the worker stays in step
// with the next values.
func TestValuesCrossTheFrameLimitWithAClearError(t *testing.T) {
	const limit = 64 << 10
	lowerMaxFrame(t, limit)
	t.Setenv(workerMaxFrame, strconv.Itoa(limit))
	p := newProcPool(t, futures.MaxWorkers(1))
	_, err := futures.Submit(p, crossEchoRecord, crossRecord{Name: string(make([]byte, limit))}).Result(bg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "crossEchoRecord")
	assert.Contains(t, err.Error(), "more than the")
	r, err := futures.Submit(p, crossEchoRecord, crossRecord{ID: 2, Shape: crossCircle{1}}).Result(bg)
	require.NoError(t, err)
	assert.Equal(t, crossRecord{ID: 2, Shape: crossCircle{1}}, r)
}

// TestValueStreamsStayInStep sends structs through workers that are
// recycled every few calls, killed in the middle of a Map, given calls
// whose arguments fail to encode halfway: every result that comes back is right, so each new
// worker gets the type definitions it needs and no worker gets one twice.
func TestValueStreamsStayInStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	records := func(n int) func(func(crossRecord) bool) {
		return func(yield func(crossRecord) bool) {
			for i := range n {
				k := i + 1
				if !yield(crossRecord{ID: i, Name: strconv.Itoa(i), Ptr: &k}) {
					return
				}
			}
		}
	}
	t.Run("recycled workers", func(t *testing.T) {
		p := newProcPool(t, futures.MaxWorkers(2), futures.MaxTasksPerWorker(7))
		for _, chunk := range []int{1, 3, 50} {
			i := 0
			for r, err := range futures.Map(ctx, p, crossEchoRecord, records(120), futures.Chunksize(chunk)) {
				require.NoError(t, err)
				require.Equal(t, i, r.ID)
				require.Equal(t, i+1, *r.Ptr)
				i++
			}
			require.Equal(t, 120, i)
		}
		assert.Greater(t, p.Stats().WorkerStarts, int64(10))
	})
	t.Run("a worker killed mid-Map", func(t *testing.T) {
		p := newProcPool(t, futures.MaxWorkers(2))
		i := 0
		for r, err := range futures.Map(ctx, p, crossKillAt, records(200), futures.Chunksize(5)) {
			if i == 100 {
				require.ErrorIs(t, err, futures.ErrWorkerExited)
			} else {
				require.NoError(t, err, "item %d", i)
				require.Equal(t, i, r.ID)
			}
			i++
		}
		require.Equal(t, 200, i)
		assert.Equal(t, int64(1), p.Stats().WorkerExits)
	})
	t.Run("arguments that fail halfway", func(t *testing.T) {
		p := newProcPool(t, futures.MaxWorkers(1))
		bad := crossRecord{ID: -1, Any: crossSquare{1}} // encodes ID and Name, then fails
		_, err := futures.Submit(p, crossEchoRecord, bad).Result(ctx)
		require.ErrorContains(t, err, "not registered")
		fs := make([]*futures.Future[crossRecord], 0, 40)
		for i := range 40 {
			if i%3 == 0 {
				fs = append(fs, futures.Submit(p, crossEchoRecord, bad))
			} else {
				fs = append(fs, futures.Submit(p, crossEchoRecord, crossRecord{ID: i, Any: crossCircle{float64(i)}}))
			}
		}
		for i, f := range fs {
			r, err := f.Result(ctx)
			if i%3 == 0 {
				require.ErrorContains(t, err, "not registered")
				continue
			}
			require.NoError(t, err)
			require.Equal(t, crossRecord{ID: i, Any: crossCircle{float64(i)}}, r)
		}

	})
	t.Run("a Map refused after its arguments were encoded", func(t *testing.T) {
		p := newProcPool(t, futures.MaxWorkers(1), futures.QueueSize(1))
		fifo, running := runningSignal(t)
		blockCtx, unblock := context.WithCancel(ctx)
		blocked := make(chan struct{})
		go func() {
			defer close(blocked)
			for range futures.Map(blockCtx, p, procBlock, slices.Values([]string{fifo})) {
			}
		}()
		running()
		queued := futures.Submit(p, procSquare, 4) // the one place in the queue
		// crossRefused is encoded here first, and the calls are refused.
		short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
		defer stop()
		for _, err := range futures.Map(short, p, crossEchoRefused, func(yield func(crossRefused) bool) {
			for i := range 3 {
				if !yield(crossRefused{N: i + 1, Tags: []string{"refused"}}) {
					return
				}
			}
		}, futures.Chunksize(3)) {
			require.ErrorIs(t, err, futures.ErrTimeout)
		}
		unblock()
		<-blocked
		v, err := queued.Result(ctx)
		require.NoError(t, err)
		assert.Equal(t, 16, v)
		r, err := futures.Submit(p, crossEchoRefused, crossRefused{N: 7, Tags: []string{"sent"}}).Result(ctx)
		require.NoError(t, err)
		assert.Equal(t, crossRefused{N: 7, Tags: []string{"sent"}}, r)
	})
}

// crossRefused is the argument of calls refused after it was encoded.
type crossRefused struct {
	N    int
	Tags []string
}

func crossEchoRefused(_ context.Context, r crossRefused) (crossRefused, error) { return r, nil }

func init() { futures.Register(crossEchoRefused) }

// crossKillAt returns r, or ends the worker process at the record with ID
// 100, after which the pool starts another.
func crossKillAt(_ context.Context, r crossRecord) (crossRecord, error) {
	if r.ID == 100 {
		os.Exit(3)
	}
	return r, nil
}

func init() { futures.Register(crossKillAt) }
