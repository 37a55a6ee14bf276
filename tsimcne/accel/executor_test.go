//go:build !noaccel

package accel

import (
	"errors"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
)

// TestExecutorPanics checks that a panic in a fast executor falls back to
// simplego's (or fails, if an input buffer was taken over) and switches
// the fast executors off.
func TestExecutorPanics(t *testing.T) {
	prev := enabled.Swap(true)
	defer enabled.Store(prev)
	origCalls := 0
	orig := func(*simplego.Backend, *simplego.Node, []*simplego.Buffer, []bool) (*simplego.Buffer, error) {
		origCalls++
		return nil, errors.New("orig")
	}
	panicky := executor("Test", 1, orig, func(_ *simplego.Backend, _ *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
		panic("bug")
	})
	in := []*simplego.Buffer{new(simplego.Buffer)}
	if _, err := panicky(nil, nil, in, []bool{false}); err == nil || err.Error() != "orig" || origCalls != 1 {
		t.Errorf("panic before taking an input: err %v, orig called %d times; want simplego's executor", err, origCalls)
	}
	if enabled.Load() {
		t.Error("a panic did not disable the fast executors")
	}

	enabled.Store(true)
	consuming := executor("Test", 1, orig, func(_ *simplego.Backend, _ *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
		inputs[0] = nil
		panic("bug")
	})
	if _, err := consuming(nil, nil, in, []bool{true}); err == nil || err.Error() == "orig" || origCalls != 1 {
		t.Errorf("panic after taking the input: err %v, orig called %d times; want an error", err, origCalls-1)
	}

	// Disabled: straight to simplego.
	enabled.Store(false)
	called := false
	never := executor("Test", 1, orig, func(*simplego.Backend, *simplego.Node, []*simplego.Buffer, []bool) (*simplego.Buffer, bool) {
		called = true
		return nil, true
	})
	_, _ = never(nil, nil, []*simplego.Buffer{new(simplego.Buffer)}, []bool{false})
	if called || origCalls != 2 {
		t.Error("disabled executor ran the fast path")
	}
}
