//go:build noaccel

package accel

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// This file replaces, in programs built with the noaccel build tag, every
// file that links simplego's internals (install.go, simplego_internals.go,
// the executors and the fused ops): the same exported API, behaving as if
// the fast kernels were absent. The GEMM (MatMul, Kernel) needs no
// internals and stays.

// Install does nothing and returns ErrCompiledOut: this program was built
// with the noaccel build tag, so GoMLX's pure-Go backend keeps its own
// executors. Nothing is logged (the tag is a deliberate choice).
func Install() error { return ErrCompiledOut }

// Installed reports false: the fast executors are compiled out (noaccel).
func Installed() bool { return false }

// Backend is simplego's backend, as in builds without the noaccel tag;
// WithFusedOps never returns one in this build, so no fused ops are
// offered.
type Backend struct {
	*simplego.Backend
}

// WithFusedOps returns b unchanged: the fused ops are compiled out
// (noaccel).
func WithFusedOps(b backends.Backend) backends.Backend { return b }

// SetParallelism returns ErrCompiledOut (noaccel): pass "parallelism=N" in
// the backend's configuration instead (simplego then prints a line).
func SetParallelism(b backends.Backend, n int) error { return ErrCompiledOut }
