package futures_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofutures/futures"
)

func square(_ context.Context, x int) (int, error) { return x * x, nil }

func ExampleSubmit() {
	pool, err := futures.NewThreadPool(futures.MaxWorkers(4))
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	f := futures.Submit(pool, square, 12)
	v, err := f.Result(context.Background())
	fmt.Println(v, err)
	// Output: 144 <nil>
}

func ExampleGo() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	word := "concurrent"
	f := futures.Go(pool, func(context.Context) (string, error) {
		return strings.ToUpper(word), nil
	})
	v, _ := f.Result(context.Background())
	fmt.Println(v)
	// Output: CONCURRENT
}

func ExampleSubmitContext() {
	pool, _ := futures.NewThreadPool(futures.MaxWorkers(1))
	defer pool.Close()

	// A slow call, stopped when its request goes away.
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	slow := futures.SubmitContext(ctx, pool, func(ctx context.Context, d time.Duration) (string, error) {
		close(started)
		select {
		case <-time.After(d):
			return "done", nil
		case <-ctx.Done():
			return "stopped early", nil // the call decides its outcome
		}
	}, time.Hour)
	<-started
	// A call queued behind it, with the same context: it never runs.
	queued := futures.SubmitContext(ctx, pool, square, 3)
	cancel()

	v, err := slow.Result(context.Background())
	fmt.Println(v, err)
	_, err = queued.Result(context.Background())
	fmt.Println(errors.Is(err, futures.ErrCancelled), errors.Is(err, context.Canceled))
	// Output:
	// stopped early <nil>
	// true true
}

func ExampleGoContext() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := futures.GoContext(ctx, pool, func(ctx context.Context) (bool, error) {
		_, hasDeadline := ctx.Deadline() // ctx's, in a worker process too
		return hasDeadline, nil
	})
	v, _ := f.Result(context.Background())
	fmt.Println(v)
	// Output: true
}

func ExampleFuture_Result() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	release := make(chan struct{})
	f := futures.Go(pool, func(context.Context) (string, error) {
		<-release
		return "done", nil
	})

	// A deadline that passes returns ErrTimeout; the call goes on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := f.Result(ctx)
	fmt.Println(errors.Is(err, futures.ErrTimeout), f.State())

	close(release)
	v, err := f.Result(context.Background())
	fmt.Println(v, err, f.State())
	// Output:
	// true running
	// done <nil> finished
}

func ExampleAsCompleted() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	var fs []*futures.Future[int]
	for _, x := range []int{3, 1, 2} {
		fs = append(fs, futures.Submit(pool, square, x))
	}
	sum := 0
	for f, err := range futures.AsCompleted(context.Background(), fs...) {
		if err != nil {
			fmt.Println("failed:", err)
			continue
		}
		v, _ := f.Result(context.Background())
		sum += v // in the order they finish
	}
	fmt.Println(sum)
	// Output: 14
}

func ExampleWait() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	errNegative := errors.New("negative")
	root := func(_ context.Context, x int) (int, error) {
		if x < 0 {
			return 0, errNegative
		}
		return x / 2, nil
	}
	fs := []*futures.Future[int]{
		futures.Submit(pool, root, 8),
		futures.Submit(pool, root, -1),
	}
	done, notDone := futures.Wait(context.Background(), fs, futures.AllCompleted)
	fmt.Println(len(done), len(notDone))
	fmt.Println(fs[1].Err())
	// Output:
	// 2 0
	// negative
}

func ExampleMap() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inverse := func(_ context.Context, x int) (float64, error) {
		if x == 0 {
			return 0, errors.New("division by zero")
		}
		return 1 / float64(x), nil
	}
	for v, err := range futures.Map(ctx, pool, inverse, slices.Values([]int{4, 0, 2})) {
		fmt.Println(v, err) // in input order; an error does not stop the loop
	}
	// Output:
	// 0.25 <nil>
	// 0 division by zero
	// 0.5 <nil>
}

func ExampleMap_chunksize() {
	pool, _ := futures.NewThreadPool()
	defer pool.Close()

	total := 0
	numbers := slices.Values([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	for v, err := range futures.Map(context.Background(), pool, square, numbers, futures.Chunksize(4), futures.Unordered()) {
		if err == nil {
			total += v
		}
	}
	fmt.Println(total)
	// Output: 385
}

func ExampleThreadPool_Shutdown() {
	pool, _ := futures.NewThreadPool(futures.MaxWorkers(1))

	started, release := make(chan struct{}), make(chan struct{})
	running := futures.Go(pool, func(context.Context) (int, error) {
		close(started)
		<-release
		return 1, nil
	})
	<-started
	queued := futures.Submit(pool, square, 3)
	queued.OnDone(func(*futures.Future[int]) { close(release) })

	// Python's shutdown(wait=True, cancel_futures=True): the queued call is
	// cancelled, the running one finishes.
	err := pool.Shutdown(context.Background(), futures.CancelPending())
	fmt.Println(err, running.State(), queued.State())

	late := futures.Submit(pool, square, 4)
	fmt.Println(errors.Is(late.Err(), futures.ErrShutdown))
	// Output:
	// <nil> finished cancelled
	// true
}

func ExampleNewPromise() {
	p := futures.NewPromise[string]()
	f := p.Future()
	f.OnDone(func(f *futures.Future[string]) {
		v, _ := f.Result(context.Background())
		fmt.Println("callback:", v)
	})
	if p.SetRunning() {
		_ = p.SetResult("ready")
	}
	fmt.Println(p.SetResult("again"))
	// Output:
	// callback: ready
	// futures: Promise.SetResult: the future is already finished; a future is completed once
}
