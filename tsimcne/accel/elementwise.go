//go:build !noaccel

package accel

import (
	"math"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Element-wise float32 ops with broadcasting (Add, Sub, Mul, Div), ReduceSum,
// ReduceMax and BroadcastInDim: simplego computes them element by element through a
// generic multi-axis index iterator whenever the shapes differ (batch norm's
// per-channel statistics, biases, broadcast constants). Here the axes are
// first merged into as few strided runs as possible ([rows, channels] with
// the channel vector repeated, typically), the innermost run is a plain
// loop, and large tensors are split over goroutines. Other dtypes and
// shapes go to simplego's executors.

// elementwiseMinParallel is the smallest output (in elements) split over
// goroutines.
const elementwiseMinParallel = 1 << 16

// fastElementwiseOps counts the ops computed here (for tests).
var fastElementwiseOps atomic.Int64

// axisRun is one merged axis of a strided loop: n elements, with strides sa
// and sb in the two inputs (0 where broadcast); the output is row-major.
type axisRun struct{ n, sa, sb int }

// mergeAxes drops axes of dimension 1 and merges neighbouring axes that
// both inputs traverse contiguously (or both broadcast).
func mergeAxes(dims, sa, sb []int) []axisRun {
	var runs []axisRun
	for i, n := range dims {
		if n == 1 {
			continue
		}
		if k := len(runs) - 1; k >= 0 && runs[k].sa == sa[i]*n && runs[k].sb == sb[i]*n {
			runs[k] = axisRun{runs[k].n * n, sa[i], sb[i]}
			continue
		}
		runs = append(runs, axisRun{n, sa[i], sb[i]})
	}
	if len(runs) == 0 {
		runs = append(runs, axisRun{1, 0, 0})
	}
	return runs
}

// broadcastStrides returns the strides of an input of shape in to reach
// every element of out (0 on broadcast axes), or false if in does not
// broadcast to out (ranks differ and in is not a scalar, or a dimension
// neither matches nor is 1).
func broadcastStrides(in, out []int) ([]int, bool) {
	strides := make([]int, len(out))
	size := 1
	for _, d := range in {
		size *= d
	}
	if size == 1 {
		return strides, true
	}
	if len(in) != len(out) {
		return nil, false
	}
	s := 1
	for i := len(in) - 1; i >= 0; i-- {
		switch {
		case in[i] == out[i]:
			strides[i] = s
		case in[i] == 1:
			strides[i] = 0
		default:
			return nil, false
		}
		s *= in[i]
	}
	return strides, true
}

// forRuns calls inner for every innermost run of the merged loop, for
// indices [lo, hi) of the outermost run, with the offsets of the run in
// the output and both inputs.
func forRuns(runs []axisRun, lo, hi int, inner func(out, a, b int)) {
	if len(runs) == 1 {
		inner(lo, lo*runs[0].sa, lo*runs[0].sb)
		return
	}
	outer, rest := runs[0], runs[1:]
	size := 1
	for _, r := range rest {
		size *= r.n
	}
	for i := lo; i < hi; i++ {
		forRunsFrom(rest, i*size, i*outer.sa, i*outer.sb, inner)
	}
}

func forRunsFrom(runs []axisRun, out, a, b int, inner func(out, a, b int)) {
	if len(runs) == 1 {
		inner(out, a, b)
		return
	}
	size := 1
	for _, r := range runs[1:] {
		size *= r.n
	}
	for i := range runs[0].n {
		forRunsFrom(runs[1:], out+i*size, a+i*runs[0].sa, b+i*runs[0].sb, inner)
	}
}

// splitRuns runs forRuns over the outermost run, split over goroutines when
// total is large; the innermost run is handled by inner with its length.
func splitRuns(runs []axisRun, total int, inner func(out, a, b, n int)) {
	last := runs[len(runs)-1]
	innerFn := func(out, a, b int) { inner(out, a, b, last.n) }
	if len(runs) == 1 {
		// One run: split it into chunks.
		workers := 1
		if total >= elementwiseMinParallel {
			workers = runtime.GOMAXPROCS(0)
		}
		chunk := max(1024, (total+2*workers-1)/(2*workers))
		parallelFor((total+chunk-1)/chunk, workers, func(c int) {
			lo := c * chunk
			inner(lo, lo*last.sa, lo*last.sb, min(chunk, total-lo))
		})
		return
	}
	forRanges(runs[0].n, total, func(lo, hi int) { forRuns(runs, lo, hi, innerFn) })
}

// forRanges calls fn over consecutive ranges [lo, hi) that cover [0, units):
// in one call when the work touches fewer than elementwiseMinParallel
// elements, else two ranges per goroutine on up to GOMAXPROCS goroutines.
func forRanges(units, elements int, fn func(lo, hi int)) {
	workers := 1
	if elements >= elementwiseMinParallel {
		workers = min(units, runtime.GOMAXPROCS(0))
	}
	if workers <= 1 {
		fn(0, units)
		return
	}
	per := (units + 2*workers - 1) / (2 * workers)
	parallelFor((units+per-1)/per, workers, func(i int) {
		fn(i*per, min(units, (i+1)*per))
	})
}

// binaryRun computes dst[i] = a[i*sa] op b[i*sb].
func binaryRun(op backends.OpType, dst, a, b []float32, sa, sb int) {
	if k := vecBinary(op, dst, a, b, sa, sb); k > 0 {
		dst, a, b = dst[k:], a[k*sa:], b[k*sb:]
		if len(dst) == 0 {
			return
		}
	}
	switch op {
	case backends.OpTypeAdd:
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] + b[i]
			}
		case sa == 1 && sb == 0:
			a, c := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] + c
			}
		case sa == 0 && sb == 1:
			c, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = c + b[i]
			}
		default:
			for i := range dst {
				dst[i] = a[i*sa] + b[i*sb]
			}
		}
	case backends.OpTypeSub:
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] - b[i]
			}
		case sa == 1 && sb == 0:
			a, c := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] - c
			}
		case sa == 0 && sb == 1:
			c, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = c - b[i]
			}
		default:
			for i := range dst {
				dst[i] = a[i*sa] - b[i*sb]
			}
		}
	case backends.OpTypeMul:
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] * b[i]
			}
		case sa == 1 && sb == 0:
			a, c := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] * c
			}
		case sa == 0 && sb == 1:
			c, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = c * b[i]
			}
		default:
			for i := range dst {
				dst[i] = a[i*sa] * b[i*sb]
			}
		}
	case backends.OpTypeMax:
		for i := range dst {
			dst[i] = max(a[i*sa], b[i*sb])
		}
	case backends.OpTypeMin:
		for i := range dst {
			dst[i] = min(a[i*sa], b[i*sb])
		}
	case backends.OpTypeDiv:
		switch {
		case sa == 1 && sb == 1:
			a, b = a[:len(dst)], b[:len(dst)]
			for i := range dst {
				dst[i] = a[i] / b[i]
			}
		case sa == 1 && sb == 0:
			a, c := a[:len(dst)], b[0]
			for i := range dst {
				dst[i] = a[i] / c
			}
		case sa == 0 && sb == 1:
			c, b := a[0], b[:len(dst)]
			for i := range dst {
				dst[i] = c / b[i]
			}
		default:
			for i := range dst {
				dst[i] = a[i*sa] / b[i*sb]
			}
		}
	}
}

func tryBinary(op backends.OpType, backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, bool) {
	outShape := nodeShape(node)
	aShape, err1 := backend.BufferShape(inputs[0])
	bShape, err2 := backend.BufferShape(inputs[1])
	if err1 != nil || err2 != nil || outShape.DType != dtypes.Float32 || aShape.DType != dtypes.Float32 || bShape.DType != dtypes.Float32 {
		return nil, false
	}
	sa, ok1 := broadcastStrides(aShape.Dimensions, outShape.Dimensions)
	sb, ok2 := broadcastStrides(bShape.Dimensions, outShape.Dimensions)
	aAny, err1 := backend.BufferData(inputs[0])
	bAny, err2 := backend.BufferData(inputs[1])
	a, ok3 := aAny.([]float32)
	b, ok4 := bAny.([]float32)
	if !ok1 || !ok2 || !ok3 || !ok4 || err1 != nil || err2 != nil || len(a) != aShape.Size() || len(b) != bShape.Size() {
		return nil, false
	}
	// Reuse an input buffer the executor owns (as simplego does): inputs[i]
	// is then set to nil to tell simplego it was consumed.
	var out *simplego.Buffer
	switch {
	case inputsOwned[1] && bShape.Equal(outShape):
		out, inputs[1] = inputs[1], nil
	case inputsOwned[0] && aShape.Equal(outShape):
		out, inputs[0] = inputs[0], nil
	default:
		out = backend.NewBuffer(outShape)
	}
	if out == nil {
		return nil, false
	}
	total := outShape.Size()
	dst := outputData(backend, out, total, "binary op")
	runs := mergeAxes(outShape.Dimensions, sa, sb)
	splitRuns(runs, total, func(o, ia, ib, n int) {
		last := runs[len(runs)-1]
		binaryRun(op, dst[o:o+n], a[ia:], b[ib:], last.sa, last.sb)
	})
	fastElementwiseOps.Add(1)
	return out, true
}

func tryBroadcastInDim(backend *simplego.Backend, node *simplego.Node, operand *simplego.Buffer) (*simplego.Buffer, bool) {
	axes, ok := nodeData(node).([]int)
	outShape := nodeShape(node)
	inShape, err := backend.BufferShape(operand)
	if !ok || err != nil || inShape.DType != dtypes.Float32 || outShape.DType != dtypes.Float32 || len(axes) != inShape.Rank() {
		return nil, false
	}
	inAny, err := backend.BufferData(operand)
	in, ok := inAny.([]float32)
	if err != nil || !ok || len(in) != inShape.Size() {
		return nil, false
	}
	// Strides of the operand along each output axis.
	strides := make([]int, outShape.Rank())
	if inShape.Size() > 1 {
		s := 1
		for i := inShape.Rank() - 1; i >= 0; i-- {
			ax := axes[i]
			if ax < 0 || ax >= outShape.Rank() {
				return nil, false
			}
			switch d := inShape.Dimensions[i]; {
			case d == outShape.Dimensions[ax]:
				strides[ax] = s
			case d != 1:
				return nil, false
			}
			s *= inShape.Dimensions[i]
		}
	}
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	total := outShape.Size()
	dst := outputData(backend, out, total, "BroadcastInDim")
	stridedCopy(dst, in, outShape.Dimensions, strides)
	fastElementwiseOps.Add(1)
	return out, true
}

// stridedCopy sets dst (row-major with dims) to in read with the given
// strides per axis of dst (0 to repeat).
func stridedCopy(dst, in []float32, dims, strides []int) {
	runs := mergeAxes(dims, strides, make([]int, len(strides)))
	last := runs[len(runs)-1]
	splitRuns(runs, len(dst), func(o, ia, _, n int) {
		d := dst[o : o+n]
		switch s := last.sa; s {
		case 0:
			v := in[ia]
			for i := range d {
				d[i] = v
			}
		case 1:
			copy(d, in[ia:ia+n])
		default:
			for i := range d {
				d[i] = in[ia+i*s]
			}
		}
	})
}

// tryTranspose computes a float32 Transpose: output axis i is input axis
// perm[i].
func tryTranspose(backend *simplego.Backend, node *simplego.Node, operand *simplego.Buffer) (*simplego.Buffer, bool) {
	perm, ok := nodeData(node).([]int)
	outShape := nodeShape(node)
	inShape, err := backend.BufferShape(operand)
	rank := inShape.Rank()
	if !ok || err != nil || inShape.DType != dtypes.Float32 || outShape.DType != dtypes.Float32 ||
		len(perm) != rank || outShape.Rank() != rank {
		return nil, false
	}
	inAny, err := backend.BufferData(operand)
	in, ok := inAny.([]float32)
	if err != nil || !ok || len(in) != inShape.Size() {
		return nil, false
	}
	inStrides := make([]int, rank)
	s := 1
	for ax := rank - 1; ax >= 0; ax-- {
		inStrides[ax] = s
		s *= inShape.Dimensions[ax]
	}
	seen := make([]bool, rank)
	strides := make([]int, rank)
	for i, ax := range perm {
		if ax < 0 || ax >= rank || seen[ax] || outShape.Dimensions[i] != inShape.Dimensions[ax] {
			return nil, false
		}
		seen[ax] = true
		strides[i] = inStrides[ax]
	}
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	dst := outputData(backend, out, len(in), "Transpose")
	stridedCopy(dst, in, outShape.Dimensions, strides)
	fastElementwiseOps.Add(1)
	return out, true
}

// tryReduce computes ReduceSum or ReduceMax over float32. Elements are
// visited in the input's order, as simplego does (ReduceMax, whose result
// does not depend on the order, gives identical results; ReduceSum sums
// runs along a reduced innermost axis first, a different rounding).
func tryReduce(op backends.OpType, backend *simplego.Backend, node *simplego.Node, operand *simplego.Buffer) (*simplego.Buffer, bool) {
	if op != backends.OpTypeReduceSum && op != backends.OpTypeReduceMax {
		return nil, false
	}
	axes, ok := nodeData(node).([]int)
	outShape := nodeShape(node)
	inShape, err := backend.BufferShape(operand)
	if !ok || len(axes) == 0 || err != nil || inShape.DType != dtypes.Float32 || outShape.DType != dtypes.Float32 {
		return nil, false
	}
	inAny, err := backend.BufferData(operand)
	in, ok := inAny.([]float32)
	if err != nil || !ok || len(in) != inShape.Size() || len(in) == 0 {
		return nil, false
	}
	rank := inShape.Rank()
	reduced := make([]bool, rank)
	for _, ax := range axes {
		if ax < 0 || ax >= rank || reduced[ax] {
			return nil, false
		}
		reduced[ax] = true
	}
	var keptDims []int
	for ax, d := range inShape.Dimensions {
		if !reduced[ax] {
			keptDims = append(keptDims, d)
		}
	}
	if !slices.Equal(keptDims, outShape.Dimensions) {
		return nil, false
	}
	// Loop over the input (row-major, stride "sa" below is the input's) with
	// the output's strides in "sb" (0 on reduced axes).
	inStrides := make([]int, rank)
	outStrides := make([]int, rank)
	s, so := 1, 1
	for ax := rank - 1; ax >= 0; ax-- {
		inStrides[ax] = s
		s *= inShape.Dimensions[ax]
		if !reduced[ax] {
			outStrides[ax] = so
			so *= inShape.Dimensions[ax]
		}
	}
	runs := mergeAxes(inShape.Dimensions, inStrides, outStrides)
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	dst := outputData(backend, out, outShape.Size(), "Reduce")
	isMax := op == backends.OpTypeReduceMax
	initial := float32(0)
	if isMax {
		initial = float32(math.Inf(-1))
	}
	fill := func(acc []float32) {
		for i := range acc {
			acc[i] = initial
		}
	}
	last := runs[len(runs)-1]
	// accumulate reduces the input runs of outer indices [lo, hi) into acc.
	accumulate := func(acc []float32, lo, hi int) {
		forRuns(runs, lo, hi, func(_, ia, io int) {
			x := in[ia : ia+last.n]
			switch {
			case isMax && last.sb == 0:
				m := acc[io]
				for _, v := range x {
					m = max(m, v)
				}
				acc[io] = m
			case isMax:
				maxTo(acc[io:io+last.n], x)
			case last.sb == 0:
				var sum float32
				for _, v := range x {
					sum += v
				}
				acc[io] += sum
			default:
				addTo(acc[io:io+last.n], x)
			}
		})
	}
	combine := addTo
	if isMax {
		combine = maxTo
	}
	fill(dst)
	workers := 1
	if len(in) >= elementwiseMinParallel && len(runs) > 1 {
		workers = min(runs[0].n, runtime.GOMAXPROCS(0))
	}
	outer := runs[0].n
	if len(runs) == 1 || workers <= 1 {
		accumulate(dst, 0, outer)
	} else if runs[0].sb != 0 {
		// Outermost axis kept: goroutines write disjoint outputs.
		per := (outer + 2*workers - 1) / (2 * workers)
		parallelFor((outer+per-1)/per, workers, func(c int) {
			accumulate(dst, c*per, min(outer, (c+1)*per))
		})
	} else {
		// Outermost axis reduced: partial results per part, combined in order.
		parts := workers
		per := (outer + parts - 1) / parts
		partial := getFloats((parts - 1) * len(dst))
		defer putFloats(partial)
		fill(partial)
		parallelFor(parts, workers, func(c int) {
			acc := dst
			if c > 0 {
				acc = partial[(c-1)*len(dst) : c*len(dst)]
			}
			accumulate(acc, min(outer, c*per), min(outer, (c+1)*per))
		})
		for c := 1; c < parts; c++ {
			combine(dst, partial[(c-1)*len(dst):c*len(dst)])
		}
	}
	fastElementwiseOps.Add(1)
	return out, true
}

// maxTo sets dst[i] = max(dst[i], src[i]) (Go's max: NaN wins).
func maxTo(dst, src []float32) {
	dst = dst[:len(src)]
	for i := vecMaxTo(dst, src); i < len(src); i++ {
		dst[i] = max(dst[i], src[i])
	}
}

// trySlice computes a float32 Slice with unit strides as copies of
// contiguous runs. simplego's own copies element by element through an
// index odometer: the Slice in the gradient of every convolution's
// zero-row Concatenate (the input gradient without that row) cost 2-3% of a
// training step.
func trySlice(backend *simplego.Backend, node *simplego.Node, operand *simplego.Buffer) (*simplego.Buffer, bool) {
	p := nodeSliceParams(node)
	outShape := nodeShape(node)
	inShape, err := backend.BufferShape(operand)
	if p == nil || err != nil || inShape.DType != dtypes.Float32 || outShape.DType != dtypes.Float32 {
		return nil, false
	}
	rank := inShape.Rank()
	if rank == 0 || len(p.starts) != rank || len(p.limits) != rank || len(p.strides) != rank || outShape.Rank() != rank {
		return nil, false
	}
	dims := inShape.Dimensions
	for ax := range rank {
		if p.strides[ax] != 1 || p.starts[ax] < 0 || p.limits[ax] > dims[ax] || p.limits[ax]-p.starts[ax] != outShape.Dimensions[ax] {
			return nil, false
		}
	}
	inAny, err := backend.BufferData(operand)
	in, ok := inAny.([]float32)
	if err != nil || !ok || len(in) != inShape.Size() {
		return nil, false
	}
	// The copied runs: the trailing axes taken whole, plus the last axis
	// that is not, whose range is contiguous too.
	last := rank - 1
	run := 1
	for last > 0 && p.starts[last] == 0 && p.limits[last] == dims[last] {
		run *= dims[last]
		last--
	}
	run *= p.limits[last] - p.starts[last]
	inStrides := make([]int, rank)
	s := 1
	for ax := rank - 1; ax >= 0; ax-- {
		inStrides[ax] = s
		s *= dims[ax]
	}
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	dst := outputData(backend, out, outShape.Size(), "Slice")
	if run == 0 {
		return out, true
	}
	runs := len(dst) / run
	forRanges(runs, len(dst), func(lo, hi int) {
		// Input offset of run r: the odometer over the outer axes [0, last).
		for r := lo; r < hi; r++ {
			off, rem := 0, r
			for ax := last - 1; ax >= 0; ax-- {
				n := outShape.Dimensions[ax]
				off += (p.starts[ax] + rem%n) * inStrides[ax]
				rem /= n
			}
			off += p.starts[last] * inStrides[last]
			copy(dst[r*run:(r+1)*run], in[off:off+run])
		}
	})
	fastElementwiseOps.Add(1)
	return out, true
}
