//go:build !noaccel

package accel_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX style.
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
	"github.com/gosimcne/gosimcne/tsimcne/nn"
)

// TestElementwise runs broadcasting binary ops, BroadcastInDim, ReduceSum
// and a batch-norm-like computation with its gradient, with simplego's
// executors and ours.
func TestElementwise(t *testing.T) {
	be := newBackend(t)
	r := rand.New(rand.NewPCG(20, 21))
	shapes := []struct{ x, y []int }{
		{[]int{4, 5, 6, 7}, []int{1, 1, 1, 7}},
		{[]int{4, 5, 6, 7}, []int{4, 1, 1, 1}},
		{[]int{4, 5, 6, 7}, []int{1, 5, 1, 7}},
		{[]int{4, 5, 6, 7}, []int{4, 5, 6, 7}},
		{[]int{4, 5, 6, 7}, []int{}},
		{[]int{1, 5, 1, 7}, []int{4, 1, 6, 1}},
		{[]int{64, 16, 16, 32}, []int{1, 1, 1, 32}}, // large: split over goroutines
		{[]int{300000}, []int{1}},
	}
	for _, s := range shapes {
		for _, dtype := range []string{"f32", "f64"} {
			x := randomTensor(r, dtype, s.x...)
			y := randomTensor(r, dtype, s.y...)
			before := accel.FastElementwiseOpsForTest()
			runBoth(t, be, fmt.Sprintf("binary/%v/%v/%s", s.x, s.y, dtype), false, func(x, y *Node) []*Node {
				return []*Node{Add(x, y), Sub(y, x), Mul(x, y), Div(x, AddScalar(Abs(y), 1))}
			}, x, y)
			// Sub, Mul and Div use broadcasting of differently-shaped
			// operands; Add and the explicit broadcasts may too.
			if ran := accel.FastElementwiseOpsForTest() - before; (ran >= 4) != (dtype == "f32") {
				t.Errorf("%v/%v/%s: %d element-wise ops ran here", s.x, s.y, dtype, ran)
			}
		}
	}
	for _, axes := range [][]int{{0}, {3}, {0, 1, 2}, {1, 3}, {0, 1, 2, 3}, {2}} {
		for _, dims := range [][]int{{4, 5, 6, 7}, {32, 16, 16, 64}} {
			x := randomTensor(r, "f32", dims...)
			y := randomTensor(r, "f32", dims[3])
			runBoth(t, be, fmt.Sprintf("reduce/%v/%v", dims, axes), false, func(x, y *Node) []*Node {
				return []*Node{ReduceSum(x, axes...), ReduceMax(x, axes...), BroadcastToShape(Reshape(y, 1, 1, 1, dims[3]), x.Shape()),
					TransposeAllAxes(x, 3, 1, 0, 2), TransposeAllAxes(x, 0, 2, 1, 3), TransposeAllAxes(Reshape(x, dims[0]*dims[1], dims[2]*dims[3]), 1, 0)}
			}, x, y)
		}
	}
	// ReLU (Where) and max-pooling (Sign in its gradient), with their
	// gradients; zeros, infinities and NaN for Sign.
	x := randomTensor(r, "f32", 8, 16, 16, 12)
	special := tensors.FromFlatDataAndDimensions([]float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)),
		float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -1e-40, 3, -2, 1}, 10)
	runBoth(t, be, "relu-maxpool", false, func(x, s *Node) []*Node {
		relu := nn.ReLU(x)
		pooled := nn.MaxPool2x2(relu)
		loss := ReduceAllSum(Mul(pooled, Sin(Iota(x.Graph(), pooled.Shape(), 3))))
		return []*Node{relu, pooled, Gradient(loss, x)[0], Sign(s), Where(GreaterThan(s, ScalarZero(s.Graph(), s.DType())), s, Neg(s))}
	}, x, special)

	// Batch norm (training mode) and its gradient.
	x = randomTensor(r, "f32", 16, 8, 8, 12)
	g := randomTensor(r, "f32", 12)
	runBoth(t, be, "batchnorm", false, func(x, g *Node) []*Node {
		mean := ReduceAndKeep(x, ReduceMean, 0, 1, 2)
		centered := Sub(x, mean)
		variance := ReduceAndKeep(Square(centered), ReduceMean, 0, 1, 2)
		y := Mul(Div(centered, Sqrt(AddScalar(variance, 1e-5))), Reshape(g, 1, 1, 1, 12))
		loss := ReduceAllSum(Mul(y, Sin(Iota(x.Graph(), y.Shape(), 3))))
		return append([]*Node{y}, Gradient(loss, x, g)...)
	}, x, g)
}

// TestSlice compares the fast Slice with simplego's on slices of every kind
// of axis (leading rows as in the convolutions' gradients, middle, inner,
// whole, single elements) and checks that it ran for float32 only.
func TestSlice(t *testing.T) {
	be := newBackend(t)
	r := rand.New(rand.NewPCG(22, 23))
	cases := []struct {
		dims, starts, limits []int
	}{
		{[]int{32769, 32}, []int{0, 0}, []int{32768, 32}}, // the zero row dropped; large: split over goroutines
		{[]int{4, 5, 6, 7}, []int{1, 0, 0, 0}, []int{3, 5, 6, 7}},
		{[]int{4, 5, 6, 7}, []int{0, 2, 0, 0}, []int{4, 4, 6, 7}},
		{[]int{4, 5, 6, 7}, []int{1, 1, 2, 3}, []int{3, 4, 5, 6}},
		{[]int{4, 5, 6, 7}, []int{0, 0, 0, 6}, []int{4, 5, 6, 7}},
		{[]int{4, 5, 6, 7}, []int{0, 0, 0, 0}, []int{4, 5, 6, 7}},
		{[]int{4, 5, 6, 7}, []int{3, 4, 5, 6}, []int{4, 5, 6, 7}},
		{[]int{10}, []int{2}, []int{9}},
	}
	for _, c := range cases {
		for _, dtype := range []string{"f32", "f64"} {
			x := randomTensor(r, dtype, c.dims...)
			before := accel.FastElementwiseOpsForTest()
			runBoth(t, be, fmt.Sprintf("slice/%v/%v-%v/%s", c.dims, c.starts, c.limits, dtype), false, func(x, _ *Node) []*Node {
				specs := make([]SliceAxisSpec, len(c.dims))
				for i := range specs {
					specs[i] = AxisRange(c.starts[i], c.limits[i])
				}
				return []*Node{Slice(x, specs...)}
			}, x, x)
			if ran := accel.FastElementwiseOpsForTest() - before; (ran >= 1) != (dtype == "f32") {
				t.Errorf("%v %v-%v %s: %d fast ops ran", c.dims, c.starts, c.limits, dtype, ran)
			}
		}
	}
}
