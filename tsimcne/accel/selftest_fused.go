//go:build !noaccel

package accel

import (
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The fused ops' self-test: the first time WithFusedOps wraps a backend,
// small graphs are built with its builder, whose outputs are fused nodes of
// every kind (the batch norms and their gradient, max-pooling and its
// gradient, the Winograd tile gathers, scatters and permutations), and with
// simplego's builder from plain GoMLX ops (the same ops for the tile nodes,
// the element-wise formulation for the rest). Both run through simplego's
// executors, and must agree. Every op type of replacedOps with fused nodes
// (replacedOp.fused) must have been among the fused outputs, or the fused
// ops are not offered.

var (
	fusedOnce sync.Once
	fusedErr  error
)

// fusedOpsChecked runs the fused ops' self-test once and reports whether it
// passed; the first failure is logged.
func fusedOpsChecked() bool {
	fusedOnce.Do(func() {
		fusedErr = checkFusedOps()
		if fusedErr != nil {
			log.Printf("tsimcne/accel: fused ops not offered, GoMLX's own ops are used: %v", fusedErr)
		}
	})
	return fusedErr == nil
}

// checkFusedOps runs the fused ops' self-test on a private simplego
// backend; Install must have registered the executors.
func checkFusedOps() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fused self-test panicked: %v", r)
		}
	}()
	// Sequential: tiny graphs gain nothing from simplego's parallel
	// executor, which v0.26.0 runs with a data race of its own (exec.go,
	// executeNode).
	be, err := simplego.New(fusedSelfTestConfig)
	if err != nil {
		return fmt.Errorf("fused self-test: creating a simplego backend: %w", err)
	}
	defer be.Finalize()
	backend, ok := be.(*simplego.Backend)
	if !ok {
		return fmt.Errorf("fused self-test: simplego.New returned %T", be)
	}
	covered, err := selfTestFused(backend, fusedSelfTestCases(rand.New(rand.NewPCG(13, 17))))
	if err != nil {
		return fmt.Errorf("fused self-test: %w", err)
	}
	if missing := uncovered(covered, replacedOp.fused); len(missing) > 0 {
		return fmt.Errorf("fused self-test: no case ran a fused node of %v", missing)
	}
	return nil
}

// fusedSelfTestConfig is the configuration of the fused self-test's
// simplego backend.
const fusedSelfTestConfig = "ops_sequential"

// fusedInput is a float32 parameter of a fused self-test case, filled with
// normally distributed values around mean.
type fusedInput struct {
	dims []int
	mean float64
}

// fusedCase is a graph of the fused ops' self-test.
type fusedCase struct {
	name   string
	inputs []fusedInput
	// build builds the outputs from the parameters, on WithFusedOps's
	// builder (where they should be fused nodes) and, unless ref is set, on
	// simplego's (the reference).
	build func(b backends.Builder, params []backends.Op) ([]backends.Op, error)
	// ref builds the reference outputs on simplego's builder, for ops it
	// lacks.
	ref func(b backends.Builder, params []backends.Op) ([]backends.Op, error)
	// tol is the tolerance of the comparison (see sameData).
	tol float64
}

// selfTestFused runs cases on backend (see the top of this file) and
// returns the op types of the fused nodes that were outputs of a case that
// passed.
func selfTestFused(backend *simplego.Backend, cases []fusedCase) (opSet, error) {
	covered := opSet{}
	fused := &Backend{Backend: backend}
	r := rand.New(rand.NewPCG(19, 23))
	for _, c := range cases {
		var data []any
		var inShapes []shapes.Shape
		for _, in := range c.inputs {
			shape := shapes.Make(dtypes.Float32, in.dims...)
			inShapes = append(inShapes, shape)
			d := make([]float32, shape.Size())
			for i := range d {
				d[i] = float32(r.NormFloat64() + in.mean)
			}
			data = append(data, d, shape)
		}
		bufs, release, err := buffers(backend, data...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		got, kinds, err := runFusedCase(fused.Builder("accel-self-test-fused"), c.build, bufs, inShapes)
		if err != nil {
			release()
			return nil, fmt.Errorf("%s (fused): %w", c.name, err)
		}
		ref := c.ref
		if ref == nil {
			ref = c.build
		}
		want, _, err := runFusedCase(backend.Builder("accel-self-test-fused-reference"), ref, bufs, inShapes)
		if err != nil {
			release()
			return nil, fmt.Errorf("%s (reference): %w", c.name, err)
		}
		err = compareOutputs(backend, got, want, c.tol)
		for _, b := range append(got, want...) {
			_ = backend.BufferFinalize(b)
		}
		release()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		for _, k := range kinds {
			covered[k] = true
		}
	}
	return covered, nil
}

// runFusedCase builds a case's graph with build on b, runs it on inputs (of
// the given shapes) and returns its outputs and the op types of those that
// are fused nodes.
func runFusedCase(b backends.Builder, build func(backends.Builder, []backends.Op) ([]backends.Op, error),
	inputs []*simplego.Buffer, inShapes []shapes.Shape) (outputs []*simplego.Buffer, fusedKinds []backends.OpType, err error) {
	params := make([]backends.Op, len(inputs))
	for i, shape := range inShapes {
		if params[i], err = b.Parameter(fmt.Sprintf("x%d", i), shape, nil); err != nil {
			return nil, nil, err
		}
	}
	outs, err := build(b, params)
	if err != nil {
		return nil, nil, fmt.Errorf("building the graph: %w", err)
	}
	for _, o := range outs {
		if k, ok := fusedKind(o); ok {
			fusedKinds = append(fusedKinds, k)
		}
	}
	exe, err := b.Compile(outs, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("compiling: %w", err)
	}
	defer exe.Finalize()
	in := make([]backends.Buffer, len(inputs))
	for i, b := range inputs {
		in[i] = b
	}
	res, err := exe.Execute(in, nil, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("executing: %w", err)
	}
	for _, r := range res {
		outputs = append(outputs, r.(*simplego.Buffer))
	}
	return outputs, fusedKinds, nil
}

// fusedKind returns the op type of op if it is a fused node of this
// package (built by WithFusedOps's builder).
func fusedKind(op backends.Op) (backends.OpType, bool) {
	n, ok := op.(*simplego.Node)
	if !ok || n == nil {
		return 0, false
	}
	switch nodeData(n).(type) {
	case *bnParams, *poolParams, *tileOp:
		return nodeOpType(n), true
	}
	return 0, false
}

// compareOutputs compares the outputs of a case's two graphs (sameData).
func compareOutputs(backend *simplego.Backend, got, want []*simplego.Buffer, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, the reference %d", len(got), len(want))
	}
	for i := range got {
		gs, err1 := backend.BufferShape(got[i])
		ws, err2 := backend.BufferShape(want[i])
		g, err3 := backend.BufferData(got[i])
		w, err4 := backend.BufferData(want[i])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return fmt.Errorf("output #%d: %w", i, err)
		}
		if !gs.Equal(ws) {
			return fmt.Errorf("output #%d is %s, the reference's %s", i, gs, ws)
		}
		if err := sameData(g, w, tol); err != nil {
			return fmt.Errorf("output #%d: %w", i, err)
		}
	}
	return nil
}

// chain collects the first error of a sequence of builder calls.
type chain struct{ err error }

// op returns op, keeping err if it is the first.
func (c *chain) op(op backends.Op, err error) backends.Op {
	if c.err == nil && err != nil {
		c.err = err
	}
	return op
}

// constant is a float32 constant node.
func (c *chain) constant(b backends.Builder, data []float32, dims ...int) backends.Op {
	return c.op(b.Constant(data, dims...))
}

// fusedSelfTestCases returns the cases of the fused ops' self-test, with
// constants drawn from r.
func fusedSelfTestCases(r *rand.Rand) []fusedCase {
	return []fusedCase{
		batchNormCase([]int{2, 2, 2, 8}, 3), // NHWC activations (the vector kernels where the CPU has AVX2)
		batchNormCase([]int{3, 4, 5}, 1),    // a feature axis with axes after it
		maxPoolCase([]int{2, 4, 4, 8}),
		tilesCase(r),
	}
}

// batchNormCase checks BatchNormForTraining, BatchNormForInference (with
// the batch's statistics) and BatchNormGradient against their element-wise
// formulation. Inputs: x, scale, offset and the output gradient.
func batchNormCase(dims []int, axis int) fusedCase {
	const eps = 1e-3
	xs := shapes.Make(dtypes.Float32, dims...)
	c := dims[axis]
	var others []int
	for a := range dims {
		if a != axis {
			others = append(others, a)
		}
	}
	return fusedCase{
		name:   fmt.Sprintf("batch norm %v, feature axis %d", dims, axis),
		inputs: []fusedInput{{dims, 2}, {[]int{c}, 1}, {[]int{c}, 0}, {dims, 0}},
		tol:    1e-4,
		build: func(b backends.Builder, p []backends.Op) ([]backends.Op, error) {
			x, scale, offset, dy := p[0], p[1], p[2], p[3]
			y, mean, variance, err := b.BatchNormForTraining(x, scale, offset, eps, axis)
			if err != nil {
				return nil, err
			}
			yInf, err := b.BatchNormForInference(x, scale, offset, mean, variance, eps, axis)
			if err != nil {
				return nil, err
			}
			dx, dScale, dOffset, err := b.BatchNormGradient(x, scale, mean, variance, dy, eps, axis)
			return []backends.Op{y, mean, variance, yInf, dx, dScale, dOffset}, err
		},
		ref: func(b backends.Builder, p []backends.Op) ([]backends.Op, error) {
			x, scale, offset, dy := p[0], p[1], p[2], p[3]
			ch := &chain{}
			bc := func(v backends.Op) backends.Op { return ch.op(b.BroadcastInDim(v, xs, []int{axis})) }
			invN := ch.constant(b, []float32{float32(c) / float32(xs.Size())})
			mean := ch.op(b.Mul(ch.op(b.ReduceSum(x, others...)), invN))
			xc := ch.op(b.Sub(x, bc(mean)))
			variance := ch.op(b.Mul(ch.op(b.ReduceSum(ch.op(b.Mul(xc, xc)), others...)), invN))
			invStd := ch.op(b.Rsqrt(ch.op(b.Add(variance, ch.constant(b, []float32{eps})))))
			a := ch.op(b.Mul(scale, invStd))
			y := ch.op(b.Add(ch.op(b.Mul(xc, bc(a))), bc(offset)))
			// Inference: x·a + (offset - mean·a), the same values by
			// other nodes (outputs must be distinct).
			yInf := ch.op(b.Add(ch.op(b.Mul(x, bc(a))), bc(ch.op(b.Sub(offset, ch.op(b.Mul(mean, a)))))))
			// Gradient through the batch statistics: dx = a·(dy -
			// mean(dy) - x̂·mean(dy·x̂)), dScale = Σ dy·x̂, dOffset = Σ dy.
			xHat := ch.op(b.Mul(xc, bc(invStd)))
			dOffset := ch.op(b.ReduceSum(dy, others...))
			dScale := ch.op(b.ReduceSum(ch.op(b.Mul(dy, xHat)), others...))
			centered := ch.op(b.Sub(dy, bc(ch.op(b.Mul(dOffset, invN)))))
			dx := ch.op(b.Mul(bc(a), ch.op(b.Sub(centered, ch.op(b.Mul(xHat, bc(ch.op(b.Mul(dScale, invN)))))))))
			return []backends.Op{y, mean, variance, yInf, dx, dScale, dOffset}, ch.err
		},
	}
}

// maxPoolCase checks 2x2 max-pooling of NHWC x (ReduceWindow) and its
// gradient (SelectAndScatterMax) against Reshape + ReduceMax and a Where
// selecting the maximum (random inputs: no ties). Inputs: x and the pooled
// output's gradient.
func maxPoolCase(dims []int) fusedCase {
	n, h, w, c := dims[0], dims[1], dims[2], dims[3]
	window := []int{1, 2, 2, 1}
	return fusedCase{
		name:   fmt.Sprintf("max pool %v, window 2x2", dims),
		inputs: []fusedInput{{dims, 0}, {[]int{n, h / 2, w / 2, c}, 0}},
		build: func(b backends.Builder, p []backends.Op) ([]backends.Op, error) {
			ch := &chain{}
			y := ch.op(b.ReduceWindow(p[0], backends.ReduceOpMax, window, window, nil, nil, nil))
			dx := ch.op(b.SelectAndScatterMax(p[0], p[1], window, window, nil))
			return []backends.Op{y, dx}, ch.err
		},
		ref: func(b backends.Builder, p []backends.Op) ([]backends.Op, error) {
			ch := &chain{}
			split := shapes.Make(dtypes.Float32, n, h/2, 2, w/2, 2, c)
			xr := ch.op(b.Reshape(p[0], split.Dimensions...))
			y := ch.op(b.ReduceMax(xr, 2, 4))
			isMax := ch.op(b.Equal(xr, ch.op(b.BroadcastInDim(y, split, []int{0, 1, 3, 5}))))
			g := ch.op(b.BroadcastInDim(p[1], split, []int{0, 1, 3, 5}))
			dx := ch.op(b.Reshape(ch.op(b.Where(isMax, g, ch.constant(b, []float32{0}))), dims...))
			return []backends.Op{y, dx}, ch.err
		},
	}
}

// tilesCase checks the fused tile nodes of tiles.go, in the shapes of
// tsimcne/nn's Winograd convolutions, against the same ops unfused: a
// gather-transform of a Gather (9 taps of 4 tiles of 8 channels from 16
// pixel rows, repeated indices) and of a row permutation, a
// transform-scatter onto the pixel rows and a transform-permute back to
// pixel order. The constant matrices are half zeros (the sparse kernel) or
// dense (the GEMM). Inputs: the pixel rows, two transformed tensors, an
// NHWC image.
func tilesCase(r *rand.Rand) fusedCase {
	const rows, row, taps, tiles, p = 16, 8, 9, 4, 5
	matrix := func(m, k int, zeros float64) []float32 {
		d := make([]float32, m*k)
		for i := range d {
			if i == 0 || r.Float64() >= zeros {
				d[i] = float32(r.NormFloat64())
			}
		}
		return d
	}
	idx := make([]int32, taps*tiles)
	for i := range idx {
		idx[i] = int32(r.IntN(rows))
	}
	mIn, mOut, mPerm, mRows := matrix(p, taps, 0.5), matrix(taps, p, 0), matrix(4, p, 0.5), matrix(3, 4, 0)
	return fusedCase{
		name: "Winograd tiles",
		inputs: []fusedInput{
			{[]int{rows, row}, 0}, {[]int{p, tiles, row}, 0}, {[]int{p, tiles, row}, 0}, {[]int{1, 4, 4, row}, 0},
		},
		tol: 1e-4,
		build: func(b backends.Builder, in []backends.Op) ([]backends.Op, error) {
			ch := &chain{}
			x, v, u, img := in[0], in[1], in[2], in[3]
			indices := ch.op(b.Constant(idx, taps, tiles, 1))
			// gather-transform: mIn · x[idx].
			gathered := ch.op(b.Gather(x, indices, 2, []int{2}, []int{0}, []int{0}, []int{1, row}, false))
			gatherT := ch.op(b.DotGeneral(ch.constant(b, mIn, p, taps), []int{1}, nil, gathered, []int{0}, nil))
			// transform-scatter: x + scatter of mOut · v into rows idx.
			updates := ch.op(b.DotGeneral(ch.constant(b, mOut, taps, p), []int{1}, nil, v, []int{0}, nil))
			scatterT := ch.op(b.ScatterSum(x, indices, updates, 2, []int{2}, []int{0}, []int{0}, false, false))
			// transform-permute: the 2x2 outputs of each tile of mPerm · u
			// back to pixel order [1, 2, 2, 2, 2, row].
			y := ch.op(b.DotGeneral(ch.constant(b, mPerm, 4, p), []int{1}, nil, u, []int{0}, nil))
			permuteT := ch.op(b.Transpose(ch.op(b.Reshape(y, 2, 2, 1, 2, 2, row)), 2, 3, 0, 4, 1, 5))
			// gather-transform of a permutation: the image's 2x2 blocks as
			// [4 positions, 4 tiles, row], times mRows.
			blocks := ch.op(b.Transpose(ch.op(b.Reshape(img, 1, 2, 2, 2, 2, row)), 2, 4, 0, 1, 3, 5))
			blockRows := ch.op(b.Reshape(blocks, 4, 4, row))
			permGatherT := ch.op(b.DotGeneral(ch.constant(b, mRows, 3, 4), []int{1}, nil, blockRows, []int{0}, nil))
			return []backends.Op{gatherT, scatterT, permuteT, permGatherT}, ch.err
		},
	}
}
