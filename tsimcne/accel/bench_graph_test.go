//go:build !noaccel

package accel_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX style.

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// BenchmarkDotGeneral compares simplego's own DotGeneral with the GEMM
// behind Install, on products of the training steps, run through a GoMLX
// graph (parallelism as tsimcne/backend configures it):
//
//	go test ./tsimcne/accel -run '^$' -bench DotGeneral -benchtime 3x
func BenchmarkDotGeneral(b *testing.B) {
	be := newBackend(b)
	r := rand.New(rand.NewPCG(2, 2))
	for _, s := range []struct {
		name                         string
		m, k, n                      int
		lhsTransposed, rhsTransposed bool
	}{
		{name: "conv-fwd-M32768-K576-N64", m: 32768, k: 576, n: 64},
		{name: "conv-dx-M32768-K64-N576", m: 32768, k: 64, n: 576, rhsTransposed: true},
		{name: "conv-dw-M64-K32768-N576", m: 64, k: 32768, n: 576, lhsTransposed: true},
		{name: "head-M512-K512-N1024", m: 512, k: 512, n: 1024},
	} {
		lhsDims, lc := []int{s.m, s.k}, 1
		if s.lhsTransposed {
			lhsDims, lc = []int{s.k, s.m}, 0
		}
		rhsDims, rc := []int{s.k, s.n}, 0
		if s.rhsTransposed {
			rhsDims, rc = []int{s.n, s.k}, 1
		}
		lhs := randomTensor(r, "f32", lhsDims...)
		rhs := randomTensor(r, "f32", rhsDims...)
		exec := MustNewExec(be, func(x, y *Node) *Node { return DotGeneral(x, []int{lc}, nil, y, []int{rc}, nil) })
		for _, fast := range []bool{false, true} {
			name := "simplego"
			if fast {
				name = "accel"
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, name), func(b *testing.B) {
				prev := accel.SetEnabledForTest(fast)
				defer accel.SetEnabledForTest(prev)
				exec.MustExec(lhs, rhs)[0].FinalizeAll()
				b.ResetTimer()
				cpu0 := accel.ProcessCPUTimeForTest()
				for range b.N {
					exec.MustExec(lhs, rhs)[0].FinalizeAll()
				}
				cpu := accel.ProcessCPUTimeForTest() - cpu0
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu > 0 {
					b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}
