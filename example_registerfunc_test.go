//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"fmt"

	"github.com/gofutures/futures"
)

// A Point is the struct argument and result of scale.
type Point struct{ X, Y float64 }

// scale doubles p; RegisterFunc lets a worker process call it without
// reflection.
func scale(_ context.Context, p Point) (Point, error) { return Point{2 * p.X, 2 * p.Y}, nil }

func init() { futures.RegisterFunc(scale) }

func ExampleRegisterFunc() {
	pool, err := futures.NewProcessPool(futures.MaxWorkers(1))
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	points := func(yield func(Point) bool) {
		for i := range 3 {
			if !yield(Point{float64(i), 1}) {
				return
			}
		}
	}
	for p, err := range futures.Map(context.Background(), pool, scale, points) {
		fmt.Println(p, err)
	}
	// Output:
	// {0 2} <nil>
	// {2 2} <nil>
	// {4 2} <nil>
}
