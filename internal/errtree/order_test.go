package errtree

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gofutures/futures/internal/value"
)

// Sentinels of the same type and text, as two packages that both declare
// ErrNotFound = errors.New("not found") have.
var (
	errNotFoundA = errors.New("errtree test: not found")
	errNotFoundB = errors.New("errtree test: not found")
)

// registration is the errors one call of Register registers, and where
// that call is.
type registration struct {
	site string
	errs []error
}

// registryOf returns a registry made by the registrations regs, in order.
func registryOf(regs ...registration) *registry {
	r := clone(nil)
	for _, reg := range regs {
		r = clone(r).add(reg.site, reg.errs)
	}
	return r
}

// TestSentinelsOfTheSameTextInEitherOrder: sentinels that share a type and
// a text, registered at different places, keep their identity whatever
// the order in which each process registered them, and whichever of them
// only one process registered: a sentinel never becomes another in the
// parent (as with a worker program, started with WorkerCommand, that
// imports only one of two packages declaring the same error).
func TestSentinelsOfTheSameTextInEitherOrder(t *testing.T) {
	a := registration{"pkga.init:10", []error{errNotFoundA}}
	b := registration{"pkgb.init:20", []error{errNotFoundB}}
	loopA, loopB := registration{"loop:30", []error{errNotFoundA}}, registration{"loop:30", []error{errNotFoundB}}
	for _, tc := range []struct {
		name           string
		worker, parent *registry
	}{
		{"the same order", registryOf(a, b), registryOf(a, b)},
		{"the other order", registryOf(a, b), registryOf(b, a)},
		{"the worker has one", registryOf(b), registryOf(a, b)},
		{"the parent has one", registryOf(a, b), registryOf(b)},
		{"the parent has the other order and the worker one", registryOf(b), registryOf(b, a)},
		{"one site, in a loop", registryOf(loopA, loopB), registryOf(loopA, loopB)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, sent := range []error{errNotFoundA, errNotFoundB} {
				if _, found, _ := tc.worker.sentinelKey(sent); !found {
					continue
				}
				_, inParent, _ := tc.parent.sentinelKey(sent)
				got := cross(t, tc.worker, tc.parent, fmt.Errorf("w: %w", sent), value.Gob)
				for _, target := range []error{errNotFoundA, errNotFoundB} {
					assert.Equal(t, inParent && target == sent, errors.Is(got, target), "sent %p, target %p", sent, target)
				}
			}
		})
	}
}
