package futurestest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

// A nil *Inline or *Manual is a nil executor: Submit, Go and Map fail with
// an error that says so instead of panicking.
func TestNilExecutorFailsTheCall(t *testing.T) {
	var in *futurestest.Inline
	var m *futurestest.Manual
	fn := func(_ context.Context, x int) (int, error) { return x, nil }
	for _, ex := range []futures.Executor{in, m} {
		for _, err := range []error{
			futures.Submit(ex, fn, 1).Err(),
			futures.Go(ex, func(context.Context) (int, error) { return 0, nil }).Err(),
		} {
			if err == nil || !strings.Contains(err.Error(), "Executor is nil") {
				t.Errorf("%T: err = %v, want one saying the Executor is nil", ex, err)
			}
		}
		for _, err := range futures.Map(context.Background(), ex, fn, slices.Values([]int{1})) {
			if err == nil || !strings.Contains(err.Error(), "Executor is nil") {
				t.Errorf("%T: Map: err = %v, want one saying the Executor is nil", ex, err)
			}
		}
	}
}
