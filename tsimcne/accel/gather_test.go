//go:build !noaccel

package accel_test

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX style.
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// TestGatherScatter runs row gathers and their gradients (ScatterSum) with
// simplego's executors and ours, for several operand ranks, index dtypes
// and repeated indices, and checks which ones our executors took.
func TestGatherScatter(t *testing.T) {
	be := newBackend(t)
	r := rand.New(rand.NewPCG(12, 13))
	randomIdx32 := func(n, rows int, dims ...int) *tensors.Tensor {
		data := make([]int32, n)
		for i := range data {
			data[i] = int32(r.IntN(rows))
		}
		return tensors.FromFlatDataAndDimensions(data, dims...)
	}
	randomIdx64 := func(n, rows int, dims ...int) *tensors.Tensor {
		data := make([]int64, n)
		for i := range data {
			data[i] = int64(r.IntN(rows))
		}
		return tensors.FromFlatDataAndDimensions(data, dims...)
	}
	cases := []struct {
		name    string
		operand *tensors.Tensor
		indices *tensors.Tensor
		fast    bool // whether our executors run (float32 operands)
	}{
		{"im2col-like", randomTensor(r, "f32", 50, 8), randomIdx32(300*9, 50, 300, 9, 1), true},
		{"rank3-operand", randomTensor(r, "f32", 20, 3, 4), randomIdx32(40, 20, 40, 1), true},
		{"int64-indices", randomTensor(r, "f32", 30, 5), randomIdx64(70, 30, 7, 10, 1), true},
		{"big-parallel", randomTensor(r, "f32", 4000, 64), randomIdx32(20000, 4000, 20000, 1), true},
		{"float64", randomTensor(r, "f64", 30, 5), randomIdx32(40, 30, 40, 1), false},
	}
	for _, tc := range cases {
		before := accel.FastRowOpsForTest()
		runBoth(t, be, "gather/"+tc.name, false, func(x, idx *Node) []*Node {
			g := Gather(x, idx)
			w := Sin(Iota(x.Graph(), g.Shape(), g.Rank()-1))
			return []*Node{g, Gradient(ReduceAllSum(Mul(g, w)), x)[0]}
		}, tc.operand, tc.indices)
		// runBoth runs once without and once with the fast executors: a Gather
		// and a ScatterSum each time they are on.
		if ran := accel.FastRowOpsForTest() - before; (ran == 2) != tc.fast {
			t.Errorf("%s: fast Gather/ScatterSum ran %d times, want fast=%v", tc.name, ran, tc.fast)
		}
	}
}
