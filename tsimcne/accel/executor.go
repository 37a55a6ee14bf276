//go:build !noaccel

package accel

import (
	"fmt"
	"log"
	"sync"

	"github.com/gomlx/gomlx/backends/simplego"
)

// tryFunc computes a node with this package's code, or returns false,
// having changed nothing, to let simplego's executor do it. It may take
// over an input buffer it owns (inputsOwned) as its output, setting
// inputs[i] to nil, as simplego's own executors do.
type tryFunc func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, bool)

var panicOnce sync.Once

// executor returns the node executor that runs try when the fast
// executors are enabled and the node has nInputs inputs, and orig
// (simplego's executor) otherwise or when try declines.
//
// A panic in try is a bug of this package: it is logged once and every
// later op goes to simplego. The op itself falls back to orig too, unless
// try had already taken over an input buffer (whose data may be half
// overwritten): then it fails with an error rather than give a wrong result.
func executor(name string, nInputs int, orig nodeExecutor, try tryFunc) nodeExecutor {
	return func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
		if !enabled.Load() || len(inputs) != nInputs || len(inputsOwned) != nInputs {
			return orig(backend, node, inputs, inputsOwned)
		}
		var saved [4]*simplego.Buffer
		copy(saved[:], inputs)
		out, ok, err := runGuarded(name, func() (*simplego.Buffer, bool) {
			return try(backend, node, inputs, inputsOwned)
		})
		if err != nil {
			for i := range inputs {
				if inputs[i] == nil && saved[i] != nil {
					return nil, fmt.Errorf("accel: fast %s failed after taking over its input buffer: %w", name, err)
				}
			}
		}
		if ok {
			return out, nil
		}
		return orig(backend, node, inputs, inputsOwned)
	}
}

// runGuarded runs try, turning a panic into an error (logged once, and
// disabling the fast executors).
func runGuarded(name string, try func() (*simplego.Buffer, bool)) (out *simplego.Buffer, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			enabled.Store(false)
			panicOnce.Do(func() {
				log.Printf("tsimcne/accel: fast %s failed, GoMLX's own executors are used from now on: %v", name, r)
			})
			out, ok, err = nil, false, fmt.Errorf("%v", r)
		}
	}()
	out, ok = try()
	return out, ok, nil
}
