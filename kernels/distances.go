package kernels

import (
	"fmt"

	"github.com/gomlx/exceptions"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own convention for graph code.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Which form SquaredDistances uses. Both are read at graph building time.
//
// The difference form (SquaredDistancesDiff) is the most accurate but
// materialises an [N, M, D] tensor, and its gradient costs several passes
// over it: it is used for narrow outputs, D <= DifferenceFormMaxDim (the
// 2-D maps of t-SimCNE), while N·M·D <= DifferenceFormMaxElements. Wider
// outputs (the 128-D first stage) use the Gram form (SquaredDistancesGram),
// one matrix product whose float32 rounding is harmless there.
//
// Measured with BenchmarkInfoNCE of tsimcne/loss (pure-Go backend, loss and
// gradient, B=256, D=128, 2 cores shared with other jobs, so noisy): Gram
// form 40-70 ms with the fast matrix-product gradients of package
// tsimcne/nn registered, 0.26-0.84 s with GoMLX's built-in ones;
// difference form 1.5 s. At D=2 both forms take about 30 ms.
var (
	// DifferenceFormMaxDim is the widest D that uses the difference form.
	DifferenceFormMaxDim = 4

	// DifferenceFormMaxElements caps N·M·D for the difference form; the
	// default, 2²⁴ elements (64 MiB in float32), keeps 2-D outputs on it for
	// batches up to 1448 images (2896 views).
	DifferenceFormMaxElements = 1 << 24
)

// SquaredDistances returns the squared Euclidean distances |x_i - y_j|² of
// the rows of x, shaped [N, D], and y, shaped [M, D], as an [N, M] node.
// Pass the same node twice for all pairs of one set: the diagonal is then
// exactly 0.
//
// It picks the difference form for narrow, not too large inputs (see
// DifferenceFormMaxDim) and the Gram form otherwise. Both have a finite
// gradient everywhere, also for coinciding points (no Sqrt is taken).
func SquaredDistances(x, y *Node) *Node {
	checkPair(x, y)
	n, m, d := x.Shape().Dim(0), y.Shape().Dim(0), x.Shape().Dim(1)
	if d <= DifferenceFormMaxDim && n*m*d <= DifferenceFormMaxElements {
		return SquaredDistancesDiff(x, y)
	}
	return SquaredDistancesGram(x, y)
}

// SquaredDistancesDiff computes SquaredDistances as Σ_d (x_id - y_jd)²
// through an [N, M, D] tensor of differences. It is exact up to the
// rounding of each difference (no cancellation), and its gradient
// 2(x_i - y_j) is exact too.
func SquaredDistancesDiff(x, y *Node) *Node {
	checkPair(x, y)
	diff := Sub(InsertAxes(x, 1), InsertAxes(y, 0)) // [N, 1, D] - [1, M, D] -> [N, M, D]
	return ReduceSum(Square(diff), -1)
}

// SquaredDistancesGram computes SquaredDistances as |x_i|² + |y_j|² - 2 x_i·y_j
// from one matrix product, clamped at 0 against negative rounding.
//
// Its gradient goes through the gradient of DotGeneral; GoMLX v0.26's
// built-in one materialises an [N, M, D] tensor, the one that package
// tsimcne/nn registers (graph.VJPRegistration) does not.
//
// To limit cancellation, both sets are first shifted by the mean of x (a
// constant for the gradient: distances do not change under a common
// shift), so the error scales with the spread of the points rather than
// their distance from the origin. The remaining float32 error of d² is
// about 1e-7 times the squared spread of the points, which matters only
// for pairs much closer than the spread. When y is x the diagonal is set
// to exactly 0.
func SquaredDistancesGram(x, y *Node) *Node {
	checkPair(x, y)
	g := x.Graph()
	center := StopGradient(ReduceAndKeep(x, ReduceMean, 0)) // [1, D]
	xc := Sub(x, center)
	yc := xc
	if y != x {
		yc = Sub(y, center)
	}
	xx := ReduceSum(Square(xc), -1) // [N]
	yy := xx                        // [M]
	if y != x {
		yy = ReduceSum(Square(yc), -1)
	}
	xy := DotGeneral(xc, []int{1}, nil, yc, []int{1}, nil) // [N, M]
	d2 := Sub(Add(InsertAxes(xx, -1), InsertAxes(yy, 0)), MulScalar(xy, 2))
	d2 = Max(d2, ScalarZero(g, d2.DType()))
	if y == x {
		n := x.Shape().Dim(0)
		eye := Equal(Iota(g, shapes.Make(dtypes.Int32, n, n), 0), Iota(g, shapes.Make(dtypes.Int32, n, n), 1))
		d2 = Where(eye, ZerosLike(d2), d2)
	}
	return d2
}

// SquaredDistanceVec returns |a - b|² in plain Go float64.
// It panics if the lengths differ, as gonum's floats does.
func SquaredDistanceVec(a, b []float64) float64 {
	checkVecs(a, b)
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// checkPair panics (GoMLX graph-building style) unless x and y are float
// matrices [N, D] and [M, D] of one graph, dtype and width.
func checkPair(x, y *Node) {
	if x == nil || y == nil {
		exceptions.Panicf("kernels: nil embedding node")
	}
	if x.Rank() != 2 || y.Rank() != 2 {
		exceptions.Panicf("kernels: embeddings must be matrices [N, D] and [M, D], got shapes %s and %s",
			x.Shape(), y.Shape())
	}
	if !x.DType().IsFloat() || x.DType() != y.DType() {
		exceptions.Panicf("kernels: embeddings must share a float dtype, got shapes %s and %s", x.Shape(), y.Shape())
	}
	if x.Shape().Dim(1) != y.Shape().Dim(1) {
		exceptions.Panicf("kernels: embeddings must have the same width D, got shapes %s and %s",
			x.Shape(), y.Shape())
	}
	if x.Graph() != y.Graph() {
		exceptions.Panicf("kernels: embeddings from different graphs")
	}
}

func checkVecs(a, b []float64) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("kernels: vectors of different lengths %d and %d", len(a), len(b)))
	}
}
