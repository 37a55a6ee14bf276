package accel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// sparseMatrix returns a [rows, cols] matrix with about the given share of
// non-zero entries (F(4x4, 3x3)'s input transform Bᵀ⊗Bᵀ has 37%).
func sparseMatrix(r *rand.Rand, rows, cols int, density float64) []float32 {
	m := make([]float32, rows*cols)
	for i := range m {
		if r.Float64() < density {
			m[i] = float32(r.IntN(9) - 4)
		}
	}
	return m
}

// BenchmarkTileTransform times one chunk's transform, [36 x 36] times
// [36 x n], with the GEMM and with the sparse row-combination kernel.
func BenchmarkTileTransform(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	m := sparseMatrix(r, 36, 36, 0.37)
	prog := newRowProgram(m, 36, 36)
	for _, n := range []int{512, 896, 2048} {
		src := make([]float32, 36*n)
		for i := range src {
			src[i] = r.Float32()
		}
		dst := make([]float32, 36*n)
		flops := float64(2 * 36 * 36 * n)
		b.Run(fmt.Sprintf("gemm/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				p := &problem{batch: 1, m: 36, n: n, k: 36, a: m, rsA: 36, csA: 1, b: src, rsB: n, csB: 1, c: dst, ldc: n}
				gemm(p, kernelFor(p), 1)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "denseGFLOP/s")
		})
		b.Run(fmt.Sprintf("sparse/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				vecRowComb(dst, n, src, n, n, prog)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "denseGFLOP/s")
		})
	}
}
