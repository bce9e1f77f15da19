package futurestest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// shout is the kind of function code under test hands to an executor.
func shout(_ context.Context, s string) (string, error) {
	if s == "" {
		return "", errors.New("nothing to shout")
	}
	return strings.ToUpper(s) + "!", nil
}

// Inline runs each call before Submit returns, so a test sees its result at
// once and in order.
func ExampleNewInline() {
	ex := futurestest.NewInline()
	defer ex.Close()

	f := futures.Submit(ex, shout, "hello")
	fmt.Println(f.State())
	fmt.Println(f.Result(context.Background()))

	for s, err := range futures.Map(context.Background(), ex, shout, slices.Values([]string{"a", "", "c"})) {
		fmt.Printf("%q %v\n", s, err)
	}
	// Output:
	// finished
	// HELLO! <nil>
	// "A!" <nil>
	// "" nothing to shout
	// "C!" <nil>
}

// Manual keeps every call queued until the test runs it, so the test can look
// at the code under test while its work is pending.
func ExampleNewManual() {
	ex := futurestest.NewManual()
	defer ex.Close()

	first := futures.Submit(ex, shout, "one")
	second := futures.Submit(ex, shout, "two")
	futures.Submit(ex, shout, "three")
	fmt.Println(ex.Pending(), first.State(), second.State())

	ex.RunNext()
	fmt.Println(ex.Pending(), first.State(), second.State())

	fmt.Println(ex.RunAll(), ex.Pending())
	fmt.Println(second.Result(context.Background()))
	// Output:
	// 3 pending pending
	// 2 finished pending
	// 2 0
	// TWO! <nil>
}

// A test fails or cancels chosen calls by their argument, to see how the code
// under test copes.
func ExampleManual_Queued() {
	ex := futurestest.NewManual()
	defer ex.Close()

	var fs []*futures.Future[string]
	for _, s := range []string{"a", "b", "c"} {
		fs = append(fs, futures.Submit(ex, shout, s))
	}
	for _, c := range ex.Queued() {
		switch arg, _ := c.Arg(); arg {
		case "b":
			c.Fail(errors.New("disk full"))
		case "c":
			c.Cancel()
		}
	}
	ex.RunAll()
	for _, f := range fs {
		v, err := f.Result(context.Background())
		fmt.Printf("%v %q %v\n", f.State(), v, err)
	}
	// Output:
	// finished "A!" <nil>
	// finished "" disk full
	// cancelled "" futures: the call was cancelled before it ran
}

// Shutdown waits until the test has run the queued calls, or cancels them
// with CancelPending.
func ExampleManual_Shutdown() {
	ex := futurestest.NewManual()
	f := futures.Submit(ex, shout, "late")

	fmt.Println(ex.Shutdown(context.Background(), futures.CancelPending()))
	fmt.Println(f.State())
	fmt.Println(futures.Submit(ex, shout, "later").Err())
	// Output:
	// <nil>
	// cancelled
	// futures: cannot schedule new calls after shutdown; create a new executor
}

func ExampleResolved() {
	f := futurestest.Resolved(42)
	fmt.Println(f.State())
	fmt.Println(f.Result(context.Background()))
	// Output:
	// finished
	// 42 <nil>
}

func ExampleFailed() {
	f := futurestest.Failed[int](errors.New("no route to host"))
	fmt.Println(f.State())
	fmt.Println(f.Result(context.Background()))
	// Output:
	// finished
	// 0 no route to host
}

func ExampleCancelledFuture() {
	f := futurestest.CancelledFuture[string]()
	fmt.Println(f.State())
	_, err := f.Result(context.Background())
	fmt.Println(errors.Is(err, futures.ErrCancelled))
	// Output:
	// cancelled
	// true
}
