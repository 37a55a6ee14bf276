//go:build !noaccel

package accel

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Kernels of the fused batch-norm nodes (fused.go). The operand is viewed as
// [outer, C, inner] around the feature axis (inner is 1 for the NHWC
// activations of tsimcne/nn); per-feature sums are accumulated in float64.

// fusedOpsRun counts the fused nodes executed (for tests).
var fusedOpsRun atomic.Int64

// execFusedBN is the executor of the fused batch-norm nodes. simplego has
// no executor of its own for these op types, so there is nothing to fall
// back to: a failure is an error.
func execFusedBN(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (out *simplego.Buffer, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("accel: fused batch norm: %v", r)
		}
	}()
	p, ok := nodeData(node).(*bnParams)
	fusedOpsRun.Add(1)
	if !ok {
		return nil, fmt.Errorf("accel: batch-norm node without the fused op's parameters (%T): not built by accel.Backend", nodeData(node))
	}
	data, err := fusedInputs(backend, inputs, "fused batch norm")
	if err != nil {
		return nil, err
	}
	xShape, err := backend.BufferShape(inputs[0])
	if err != nil {
		return nil, err
	}
	l := bnLayoutOf(xShape, p.axis)
	output := func(reuse int) (*simplego.Buffer, []float32) {
		return fusedOutput(backend, node, inputs, inputsOwned, data, reuse, "fused batch norm")
	}
	switch p.kind {
	case bnStats:
		buf, dst := output(-1)
		l.stats(data[0], dst[:l.c], dst[l.c:])
		return buf, nil
	case bnNormalize:
		a, b := bnAffine(data[1][:l.c], data[1][l.c:], data[2], data[3], p.epsilon)
		buf, dst := output(0)
		l.affine(dst, data[0], a, b)
		return buf, nil
	case bnInference:
		a, b := bnAffine(data[3], data[4], data[1], data[2], p.epsilon)
		buf, dst := output(0)
		l.affine(dst, data[0], a, b)
		return buf, nil
	case bnGradSums:
		buf, dst := output(-1)
		l.gradSums(data[0], data[3], data[1], data[2], p.epsilon, dst[:l.c], dst[l.c:])
		return buf, nil
	case bnGradInput:
		x, scale, mean, variance, dy, sums := data[0], data[1], data[2], data[3], data[4], data[5]
		n := float64(l.outer * l.inner)
		a := make([]float32, l.c)
		k1 := make([]float32, l.c)
		k0 := make([]float32, l.c)
		for j := range l.c {
			invStd := 1 / math.Sqrt(float64(variance[j])+float64(p.epsilon))
			aj := float64(scale[j]) * invStd
			k1j := -aj * invStd * float64(sums[l.c+j]) / n
			a[j] = float32(aj)
			k1[j] = float32(k1j)
			k0[j] = float32(-k1j*float64(mean[j]) - aj*float64(sums[j])/n)
		}
		buf, dst := output(4)
		l.gradInput(dst, dy, x, a, k1, k0)
		return buf, nil
	}
	return nil, fmt.Errorf("accel: unknown fused batch-norm kind %d", p.kind)
}

// bnAffine returns the per-feature a, b of y = x·a + b for a batch norm with
// the given statistics: a = scale/sqrt(variance+eps), b = offset - mean·a.
func bnAffine(mean, variance, scale, offset []float32, epsilon float32) (a, b []float32) {
	a = make([]float32, len(mean))
	b = make([]float32, len(mean))
	for j := range mean {
		aj := float64(scale[j]) / math.Sqrt(float64(variance[j])+float64(epsilon))
		a[j] = float32(aj)
		b[j] = float32(float64(offset[j]) - float64(mean[j])*aj)
	}
	return a, b
}

// bnLayout is an operand viewed as [outer, c, inner].
type bnLayout struct{ outer, c, inner int }

func bnLayoutOf(s shapes.Shape, axis int) bnLayout {
	l := bnLayout{outer: 1, c: s.Dimensions[axis], inner: 1}
	for i, d := range s.Dimensions {
		switch {
		case i < axis:
			l.outer *= d
		case i > axis:
			l.inner *= d
		}
	}
	return l
}

// vecBlock is the number of rows (inner == 1) the vector sums take at a
// time: they walk down the rows 8 features at a time, so a block (16 KiB)
// stays in L1 across the strips.
func (l bnLayout) vecBlock() int { return max(1, 4096/l.c) }

// forOuter calls fn over ranges of the outer index (see forRanges).
func (l bnLayout) forOuter(fn func(lo, hi int)) { forRanges(l.outer, l.outer*l.c*l.inner, fn) }

// sums2 accumulates two per-feature float64 sums over outer ranges: each
// range sums into its own arrays, added to the totals under a lock.
func (l bnLayout) sums2(total1, total2 []float64, fn func(lo, hi int, s1, s2 []float64)) {
	var mu sync.Mutex
	l.forOuter(func(lo, hi int) {
		s1 := make([]float64, l.c)
		s2 := make([]float64, l.c)
		fn(lo, hi, s1, s2)
		mu.Lock()
		for j := range s1 {
			total1[j] += s1[j]
			total2[j] += s2[j]
		}
		mu.Unlock()
	})
}

// stats writes the per-feature mean and biased variance of x, from float64
// sums of x and x² (one pass over x).
func (l bnLayout) stats(x, mean, variance []float32) {
	sum := make([]float64, l.c)
	sumSq := make([]float64, l.c)
	l.sums2(sum, sumSq, func(lo, hi int, s, q []float64) {
		if l.inner == 1 && vecBN(l.c) {
			for o := lo; o < hi; o += l.vecBlock() {
				rows := min(l.vecBlock(), hi-o)
				vecBNSums(x[o*l.c:(o+rows)*l.c], rows, l.c, s, q)
			}
			return
		}
		for o := lo; o < hi; o++ {
			if l.inner == 1 {
				row := x[o*l.c : (o+1)*l.c]
				s, q := s[:len(row)], q[:len(row)]
				for j, v := range row {
					f := float64(v)
					s[j] += f
					q[j] += f * f
				}
				continue
			}
			for j := range l.c {
				var sj, qj float64
				for _, v := range x[(o*l.c+j)*l.inner : (o*l.c+j+1)*l.inner] {
					f := float64(v)
					sj += f
					qj += f * f
				}
				s[j] += sj
				q[j] += qj
			}
		}
	})
	n := float64(l.outer * l.inner)
	for j := range l.c {
		m := sum[j] / n
		mean[j] = float32(m)
		variance[j] = float32(max(0, sumSq[j]/n-m*m))
	}
}

// affine writes dst = x·a + b (per feature).
func (l bnLayout) affine(dst, x, a, b []float32) {
	l.forOuter(func(lo, hi int) {
		if l.inner == 1 && vecBN(l.c) {
			vecBNAffine(dst[lo*l.c:hi*l.c], x[lo*l.c:hi*l.c], hi-lo, l.c, a, b)
			return
		}
		for o := lo; o < hi; o++ {
			if l.inner == 1 {
				row := x[o*l.c : (o+1)*l.c]
				out := dst[o*l.c : (o+1)*l.c]
				a, b := a[:len(row)], b[:len(row)]
				out = out[:len(row)]
				for j, v := range row {
					out[j] = v*a[j] + b[j]
				}
				continue
			}
			for j := range l.c {
				base := (o*l.c + j) * l.inner
				aj, bj := a[j], b[j]
				out := dst[base : base+l.inner]
				for i, v := range x[base : base+l.inner] {
					out[i] = v*aj + bj
				}
			}
		}
	})
}

// gradSums writes sum(dy) and sum(dy·xhat) per feature, xhat =
// (x-mean)/sqrt(variance+eps).
func (l bnLayout) gradSums(x, dy, mean, variance []float32, epsilon float32, sumDy, sumDyXhat []float32) {
	s1 := make([]float64, l.c)
	s2 := make([]float64, l.c)
	l.sums2(s1, s2, func(lo, hi int, s, q []float64) {
		if l.inner == 1 && vecBN(l.c) {
			for o := lo; o < hi; o += l.vecBlock() {
				rows := min(l.vecBlock(), hi-o)
				vecBNGradSums(x[o*l.c:(o+rows)*l.c], dy[o*l.c:(o+rows)*l.c], rows, l.c, mean, s, q)
			}
			return
		}
		for o := lo; o < hi; o++ {
			if l.inner == 1 {
				row := x[o*l.c : (o+1)*l.c]
				g := dy[o*l.c : (o+1)*l.c]
				s, q, m := s[:len(row)], q[:len(row)], mean[:len(row)]
				g = g[:len(row)]
				for j, v := range row {
					gj := float64(g[j])
					s[j] += gj
					q[j] += gj * float64(v-m[j])
				}
				continue
			}
			for j := range l.c {
				base := (o*l.c + j) * l.inner
				mj := mean[j]
				g := dy[base : base+l.inner]
				var sj, qj float64
				for i, v := range x[base : base+l.inner] {
					gi := float64(g[i])
					sj += gi
					qj += gi * float64(v-mj)
				}
				s[j] += sj
				q[j] += qj
			}
		}
	})
	for j := range l.c {
		sumDy[j] = float32(s1[j])
		sumDyXhat[j] = float32(s2[j] / math.Sqrt(float64(variance[j])+float64(epsilon)))
	}
}

// gradInput writes dst = dy·a + x·k1 + k0 (per feature). dst may be dy.
func (l bnLayout) gradInput(dst, dy, x, a, k1, k0 []float32) {
	l.forOuter(func(lo, hi int) {
		if l.inner == 1 && vecBN(l.c) {
			vecBNGradInput(dst[lo*l.c:hi*l.c], dy[lo*l.c:hi*l.c], x[lo*l.c:hi*l.c], hi-lo, l.c, a, k1, k0)
			return
		}
		for o := lo; o < hi; o++ {
			if l.inner == 1 {
				row := x[o*l.c : (o+1)*l.c]
				g := dy[o*l.c : (o+1)*l.c]
				out := dst[o*l.c : (o+1)*l.c]
				g, out = g[:len(row)], out[:len(row)]
				a, k1, k0 := a[:len(row)], k1[:len(row)], k0[:len(row)]
				for j, v := range row {
					out[j] = g[j]*a[j] + v*k1[j] + k0[j]
				}
				continue
			}
			for j := range l.c {
				base := (o*l.c + j) * l.inner
				aj, k1j, k0j := a[j], k1[j], k0[j]
				g := dy[base : base+l.inner]
				out := dst[base : base+l.inner]
				for i, v := range x[base : base+l.inner] {
					out[i] = g[i]*aj + v*k1j + k0j
				}
			}
		}
	})
}
