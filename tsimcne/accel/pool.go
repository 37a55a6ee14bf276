//go:build !noaccel

package accel

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Fused ops: max pooling over non-overlapping windows.
//
// simplego computes ReduceWindow element by element and lacks
// SelectAndScatterMax, ReduceWindow's gradient, so a max-pool that trains
// on it is a Reshape plus ReduceMax, whose GoMLX gradient is six
// element-wise passes over the pooled input (Sub, Sign, Add, Sign,
// BroadcastInDim, Mul). Backend's builder computes max ReduceWindow and
// SelectAndScatterMax over float32 with non-overlapping windows (strides
// equal to the window, no padding or dilation, every dimension a multiple of
// its window: the 2x2 pooling of tsimcne/nn) in one pass each; anything
// else goes to simplego (ReduceWindow) or is refused (SelectAndScatterMax,
// as simplego does).

// poolParams is the data of a fused pooling node.
type poolParams struct {
	window []int
}

// poolable reports whether a max-pool of shape s with these parameters is
// one the fused kernels handle.
func poolable(s shapes.Shape, windowDimensions, strides, baseDilations, windowDilations []int, paddings [][2]int) bool {
	if s.DType != dtypes.Float32 || len(windowDimensions) != s.Rank() || s.Rank() == 0 {
		return false
	}
	for i, w := range windowDimensions {
		if w < 1 || s.Dimensions[i]%w != 0 {
			return false
		}
		if strides != nil && (len(strides) != s.Rank() || strides[i] != w) {
			return false
		}
		if baseDilations != nil && (len(baseDilations) != s.Rank() || baseDilations[i] != 1) {
			return false
		}
		if windowDilations != nil && (len(windowDilations) != s.Rank() || windowDilations[i] != 1) {
			return false
		}
	}
	for _, p := range paddings {
		if p != [2]int{} {
			return false
		}
	}
	return paddings == nil || len(paddings) == s.Rank()
}

// pooledShape is s with each dimension divided by its window.
func pooledShape(s shapes.Shape, window []int) shapes.Shape {
	out := s.Clone()
	for i, w := range window {
		out.Dimensions[i] /= w
	}
	return out
}

// ReduceWindow implements backends.Builder: max-pooling over
// non-overlapping float32 windows is computed by this package, the rest by
// simplego.
func (b *builder) ReduceWindow(operand backends.Op, reductionType backends.ReduceOpType,
	windowDimensions, strides, baseDilations, windowDilations []int, paddings [][2]int) (backends.Op, error) {
	if n, ok := operand.(*simplego.Node); ok && reductionType == backends.ReduceOpMax &&
		poolable(nodeShape(n), windowDimensions, strides, baseDilations, windowDilations, paddings) {
		s := nodeShape(n)
		node := builderNewNode(b.Builder, backends.OpTypeReduceWindow, pooledShape(s, windowDimensions), n)
		setNodeData(node, &poolParams{window: append([]int(nil), windowDimensions...)})
		return node, nil
	}
	return b.Builder.ReduceWindow(operand, reductionType, windowDimensions, strides, baseDilations, windowDilations, paddings)
}

// SelectAndScatterMax implements backends.Builder for the windows
// ReduceWindow fuses (the gradient of their max-pooling): each window's
// source value goes to the first position of its maximum, zeros elsewhere.
func (b *builder) SelectAndScatterMax(operand, source backends.Op, windowDimensions, windowStrides []int, paddings [][2]int) (backends.Op, error) {
	const op = "SelectAndScatterMax"
	n, err := b.nodes(op, operand, source)
	if err != nil {
		return nil, err
	}
	s := nodeShape(n[0])
	if !poolable(s, windowDimensions, windowStrides, nil, nil, paddings) {
		return nil, fmt.Errorf("accel: %s: only float32 non-overlapping windows without padding are implemented on the pure-Go backend, got %s with window %v, strides %v, paddings %v",
			op, s, windowDimensions, windowStrides, paddings)
	}
	if want := pooledShape(s, windowDimensions); !nodeShape(n[1]).Equal(want) {
		return nil, fmt.Errorf("accel: %s: source %s must be the pooled shape %s", op, nodeShape(n[1]), want)
	}
	node := builderNewNode(b.Builder, backends.OpTypeSelectAndScatterMax, s.Clone(), n...)
	setNodeData(node, &poolParams{window: append([]int(nil), windowDimensions...)})
	return node, nil
}

// execFusedPool is the executor of ReduceWindow (fused nodes; others go to
// simplego's executor) and of SelectAndScatterMax (fused nodes only).
func execFusedPool(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (out *simplego.Buffer, err error) {
	p, ok := nodeData(node).(*poolParams)
	if !ok {
		if nodeOpType(node) == backends.OpTypeReduceWindow {
			return execReduceWindow(backend, node, inputs, inputsOwned)
		}
		return nil, fmt.Errorf("accel: %s node without the fused op's parameters (%T): not built by accel.Backend", nodeOpType(node), nodeData(node))
	}
	fusedOpsRun.Add(1)
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("accel: fused max-pool: %v", r)
		}
	}()
	xShape, err := backend.BufferShape(inputs[0])
	if err != nil {
		return nil, err
	}
	data, err := fusedInputs(backend, inputs, "fused max-pool")
	if err != nil {
		return nil, err
	}
	l := poolLayoutOf(xShape.Dimensions, p.window)
	buf, dst := fusedOutput(backend, node, inputs, inputsOwned, data, -1, "fused max-pool")
	if nodeOpType(node) == backends.OpTypeReduceWindow {
		l.max(dst, data[0])
		return buf, nil
	}
	l.scatter(dst, data[0], data[1])
	return buf, nil
}

// poolLayout describes non-overlapping windows over an operand: the
// innermost axes with window 1 form contiguous runs of inner elements; the
// windows of the outer axes are the offsets (in elements) of their
// positions from a window's base.
type poolLayout struct {
	inner     int
	positions int   // output positions (product of the pooled outer dims)
	outDims   []int // pooled outer dims
	steps     []int // x's offset between consecutive windows, per outer axis
	offsets   []int // offsets of a window's elements from its base
}

func poolLayoutOf(dims, window []int) poolLayout {
	rank := len(dims)
	m := rank
	l := poolLayout{inner: 1, positions: 1}
	for m > 0 && window[m-1] == 1 {
		m--
		l.inner *= dims[m]
	}
	strides := make([]int, rank)
	s := 1
	for a := rank - 1; a >= 0; a-- {
		strides[a] = s
		s *= dims[a]
	}
	l.offsets = []int{0}
	for a := range m {
		l.outDims = append(l.outDims, dims[a]/window[a])
		l.steps = append(l.steps, window[a]*strides[a])
		l.positions *= dims[a] / window[a]
		var next []int
		for _, o := range l.offsets {
			for j := range window[a] {
				next = append(next, o+j*strides[a])
			}
		}
		l.offsets = next
	}
	return l
}

// base returns the offset in x of output position p's window.
func (l poolLayout) base(p int) int {
	b := 0
	for a := len(l.outDims) - 1; a >= 0; a-- {
		b += (p % l.outDims[a]) * l.steps[a]
		p /= l.outDims[a]
	}
	return b
}

// forPositions calls fn over ranges of output positions (see forRanges).
func (l poolLayout) forPositions(fn func(lo, hi int)) {
	forRanges(l.positions, l.positions*len(l.offsets)*l.inner, fn)
}

// windowMax writes the maximum of the window at base b of x into dst (inner
// elements).
func (l poolLayout) windowMax(dst, x []float32, b int) {
	if len(l.offsets) == 4 {
		n := l.inner
		x0, x1, x2, x3 := x[b+l.offsets[0]:][:n], x[b+l.offsets[1]:][:n], x[b+l.offsets[2]:][:n], x[b+l.offsets[3]:][:n]
		dst = dst[:n]
		for i := vecMax4(dst, x0, x1, x2, x3); i < n; i++ {
			dst[i] = max(max(x0[i], x1[i]), max(x2[i], x3[i]))
		}
		return
	}
	copy(dst, x[b+l.offsets[0]:b+l.offsets[0]+l.inner])
	for _, o := range l.offsets[1:] {
		maxTo(dst, x[b+o:b+o+l.inner])
	}
}

// max writes each window's maximum.
func (l poolLayout) max(dst, x []float32) {
	l.forPositions(func(lo, hi int) {
		for p := lo; p < hi; p++ {
			l.windowMax(dst[p*l.inner:(p+1)*l.inner], x, l.base(p))
		}
	})
}

// scatter writes dst = the gradient of max: v at the first maximum of each
// window (in x's order), zero elsewhere. NaN windows get no gradient.
func (l poolLayout) scatter(dst, x, v []float32) {
	if len(l.offsets) == 4 {
		l.scatter4(dst, x, v)
		return
	}
	l.forPositions(func(lo, hi int) {
		best := make([]float32, l.inner)
		done := make([]bool, l.inner)
		for p := lo; p < hi; p++ {
			b := l.base(p)
			l.windowMax(best, x, b)
			clear(done)
			g := v[p*l.inner : (p+1)*l.inner]
			for _, o := range l.offsets {
				xs := x[b+o : b+o+l.inner]
				out := dst[b+o : b+o+l.inner]
				for i, xv := range xs {
					if !done[i] && xv == best[i] {
						out[i] = g[i]
						done[i] = true
					} else {
						out[i] = 0
					}
				}
			}
		}
	})
}

// scatter4 is scatter for windows of 4 elements (2x2 pooling), without
// data-dependent branches: which of the 4 is the first maximum is random,
// and mispredicted branches made the generic loop 5x slower.
func (l poolLayout) scatter4(dst, x, v []float32) {
	o0, o1, o2, o3 := l.offsets[0], l.offsets[1], l.offsets[2], l.offsets[3]
	n := l.inner
	l.forPositions(func(lo, hi int) {
		for p := lo; p < hi; p++ {
			b := l.base(p)
			x0, x1, x2, x3 := x[b+o0:b+o0+n], x[b+o1:b+o1+n], x[b+o2:b+o2+n], x[b+o3:b+o3+n]
			d0, d1, d2, d3 := dst[b+o0:b+o0+n], dst[b+o1:b+o1+n], dst[b+o2:b+o2+n], dst[b+o3:b+o3+n]
			g := v[p*n : (p+1)*n]
			x1, x2, x3, g = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)], g[:len(x0)]
			d0, d1, d2, d3 = d0[:len(x0)], d1[:len(x0)], d2[:len(x0)], d3[:len(x0)]
			for i := vecScatter4(d0, d1, d2, d3, x0, x1, x2, x3, g); i < len(x0); i++ {
				a, bb, c, d := x0[i], x1[i], x2[i], x3[i]
				m := max(max(a, bb), max(c, d))
				gb := math.Float32bits(g[i])
				// The first of the four equal to m takes the gradient:
				// all-ones masks, without branches.
				m0 := -b2u(a == m)
				m1 := -b2u(bb == m) &^ m0
				m2 := -b2u(c == m) &^ (m0 | m1)
				m3 := -b2u(d == m) &^ (m0 | m1 | m2)
				d0[i] = math.Float32frombits(gb & m0)
				d1[i] = math.Float32frombits(gb & m1)
				d2[i] = math.Float32frombits(gb & m2)
				d3[i] = math.Float32frombits(gb & m3)
			}
		}
	})
}

// b2u is 1 for true, 0 for false (compiled without a branch).
func b2u(b bool) uint32 {
	var u uint32
	if b {
		u = 1
	}
	return u
}
