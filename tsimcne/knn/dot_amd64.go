//go:build amd64 && !purego

package knn

import "golang.org/x/sys/cpu"

// bestKernel is the fastest micro-kernel this CPU can run.
var bestKernel = func() kernelKind {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasFMA:
		return kernelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return kernelAVX2
	}
	return kernelGo
}()

// dot2x4AVX2 is dot2x4Go in assembly (dot_amd64.s): n must be a positive
// multiple of 16, the six rows must hold at least n float32s and c0, c1 at
// least 4.
//
//go:noescape
func dot2x4AVX2(a0, a1, b0, b1, b2, b3 *float32, n int, c0, c1 *float32)

// dot4x4AVX512 is the 4x4 version of dot2x4AVX2, for CPUs with AVX-512VL.
//
//go:noescape
func dot4x4AVX512(a0, a1, a2, a3, b0, b1, b2, b3 *float32, n int, c0, c1, c2, c3 *float32)

// dot4x4Asm runs the selected assembly kernel; n is a positive multiple of 16.
func dot4x4Asm(a0, a1, a2, a3, b0, b1, b2, b3 []float32, n int, c0, c1, c2, c3 []float32) {
	// Bounds checks: the assembly reads n elements of each row, 4 of each c.
	_, _, _, _ = a0[n-1], a1[n-1], a2[n-1], a3[n-1]
	_, _, _, _ = b0[n-1], b1[n-1], b2[n-1], b3[n-1]
	_, _, _, _ = c0[3], c1[3], c2[3], c3[3]
	if kernel == kernelAVX512 {
		dot4x4AVX512(&a0[0], &a1[0], &a2[0], &a3[0], &b0[0], &b1[0], &b2[0], &b3[0], n, &c0[0], &c1[0], &c2[0], &c3[0])
		return
	}
	dot2x4AVX2(&a0[0], &a1[0], &b0[0], &b1[0], &b2[0], &b3[0], n, &c0[0], &c1[0])
	dot2x4AVX2(&a2[0], &a3[0], &b0[0], &b1[0], &b2[0], &b3[0], n, &c2[0], &c3[0])
}
