package guard

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A runtime.Goexit or a panic in one call skips none of the others, and
// then goes on ending the goroutine.
func TestEachSkipsNoneAfterGoexitOrPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func()
	}{
		{"goexit", runtime.Goexit},
		{"panic", func() { panic("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			returned, recovered := false, any(nil)
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer func() { recovered = recover() }()
				Each([]int{1, 2, 3, 4}, func(x int) {
					got = append(got, x)
					if x == 2 {
						tc.stop()
					}
				})
				returned = true
			}()
			<-done
			assert.Equal(t, []int{1, 2, 3, 4}, got)
			assert.False(t, returned, "Each returned normally")
			assert.Equal(t, tc.name == "panic", recovered != nil)
		})
	}
}
