//go:build !noaccel

package accel

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// enabled switches the fast executors on and off (Install sets it; tests
// toggle it; a panic clears it).
var enabled atomic.Bool

// fastCalls counts the products computed by the GEMM (for tests).
var fastCalls atomic.Int64

// tryDotGeneral computes the DotGeneral node with the GEMM, or returns false
// (having done nothing) if it doesn't handle it. The output is the node's
// normalized [batch, lhsCross, rhsCross] buffer (simplego reshapes it).
func tryDotGeneral(backend *simplego.Backend, node *simplego.Node, lhs, rhs *simplego.Buffer) (*simplego.Buffer, bool) {
	params, ok := nodeParams(node)
	if !ok {
		return nil, false
	}
	outShape := nodeShape(node)
	lhsShape, err1 := backend.BufferShape(lhs)
	rhsShape, err2 := backend.BufferShape(rhs)
	if err1 != nil || err2 != nil || lhsShape.DType != dtypes.Float32 || rhsShape.DType != dtypes.Float32 ||
		outShape.DType != dtypes.Float32 || !slices.Equal(outShape.Dimensions, []int{params.batchSize, params.lhsCrossSize, params.rhsCrossSize}) {
		return nil, false
	}
	lhsData, err1 := backend.BufferData(lhs)
	rhsData, err2 := backend.BufferData(rhs)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	a, aOK := lhsData.([]float32)
	b, bOK := rhsData.([]float32)
	if !aOK || !bOK {
		return nil, false
	}
	la, err1 := makeOperand(lhsShape.Dimensions, a, params.lhsBatchAxes, params.lhsContractingAxes)
	rb, err2 := makeOperand(rhsShape.Dimensions, b, params.rhsBatchAxes, params.rhsContractingAxes)
	if err1 != nil || err2 != nil || la.batch != params.batchSize || rb.batch != params.batchSize ||
		la.cross != params.lhsCrossSize || rb.cross != params.rhsCrossSize ||
		la.contract != params.contractingSize || rb.contract != params.contractingSize {
		la.release()
		rb.release()
		return nil, false
	}
	defer la.release()
	defer rb.release()
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	outData, err := backend.BufferData(out)
	c, cOK := outData.([]float32)
	if err != nil || !cOK || len(c) != outShape.Size() {
		panic(fmt.Sprintf("output buffer of %s is %T of length %d", outShape, outData, len(c)))
	}
	p := &problem{
		batch: params.batchSize, m: params.lhsCrossSize, n: params.rhsCrossSize, k: params.contractingSize,
		a: la.data, bsA: la.bs, rsA: la.xs, csA: la.ks,
		b: rb.data, bsB: rb.bs, rsB: rb.ks, csB: rb.xs,
		c: c, bsC: params.lhsCrossSize * params.rhsCrossSize, ldc: params.rhsCrossSize,
	}
	gemm(p, kernelFor(p), runtime.GOMAXPROCS(0))
	fastCalls.Add(1)
	return out, true
}

// operand is one DotGeneral input seen as a batch of matrices: element
// (b, x, k) (batch, cross, contraction index) is data[b*bs + x*xs + k*ks].
type operand struct {
	data                   []float32
	batch, cross, contract int
	bs, xs, ks             int
	copied                 bool // data is a pooled copy
}

func (o *operand) release() {
	if o.copied {
		putFloats(o.data)
		o.data, o.copied = nil, false
	}
}

// makeOperand groups the axes of a row-major tensor with dims into batch
// axes (in the given order), cross axes (the others, in increasing order)
// and contracting axes (in the given order), as DotGeneral pairs them. When
// each group is a single strided range of memory (the usual case: e.g.
// [rows, k] or [k, rows], with any number of axes per group) the operand is
// used in place; otherwise it is copied to [batch, cross, contract] order.
func makeOperand(dims []int, data []float32, batchAxes, contractAxes []int) (operand, error) {
	rank := len(dims)
	kind := make([]int, rank) // 0 cross, 1 contracting, 2 batch
	size := 1
	for _, d := range dims {
		size *= d
	}
	if size != len(data) || size == 0 {
		return operand{}, fmt.Errorf("shape %v does not match %d elements", dims, len(data))
	}
	for _, list := range []struct {
		axes []int
		kind int
	}{{contractAxes, 1}, {batchAxes, 2}} {
		for _, axis := range list.axes {
			if axis < 0 || axis >= rank || kind[axis] != 0 {
				return operand{}, fmt.Errorf("invalid or repeated axis %d for rank %d", axis, rank)
			}
			kind[axis] = list.kind
		}
	}
	var crossAxes []int
	for axis := range rank {
		if kind[axis] == 0 {
			crossAxes = append(crossAxes, axis)
		}
	}
	strides := make([]int, rank)
	s := 1
	for axis := rank - 1; axis >= 0; axis-- {
		strides[axis] = s
		s *= dims[axis]
	}
	o := operand{data: data}
	var ok [3]bool
	o.batch, o.bs, ok[0] = group(dims, strides, batchAxes)
	o.cross, o.xs, ok[1] = group(dims, strides, crossAxes)
	o.contract, o.ks, ok[2] = group(dims, strides, contractAxes)
	if ok[0] && ok[1] && ok[2] {
		return o, nil
	}
	// Copy to [batch..., cross..., contracting...] order.
	perm := slices.Concat(batchAxes, crossAxes, contractAxes)
	o.data = getFloats(size)
	o.copied = true
	transposeInto(o.data, data, dims, strides, perm)
	o.bs, o.xs, o.ks = o.cross*o.contract, o.contract, 1
	return o, nil
}

// group returns the total size of the axes (taken in the given order) and,
// if they form one strided range of memory, its stride.
func group(dims, strides, axes []int) (size, stride int, ok bool) {
	size, stride, ok = 1, 0, true
	prev := -1
	for _, axis := range axes {
		if dims[axis] == 1 {
			continue
		}
		size *= dims[axis]
		if prev >= 0 && strides[prev] != strides[axis]*dims[axis] {
			ok = false
		}
		prev = axis
		stride = strides[axis]
	}
	return size, stride, ok
}

// transposeInto copies src (row-major with dims and strides) into dst with
// its axes in the order perm, row-major.
func transposeInto(dst, src []float32, dims, strides, perm []int) {
	rank := len(perm)
	pd := make([]int, rank) // permuted dims
	ps := make([]int, rank) // source stride of each permuted axis
	for i, axis := range perm {
		pd[i], ps[i] = dims[axis], strides[axis]
	}
	inner, innerStride := pd[rank-1], ps[rank-1]
	idx := make([]int, rank)
	srcOff := 0
	for d := 0; d < len(dst); d += inner {
		row := dst[d : d+inner]
		if innerStride == 1 {
			copy(row, src[srcOff:srcOff+inner])
		} else {
			for i := range row {
				row[i] = src[srcOff+i*innerStride]
			}
		}
		// Advance the odometer over the outer permuted axes.
		for ax := rank - 2; ax >= 0; ax-- {
			idx[ax]++
			srcOff += ps[ax]
			if idx[ax] < pd[ax] {
				break
			}
			srcOff -= ps[ax] * pd[ax]
			idx[ax] = 0
		}
	}
}
