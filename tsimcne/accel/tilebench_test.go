package accel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// winogradB4 is F(4x4,3x3)'s Bᵀ⊗Bᵀ pattern for the benchmarks.
func winogradB4() []float32 {
	bt := [][]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	m := make([]float32, 0, 36*36)
	for p := range 6 {
		for q := range 6 {
			for a := range 6 {
				for b := range 6 {
					m = append(m, bt[p][a]*bt[q][b])
				}
			}
		}
	}
	return m
}

// BenchmarkTileTransform times one chunk's transform, [36 x 36] times
// [36 x n], with the GEMM and with the sparse row-combination kernel.
func BenchmarkTileTransform(b *testing.B) {
	m := winogradB4()
	prog := newRowProgram(m, 36, 36)
	for _, n := range []int{512, 896, 2048} {
		r := rand.New(rand.NewPCG(1, 1))
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
