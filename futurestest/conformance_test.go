package futurestest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gofutures/futures"
	"github.com/gofutures/futures/futurestest"
)

func TestExecutorThreadPool(t *testing.T) {
	futurestest.TestExecutor(t, func(t *testing.T) futures.Executor {
		p, err := futures.NewThreadPool(futures.MaxWorkers(2))
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

func TestExecutorProcessPool(t *testing.T) {
	futurestest.TestExecutor(t, func(t *testing.T) futures.Executor {
		p, err := futures.NewProcessPool(futures.MaxWorkers(2))
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

func TestExecutorInline(t *testing.T) {
	futurestest.TestExecutor(t, func(*testing.T) futures.Executor { return futurestest.NewInline() })
}

func TestExecutorManual(t *testing.T) {
	futurestest.TestExecutor(t, func(*testing.T) futures.Executor { return driven(futurestest.NewManual()) })
}

// drivenManual is a Manual with a goroutine that runs its queued calls one
// at a time, as a pool of one worker would, until it is shut down.
type drivenManual struct {
	*futurestest.Manual
	stop    context.CancelFunc
	stopped chan struct{}
}

// driven starts running m's calls.
func driven(m *futurestest.Manual) *drivenManual {
	ctx, stop := context.WithCancel(context.Background())
	d := &drivenManual{Manual: m, stop: stop, stopped: make(chan struct{})}
	go d.drive(ctx)
	return d
}

// drive runs queued calls until ctx ends, each in a goroutine of its own so
// that a call that calls runtime.Goexit ends only that goroutine.
func (d *drivenManual) drive(ctx context.Context) {
	defer close(d.stopped)
	for d.WaitPending(ctx, 1) == nil {
		ran := make(chan struct{})
		go func() {
			defer close(ran)
			d.RunNext()
		}()
		<-ran
	}
}

// MaxWorkers reports the one call the driver runs at a time.
func (d *drivenManual) MaxWorkers() int { return 1 }

// Shutdown shuts the Manual down while the driver runs what is queued, then
// stops the driver.
func (d *drivenManual) Shutdown(ctx context.Context, opts ...futures.ShutdownOption) error {
	err := d.Manual.Shutdown(ctx, opts...)
	d.stop()
	select {
	case <-d.stopped:
	case <-ctx.Done():
	}
	return err
}

// Close is Shutdown(context.Background()).
func (d *drivenManual) Close() error { return d.Shutdown(context.Background()) }
