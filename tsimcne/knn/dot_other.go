//go:build !amd64 || purego

package knn

// bestKernel is plain Go: there is no assembly kernel for this architecture
// (or the purego build tag is set).
const bestKernel = kernelGo

// dot4x4Asm is dot4x4's Go path here (it is not called: kernel is kernelGo).
func dot4x4Asm(a0, a1, a2, a3, b0, b1, b2, b3 []float32, n int, c0, c1, c2, c3 []float32) {
	dot2x4Go(a0, a1, b0, b1, b2, b3, n, c0, c1)
	dot2x4Go(a2, a3, b0, b1, b2, b3, n, c2, c3)
}
