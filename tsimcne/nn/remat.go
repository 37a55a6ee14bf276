package nn

import (
	"reflect"
	"sync/atomic"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
)

// Recomputing gathered operands in the backward pass.
//
// On the pure-Go backend a convolution is a Gather of image patches followed
// by one matrix product (Conv2DWithKernel). The gradient of the kernel is
// patchesᵀ·dOut, so with GoMLX's reverse-mode autodiff every layer's patches
// (k·k = 9 times the layer's input) stay in memory from the forward pass
// until the backward pass reaches that layer: about 2 GB of a ResNet-18
// step at 128 views. Gathering the patches again in the backward pass keeps
// only the (9x smaller) input alive, at the cost of one more Gather per
// convolution; the result is bit-for-bit the same.
//
// GoMLX v0.26.0 has no rematerialisation or control dependencies, and the
// pure-Go backend runs every op as soon as its inputs are ready: a copy of
// the Gather built from the same inputs would run (and be held) during the
// forward pass. So the copy's operand is made to depend on the adjoint:
// operand + 0·v[0,...,0]. That costs one element-wise pass over the (small)
// operand. A non-finite adjoint makes the recomputed patches non-finite
// too, but then the step's gradient already is.

var recomputeGathers atomic.Bool

func init() { recomputeGathers.Store(true) }

// RecomputeGathers sets whether gradients of matrix products whose operand
// is a large Gather (at least minRecomputeRatio times its source, such as
// the patches of a 3x3 convolution) gather that operand again in the
// backward pass instead of keeping it from the forward pass: less memory
// (ResNet-18 at 128 views: see BENCHMARKS.md), one more Gather per
// convolution. On by default; it takes effect for graphs built afterwards.
// It returns the previous setting.
func RecomputeGathers(on bool) (previous bool) { return recomputeGathers.Swap(on) }

// RecomputingGathers reports the current RecomputeGathers setting.
func RecomputingGathers() bool { return recomputeGathers.Load() }

// minRecomputeRatio is the size ratio gathered/source above which a Gather
// is recomputed rather than kept: 3x3 convolutions gather 9x (stride 1) or
// 2.25x (stride 2) their input.
const minRecomputeRatio = 2

// recomputedGather returns, for the operand x of a matrix product, the node
// the gradient of the other operand should read: a fresh Gather that waits
// for the adjoint v if x is a Gather worth recomputing, else x itself.
func recomputedGather(x, v *Node) *Node {
	if !recomputeGathers.Load() || x.Type() != NodeTypeGather {
		return x
	}
	inputs := x.Inputs()
	if len(inputs) != 2 {
		return x
	}
	operand, indices := inputs[0], inputs[1]
	if x.Shape().Size() < minRecomputeRatio*operand.Shape().Size() {
		return x
	}
	p, ok := readGatherParams(x)
	if !ok {
		return x
	}
	// zero = 0·v[0,...,0]: a scalar zero that exists only once v does.
	first := v
	if v.Rank() > 0 {
		specs := make([]SliceAxisSpec, v.Rank())
		for i := range specs {
			specs[i] = AxisElem(0)
		}
		first = Reshape(Slice(v, specs...))
	}
	zero := MulScalar(ConvertDType(first, operand.DType()), 0)
	dependent := Add(operand, zero)
	return BackendGather(dependent, indices, p.indexVectorAxis, p.offsetOutputAxes, p.collapsedSliceAxes,
		p.startIndexMap, p.sliceSizes, p.indicesAreSorted)
}

// gatherParams are a Gather node's parameters (graph.BackendGather's
// arguments after the operand and indices).
type gatherParams struct {
	indexVectorAxis                                                 int
	offsetOutputAxes, collapsedSliceAxes, startIndexMap, sliceSizes []int
	indicesAreSorted                                                bool
}

// readGatherParams reads them by reflection (nodeParams); ok is false if
// GoMLX's layout changed, and then the Gather is simply kept.
func readGatherParams(node *Node) (p gatherParams, ok bool) {
	lists, ok := readNodeIntParams(node, "offsetOutputAxes", "collapsedSliceAxes", "startIndexMap", "sliceSizes")
	if !ok {
		return p, false
	}
	p.offsetOutputAxes, p.collapsedSliceAxes, p.startIndexMap, p.sliceSizes = lists[0], lists[1], lists[2], lists[3]
	params, _ := nodeParams(node) // ok: readNodeIntParams succeeded
	axis, sorted := params.FieldByName("indexVectorAxis"), params.FieldByName("indicesAreSorted")
	if !axis.IsValid() || axis.Kind() != reflect.Int || !sorted.IsValid() || sorted.Kind() != reflect.Bool {
		return p, false
	}
	p.indexVectorAxis, p.indicesAreSorted = int(axis.Int()), sorted.Bool()
	return p, true
}
