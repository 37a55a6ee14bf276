//go:build !amd64 || purego

package accel

// bestKernel is the pure-Go micro-kernel: there is no assembly for this
// architecture (or the purego build tag is set).
func bestKernel() *microKernel { return kernelGo }

// availableKernels lists the micro-kernels this build runs (for tests).
func availableKernels() []*microKernel { return []*microKernel{kernelGo} }

// narrowKernelFor returns nil: there is only one kernel.
func narrowKernelFor(*microKernel) *microKernel { return nil }
