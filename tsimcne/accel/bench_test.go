package accel

import (
	"math/rand/v2"
	"testing"
)

// benchShapes are products of the training steps of tsimcne/model (m x k
// times k x n), with the operand layouts the im2col convolution and its
// gradients produce: "row" is row-major, "col" a transposed row-major
// matrix.
var benchShapes = []struct {
	name    string
	m, n, k int
	la, lb  string
}{
	// cnn4 at B=256 views (as traced in its training step).
	{"cnn4-conv2-fwd-M65536-K288-N64", 65536, 64, 288, "row", "row"},
	{"cnn4-conv2-dx-M65536-K64-N288", 65536, 288, 64, "row", "col"},
	{"cnn4-conv3-dw-M128-K16384-N576", 128, 576, 16384, "col", "row"},
	{"cnn4-conv3-dx-M16384-K128-N576", 16384, 576, 128, "row", "col"},
	{"cnn4-conv4-dw-M256-K4096-N1152", 256, 1152, 4096, "col", "row"},
	{"conv1-fwd-cnn4-B256", 262144, 32, 27, "row", "row"},
	// resnet18-quarter's first stage at B=32: 16 filters, half a 32-wide tile.
	{"narrow-fwd-M32768-K144-N16", 32768, 16, 144, "row", "row"},
	{"narrow-dw-M16-K32768-N144", 16, 144, 32768, "col", "row"},
	{"narrow-dx-M32768-K16-N144", 32768, 144, 16, "row", "col"},
	{"conv-fwd-M65536-K288-N64", 65536, 64, 288, "row", "row"},
	{"conv-fwd-M32768-K576-N64", 32768, 64, 576, "row", "row"},
	{"conv-fwd-M2048-K2304-N256", 2048, 256, 2304, "row", "row"},
	{"conv-fwd-M512-K4608-N512", 512, 512, 4608, "row", "row"},
	{"conv-dx-M32768-K64-N576", 32768, 576, 64, "row", "col"},
	{"conv-dx-M2048-K256-N2304", 2048, 2304, 256, "row", "col"},
	{"conv-dw-M64-K32768-N576", 64, 576, 32768, "col", "row"},
	{"conv-dw-M32-K262144-N27", 32, 27, 262144, "col", "row"},
	{"conv-dw-M512-K512-N4608", 512, 4608, 512, "col", "row"},
	{"head-M512-K512-N1024", 512, 1024, 512, "row", "row"},
	// Winograd F(2x2,3x3) on ResNet-18's layer1 at B=32: one of the 16
	// tile-position products, the input and output transforms.
	{"wino2-prod-M8192-K64-N64", 8192, 64, 64, "row", "row"},
	{"wino2-in-M16-K16-N524288", 16, 524288, 16, "row", "row"},
	{"wino2-out-M4-K16-N524288", 4, 524288, 16, "row", "row"},
	{"wino4-in-M36-K36-N131072", 36, 131072, 36, "row", "row"},
	{"square-1024", 1024, 1024, 1024, "row", "row"},
}

// BenchmarkMatMul reports GFLOP/s of MatMul on the training-step shapes
// (wall clock, all goroutines) and GFLOP per CPU-second (per core: on a
// shared machine it varies much less with other processes' load):
//
//	go test ./tsimcne/accel -run '^$' -bench MatMul -benchtime 5x
func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			a := randomMatrix(r, s.m, s.k, s.la)
			bm := randomMatrix(r, s.k, s.n, s.lb)
			c := RowMajor(make([]float32, s.m*s.n), s.m, s.n)
			if err := MatMul(c, a, bm); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := processCPUTime()
			for range b.N {
				_ = MatMul(c, a, bm)
			}
			cpu := processCPUTime() - cpu0
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu > 0 {
				b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

// BenchmarkMicroKernel reports the single-core peak of each micro-kernel
// (one tile, k = kcBlock, data in L1).
func BenchmarkMicroKernel(b *testing.B) {
	for _, mk := range availableKernels() {
		b.Run(mk.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			k := kcBlock
			a := randomFloats(r, mk.mr*k)
			bp := randomFloats(r, k*mk.nr)
			c := make([]float32, mk.mr*mk.nr)
			for range b.N {
				mk.run(k, a, 0, 1, mk.mr, bp, 0, mk.nr, c, 0, mk.nr, true)
			}
			flops := 2 * float64(mk.mr*mk.nr*k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
