package knn

// Micro-kernels of the brute-force search: dot products of four query rows
// with four train rows over a chunk of dimensions, added to four outputs.
//
// On amd64 they are written in assembly (dot_amd64.s): gonum's Sgemm (SSE,
// blas32.Gemm) reaches about 27 GFLOP/s on the 2-core development machine and
// a plain Go loop about 4 GFLOP/s per core, against about 100 GFLOP/s per
// core for the AVX-512VL kernel, which makes 10 000 x 10 000 CIFAR images
// (3072-D) a matter of seconds instead of half a minute (BenchmarkDots2000).

// kernelKind names an implementation of the micro-kernel.
type kernelKind int

const (
	// kernelGo is plain Go, for every architecture.
	kernelGo kernelKind = iota
	// kernelAVX2 is the 2x4 AVX2/FMA assembly kernel, called twice.
	kernelAVX2
	// kernelAVX512 is the 4x4 kernel with AVX-512VL's 32 vector registers.
	kernelAVX512
)

// String names the kernel.
func (k kernelKind) String() string {
	return [...]string{"go", "avx2", "avx512"}[k]
}

// kernel is the micro-kernel in use: the best this CPU runs (tests switch it).
var kernel = bestKernel

// dot4x4 adds to ci[j] (j < 4) the dot product of ai and bj over their
// first n elements, with the selected kernel (the assembly ones need n to be
// a positive multiple of 16; dot4x4 falls back to Go otherwise).
func dot4x4(a0, a1, a2, a3, b0, b1, b2, b3 []float32, n int, c0, c1, c2, c3 []float32) {
	if kernel != kernelGo && n > 0 && n%16 == 0 {
		dot4x4Asm(a0, a1, a2, a3, b0, b1, b2, b3, n, c0, c1, c2, c3)
		return
	}
	dot2x4Go(a0, a1, b0, b1, b2, b3, n, c0, c1)
	dot2x4Go(a2, a3, b0, b1, b2, b3, n, c2, c3)
}

// dot2x4Go adds to c0[0:4] the dot products of a0 with b0..b3 and to c1[0:4]
// those of a1 with b0..b3, over the first n elements of each row.
func dot2x4Go(a0, a1, b0, b1, b2, b3 []float32, n int, c0, c1 []float32) {
	a0, a1 = a0[:n], a1[:n]
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	for x := range a0 {
		x0, x1 := a0[x], a1[x]
		y0, y1, y2, y3 := b0[x], b1[x], b2[x], b3[x]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
	}
	c0 = c0[:4]
	c1 = c1[:4]
	c0[0] += s00
	c0[1] += s01
	c0[2] += s02
	c0[3] += s03
	c1[0] += s10
	c1[1] += s11
	c1[2] += s12
	c1[3] += s13
}
