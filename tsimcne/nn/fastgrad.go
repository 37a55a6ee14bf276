package nn

import (
	"reflect"
	"slices"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Fast gradients for matrix products.
//
// GoMLX v0.26.0's built-in VJPs of DotGeneral and Dot (pkg/core/graph,
// dotGeneralVJP and dotVJP) broadcast the adjoint against the other operand
// and reduce: for an [M,K]x[K,N] product they materialise an [M,K,N] tensor.
// On a convolution layer of ResNet-18 that is gigabytes, and many times
// slower than writing each input gradient as one more DotGeneral, which is
// what the VJPs here do (BenchmarkDotGeneralGradient). graph.VJPRegistration is the documented hook ("for
// experimentation, one can dynamically change this") to replace them.

var (
	registryMu sync.Mutex

	// GoMLX's own VJPs, kept to fall back on and for RestoreBuiltinGradients.
	builtinDotGeneralVJP = VJPRegistration[NodeTypeDotGeneral]
	builtinDotVJP        = VJPRegistration[NodeTypeDot]
	builtinSliceVJP      = VJPRegistration[NodeTypeSlice]
	builtinWhereVJP      = VJPRegistration[NodeTypeWhere]
)

func init() {
	RegisterFastGradients()
}

// RegisterFastGradients replaces, in graph.VJPRegistration (process-wide),
// GoMLX's gradients of
//   - DotGeneral and Dot by ones that express each input gradient as a
//     single DotGeneral (plus a transpose where needed): memory and time drop
//     from O(M*K*N) to that of the forward product;
//   - Slice (unit strides) by zero padding written with Concatenate, since
//     the built-in one uses Pad, which the pure-Go backend lacks. Strided
//     slices keep the built-in gradient;
//   - Where (ReLU's gradient, see ReLU) by one that selects between the
//     adjoint and a scalar zero: the built-in one first materialises a
//     tensor of zeros the size of the activation (ZerosLike) and reads it.
//
// The results are the same as the built-in ones up to float rounding.
//
// It is called by this package's init, so importing tsimcne/nn is enough. It
// is idempotent and may be called again after RestoreBuiltinGradients. Like
// any change to graph.VJPRegistration it must not run concurrently with graph
// building (gradients are looked up while a graph's gradient is built).
func RegisterFastGradients() {
	registryMu.Lock()
	defer registryMu.Unlock()
	VJPRegistration[NodeTypeDotGeneral] = fastDotGeneralVJP
	VJPRegistration[NodeTypeDot] = fastDotVJP
	VJPRegistration[NodeTypeSlice] = concatSliceVJP
	VJPRegistration[NodeTypeWhere] = fastWhereVJP
}

// RestoreBuiltinGradients puts GoMLX's own DotGeneral, Dot and Slice
// gradients back in graph.VJPRegistration. It exists for tests and benchmarks that compare
// the two; the same concurrency caveat as RegisterFastGradients applies.
func RestoreBuiltinGradients() {
	registryMu.Lock()
	defer registryMu.Unlock()
	VJPRegistration[NodeTypeDotGeneral] = builtinDotGeneralVJP
	VJPRegistration[NodeTypeDot] = builtinDotVJP
	VJPRegistration[NodeTypeSlice] = builtinSliceVJP
	VJPRegistration[NodeTypeWhere] = builtinWhereVJP
}

// fastWhereVJP is the VJP of Where(cond, onTrue, onFalse): the adjoint where
// cond holds goes to onTrue, elsewhere to onFalse, each selected against a
// scalar zero (which Where broadcasts) rather than a tensor of zeros. A
// scalar operand's gradient is the sum of its selected adjoint; operands
// broadcast in other ways keep GoMLX's own VJP.
func fastWhereVJP(node *Node, vjpOutputs []*Node, outputShape shapes.Shape) []*Node {
	inputs := node.Inputs()
	if len(inputs) != 3 || len(vjpOutputs) != 1 || !outputShape.IsScalar() {
		return builtinWhereVJP(node, vjpOutputs, outputShape)
	}
	cond, onTrue, onFalse := inputs[0], inputs[1], inputs[2]
	v := vjpOutputs[0]
	fits := func(x *Node) bool { return x.Shape().Equal(v.Shape()) || x.Shape().IsScalar() }
	if !fits(onTrue) || !fits(onFalse) {
		return builtinWhereVJP(node, vjpOutputs, outputShape)
	}
	zero := ScalarZero(v.Graph(), v.DType())
	grad := func(x, selected *Node) *Node {
		if x.Shape().IsScalar() && !v.Shape().IsScalar() {
			return ReduceAllSum(selected)
		}
		return selected
	}
	return []*Node{
		nil, // no gradient for the condition
		grad(onTrue, Where(cond, v, zero)),
		grad(onFalse, Where(cond, zero, v)),
	}
}

// dotGeneralAxes holds the axes of a DotGeneral node, read from its
// (unexported) inputs.
type dotGeneralAxes struct {
	lhsContracting, lhsBatch, rhsContracting, rhsBatch []int
}

// readDotGeneralAxes reads the axes a DotGeneral node was built with.
func readDotGeneralAxes(node *Node) (axes dotGeneralAxes, ok bool) {
	lists, ok := readNodeIntParams(node, "lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes")
	if !ok {
		return axes, false
	}
	return dotGeneralAxes{lists[0], lists[1], lists[2], lists[3]}, true
}

// nodeParams returns the struct of a node's parameters. GoMLX keeps them in
// the unexported node.inputs (e.g. *nodeInputsDotGeneral) and offers no
// accessor, so reflection reads them (reading unexported fields is allowed;
// nothing is modified). ok is false if GoMLX's layout changed, in which case
// callers fall back to GoMLX's own behaviour.
func nodeParams(node *Node) (params reflect.Value, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			params, ok = reflect.Value{}, false
		}
	}()
	inputs := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !inputs.IsValid() || inputs.Kind() != reflect.Interface || inputs.IsNil() {
		return reflect.Value{}, false
	}
	params = inputs.Elem()
	if params.Kind() == reflect.Pointer {
		params = params.Elem()
	}
	return params, params.Kind() == reflect.Struct
}

// readNodeIntParams reads []int fields of a node's parameters (see
// nodeParams); ok is false if one is missing or of another type.
func readNodeIntParams(node *Node, names ...string) (lists [][]int, ok bool) {
	params, ok := nodeParams(node)
	if !ok {
		return nil, false
	}
	for _, name := range names {
		f := params.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Int {
			return nil, false
		}
		out := make([]int, f.Len())
		for i := range out {
			out[i] = int(f.Index(i).Int())
		}
		lists = append(lists, out)
	}
	return lists, true
}

// crossAxes returns the axes of an operand of the given rank that are
// neither contracting nor batch, in increasing order: DotGeneral's output
// holds them in that order.
func crossAxes(rank int, contracting, batch []int) []int {
	var cross []int
	for axis := range rank {
		if !slices.Contains(contracting, axis) && !slices.Contains(batch, axis) {
			cross = append(cross, axis)
		}
	}
	return cross
}

// validAxes reports whether the axes are a consistent DotGeneral
// specification for operands of the given ranks (non-negative, in range, no
// repeats, matching counts), so that the fast VJP's bookkeeping holds.
func validAxes(a dotGeneralAxes, lhsRank, rhsRank int) bool {
	if len(a.lhsContracting) != len(a.rhsContracting) || len(a.lhsBatch) != len(a.rhsBatch) {
		return false
	}
	check := func(rank int, lists ...[]int) bool {
		seen := make([]bool, rank)
		for _, l := range lists {
			for _, axis := range l {
				if axis < 0 || axis >= rank || seen[axis] {
					return false
				}
				seen[axis] = true
			}
		}
		return true
	}
	return check(lhsRank, a.lhsContracting, a.lhsBatch) && check(rhsRank, a.rhsContracting, a.rhsBatch)
}

// fastDotGeneralVJP is the VJP of out = DotGeneral(lhs, rhs). With the
// output laid out as [batch..., lhsCross..., rhsCross...] and adjoint v of
// that shape:
//
//	dLhs = DotGeneral(v, contract rhsCross positions, rhs, contract rhsCross axes), batch on batch
//	     -> [batch..., lhsCross..., rhsContracting (in rhs axis order)...], then transposed to lhs's layout;
//	dRhs = DotGeneral(v, contract lhsCross positions, lhs, contract lhsCross axes), batch on batch
//	     -> [batch..., rhsCross..., lhsContracting (in lhs axis order)...], then transposed to rhs's layout.
func fastDotGeneralVJP(node *Node, vjpOutputs []*Node, outputShape shapes.Shape) []*Node {
	inputs := node.Inputs()
	if len(inputs) != 2 || len(vjpOutputs) != 1 || !outputShape.IsScalar() {
		return builtinDotGeneralVJP(node, vjpOutputs, outputShape)
	}
	lhs, rhs := inputs[0], inputs[1]
	axes, ok := readDotGeneralAxes(node)
	if !ok || !validAxes(axes, lhs.Rank(), rhs.Rank()) || lhs.DType().IsComplex() {
		return builtinDotGeneralVJP(node, vjpOutputs, outputShape)
	}
	v := vjpOutputs[0]
	// The gradient of each operand reads the other one; a large gathered
	// operand (convolution patches) is gathered again there instead of being
	// kept from the forward pass (see RecomputeGathers).
	lhsForGrad, rhsForGrad := recomputedGather(lhs, v), recomputedGather(rhs, v)
	lhsCross := crossAxes(lhs.Rank(), axes.lhsContracting, axes.lhsBatch)
	rhsCross := crossAxes(rhs.Rank(), axes.rhsContracting, axes.rhsBatch)
	numBatch := len(axes.lhsBatch)
	vBatch := iotaFrom(0, numBatch)
	vLhsCross := iotaFrom(numBatch, len(lhsCross))
	vRhsCross := iotaFrom(numBatch+len(lhsCross), len(rhsCross))
	return []*Node{
		operandGradient(v, vBatch, vRhsCross, rhsForGrad, axes.rhsBatch, rhsCross, axes.rhsContracting,
			lhs.Rank(), axes.lhsBatch, lhsCross, axes.lhsContracting),
		operandGradient(v, vBatch, vLhsCross, lhsForGrad, axes.lhsBatch, lhsCross, axes.lhsContracting,
			rhs.Rank(), axes.rhsBatch, rhsCross, axes.rhsContracting),
	}
}

// operandGradient computes the gradient of one DotGeneral operand ("this")
// from the adjoint v and the other operand:
//
//	grad = DotGeneral(v, contract vOtherCross, other, contract otherCross; batch vBatch / otherBatch)
//
// whose axes come out as [batch..., thisCross..., other's remaining axes (its
// contracting axes, in increasing axis order)...], and are then transposed to
// this operand's layout (this contracting axis i pairs with otherContracting[i]),
// unless the product with the operands swapped already has that layout.
func operandGradient(v *Node, vBatch, vOtherCross []int,
	other *Node, otherBatch, otherCross, otherContracting []int,
	thisRank int, thisBatch, thisCross, thisContracting []int) *Node {
	// This operand's contracting axes, in the order the gradient product
	// yields them (other's contracting axes in increasing order).
	sortedOtherContracting := slices.Clone(otherContracting)
	slices.Sort(sortedOtherContracting)
	thisFromOther := make([]int, 0, len(thisContracting))
	for _, otherAxis := range sortedOtherContracting {
		thisFromOther = append(thisFromOther, thisContracting[slices.Index(otherContracting, otherAxis)])
	}
	// permutationOf returns the transpose from the product's layout (the
	// this-axis at each position) to this operand's, and whether it is the
	// identity.
	permutationOf := func(resultAxisOf []int) ([]int, bool) {
		permutation := make([]int, thisRank) // permutation[thisAxis] = grad position.
		identity := true
		for pos, thisAxis := range resultAxisOf {
			permutation[thisAxis] = pos
			if pos != thisAxis {
				identity = false
			}
		}
		return permutation, identity
	}
	permutation, identity := permutationOf(slices.Concat(thisBatch, thisCross, thisFromOther))
	if !identity {
		// With the operands swapped the product yields [batch..., contracting...,
		// cross...]: if that is this operand's layout (a [k, n] operand whose
		// gradient is otherᵀ·v, as for a constant transform matrix on the left),
		// it needs no transpose.
		if _, swappedIdentity := permutationOf(slices.Concat(thisBatch, thisFromOther, thisCross)); swappedIdentity {
			return splitDotGeneral(other, otherCross, otherBatch, v, vOtherCross, vBatch)
		}
	}
	grad := splitDotGeneral(v, vOtherCross, vBatch, other, otherCross, otherBatch)
	if !identity {
		grad = TransposeAllAxes(grad, permutation...)
	}
	return grad
}

func iotaFrom(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

// fastDotVJP is the VJP of graph.Dot (NodeTypeDot), which GoMLX builds for
// rank <= 2 operands (vector.vector, matrix.vector, matrix.matrix).
func fastDotVJP(node *Node, vjpOutputs []*Node, outputShape shapes.Shape) []*Node {
	inputs := node.Inputs()
	if len(inputs) != 2 || len(vjpOutputs) != 1 || !outputShape.IsScalar() || inputs[0].DType().IsComplex() {
		return builtinDotVJP(node, vjpOutputs, outputShape)
	}
	lhs, rhs := inputs[0], inputs[1]
	v := vjpOutputs[0]
	switch {
	case lhs.Rank() == 2 && rhs.Rank() == 2:
		// out[i,k] = sum_j lhs[i,j] rhs[j,k].
		return []*Node{
			DotGeneral(v, []int{1}, nil, rhs, []int{1}, nil), // [i,k]x[j,k] -> [i,j]
			DotGeneral(lhs, []int{0}, nil, v, []int{0}, nil), // [i,j]x[i,k] -> [j,k]
		}
	case lhs.Rank() == 2 && rhs.Rank() == 1:
		// out[i] = sum_j lhs[i,j] rhs[j].
		return []*Node{
			DotGeneral(v, nil, nil, rhs, nil, nil),           // outer product [i]x[j] -> [i,j]
			DotGeneral(lhs, []int{0}, nil, v, []int{0}, nil), // [i,j]x[i] -> [j]
		}
	default:
		return builtinDotVJP(node, vjpOutputs, outputShape)
	}
}

// Thresholds of splitDotGeneral.
const (
	// splitMaxOutput is the largest output (lhsCross*rhsCross elements) for
	// which a long contraction is split: GoMLX's pure-Go backend computes
	// products with at most 16 blocks of 64x64 float32 outputs per batch
	// example on a single thread (its "small" path).
	splitMaxOutput = 16 * 64 * 64
	// splitMinContraction is the smallest contraction worth splitting.
	splitMinContraction = 4096
	// splitMinChunk is the smallest contraction per chunk.
	splitMinChunk = 512
)

// splitDotGeneral is DotGeneral, except that a product without batch axes,
// with a small output and a long contraction — the weight gradient of a
// convolution or linear layer, patches^T . dY — is computed as S partial
// products over chunks of one contracting axis, made a batch axis, and
// summed. The pure-Go backend runs a small-output product on one thread but
// parallelises over batch examples, so this about doubles its speed on 2
// cores (BenchmarkWeightGradientDot). The result is the same sum, in another
// association order.
func splitDotGeneral(lhs *Node, lhsContracting, lhsBatch []int, rhs *Node, rhsContracting, rhsBatch []int) *Node {
	if len(lhsBatch) > 0 || len(lhsContracting) == 0 || !slowBackendProducts(lhs.Graph()) {
		return DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	}
	contraction := 1
	for _, axis := range lhsContracting {
		contraction *= lhs.Shape().Dimensions[axis]
	}
	output := lhs.Shape().Size() / contraction * (rhs.Shape().Size() / contraction)
	if contraction < splitMinContraction || output > splitMaxOutput {
		return DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
	}
	for i, lhsAxis := range lhsContracting {
		rhsAxis := rhsContracting[i]
		dim := lhs.Shape().Dimensions[lhsAxis]
		for _, chunks := range []int{8, 4, 2} {
			if dim%chunks != 0 || dim/chunks < splitMinChunk {
				continue
			}
			lhsSplit, lhsC := splitAxis(lhs, lhsAxis, chunks, lhsContracting)
			rhsSplit, rhsC := splitAxis(rhs, rhsAxis, chunks, rhsContracting)
			partial := DotGeneral(lhsSplit, lhsC, []int{lhsAxis}, rhsSplit, rhsC, []int{rhsAxis})
			return ReduceSum(partial, 0)
		}
	}
	return DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch)
}

// splitAxis reshapes x so that axis becomes [chunks, dim/chunks] and
// returns the contracting axes renumbered, with the split axis replaced by
// its inner (dim/chunks) part; the outer part (at position axis) is meant to
// become a batch axis.
func splitAxis(x *Node, axis, chunks int, contracting []int) (*Node, []int) {
	dims := x.Shape().Dimensions
	newDims := make([]int, 0, len(dims)+1)
	newDims = append(newDims, dims[:axis]...)
	newDims = append(newDims, chunks, dims[axis]/chunks)
	newDims = append(newDims, dims[axis+1:]...)
	newContracting := make([]int, len(contracting))
	for i, c := range contracting {
		if c >= axis {
			c++
		}
		newContracting[i] = c
	}
	return Reshape(x, newDims...), newContracting
}

// concatSliceVJP is the gradient of Slice with unit strides: the adjoint
// padded back to the input's shape with zeros, written with Concatenate
// (the built-in gradient uses Pad, not implemented by the pure-Go backend).
func concatSliceVJP(node *Node, vjpOutputs []*Node, outputShape shapes.Shape) []*Node {
	inputs := node.Inputs()
	if len(inputs) != 1 || len(vjpOutputs) != 1 || !outputShape.IsScalar() {
		return builtinSliceVJP(node, vjpOutputs, outputShape)
	}
	x := inputs[0]
	params, ok := readNodeIntParams(node, "starts", "limits", "strides")
	if !ok || len(params[0]) != x.Rank() || len(params[1]) != x.Rank() || len(params[2]) != x.Rank() {
		return builtinSliceVJP(node, vjpOutputs, outputShape)
	}
	starts, limits, strides := params[0], params[1], params[2]
	for _, s := range strides {
		if s > 1 {
			return builtinSliceVJP(node, vjpOutputs, outputShape)
		}
	}
	v := vjpOutputs[0]
	g := v.Graph()
	for axis, dim := range x.Shape().Dimensions {
		before, after := starts[axis], dim-limits[axis]
		if before == 0 && after == 0 {
			continue
		}
		parts := make([]*Node, 0, 3)
		zerosOf := func(n int) *Node {
			s := v.Shape().Clone()
			s.Dimensions[axis] = n
			return Zeros(g, s)
		}
		if before > 0 {
			parts = append(parts, zerosOf(before))
		}
		parts = append(parts, v)
		if after > 0 {
			parts = append(parts, zerosOf(after))
		}
		v = Concatenate(parts, axis)
	}
	return []*Node{v}
}
