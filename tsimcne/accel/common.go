package accel

import "errors"

// The declarations of this file are compiled with and without the noaccel
// build tag (see the package documentation).

// EnvVar is the environment variable that turns the fast kernels off:
// TSIMCNE_FAST_KERNELS=0 (or false, off, no) makes Install do nothing.
const EnvVar = "TSIMCNE_FAST_KERNELS"

// SupportedGoMLX is the only GoMLX version whose internals this package
// knows (see simplego_internals.go): Install refuses to run on any other.
const SupportedGoMLX = "v0.26.0"

// BuildTag is the build tag that compiles out everything that reaches into
// simplego's internals (go build -tags noaccel): Install then returns
// ErrCompiledOut and GoMLX's own executors are used.
const BuildTag = "noaccel"

// ErrDisabled is returned by Install when EnvVar turns the kernels off.
var ErrDisabled = errors.New("accel: fast kernels disabled by " + EnvVar)

// ErrCompiledOut is returned by Install in programs built with BuildTag.
var ErrCompiledOut = errors.New("accel: fast kernels compiled out by the " + BuildTag +
	" build tag: GoMLX's own simplego executors are used")
