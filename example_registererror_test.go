//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package futures_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofutures/futures"
)

// ErrQuota is a sentinel; HTTPError an error type.
var ErrQuota = errors.New("quota exceeded")

type HTTPError struct{ Code int }

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d", e.Code) }

// fetch fails in a worker process, wrapping both.
func fetch(_ context.Context, url string) (int, error) {
	return 0, fmt.Errorf("fetch %s: %w", url, errors.Join(ErrQuota, &HTTPError{Code: 503}))
}

func init() {
	futures.Register(fetch)
	futures.RegisterError(ErrQuota, &HTTPError{})
}

func ExampleRegisterError() {
	pool, err := futures.NewProcessPool(futures.MaxWorkers(1))
	if err != nil {
		panic(err)
	}
	defer pool.Close()

	_, err = futures.Submit(pool, fetch, "https://example.com").Result(context.Background())
	var remote *futures.RemoteError
	var he *HTTPError
	fmt.Println(errors.As(err, &remote), errors.Is(err, ErrQuota), errors.As(err, &he), he.Code)
	// Output: true true true 503
}
