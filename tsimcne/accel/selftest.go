//go:build !noaccel

package accel

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Install's self-test: every executor of replacedOps that computes
// simplego's own nodes (replacedOp.plain) runs once on small nodes built by
// simplego's builder, next to simplego's own executor, and their results
// must agree; the parameters read through the mirrors of
// simplego_internals.go must be those the graph was built with. The fused
// ops are checked by selfTestFused (selftest_fused.go).

// selfTestCase is one DotGeneral of the self-test.
type selfTestCase struct {
	lhsDims, lhsContract, lhsBatch []int
	rhsDims, rhsContract, rhsBatch []int
	batch, lhsCross, rhsCross, k   int // expected normalized sizes
}

var selfTestCases = []selfTestCase{
	// Plain [5,7]x[7,9].
	{[]int{5, 7}, []int{1}, nil, []int{7, 9}, []int{0}, nil, 1, 5, 9, 7},
	// Batch axis in different places, transposed contraction.
	{[]int{3, 7, 5}, []int{1}, []int{0}, []int{9, 3, 7}, []int{2}, []int{1}, 3, 5, 9, 7},
	// Two contracting axes given out of order (needs a copy), two cross axes.
	{[]int{4, 3, 5, 2}, []int{2, 0}, nil, []int{5, 6, 4}, []int{0, 2}, nil, 1, 6, 6, 20},
	// Large enough to run on several goroutines, with partial tiles.
	{[]int{70, 300}, []int{1}, nil, []int{45, 300}, []int{1}, nil, 1, 70, 45, 300},
}

// plainSelfTest is the state of one run of selfTest.
type plainSelfTest struct {
	backend *simplego.Backend
	r       *rand.Rand
	covered opSet // the op types compared so far
}

// selfTest runs the self-test on a private simplego backend and returns
// the op types it covered.
func selfTest() (opSet, error) {
	be, err := simplego.New("")
	if err != nil {
		return nil, fmt.Errorf("creating a simplego backend: %w", err)
	}
	defer be.Finalize()
	backend, ok := be.(*simplego.Backend)
	if !ok {
		return nil, fmt.Errorf("simplego.New returned %T", be)
	}
	st := &plainSelfTest{backend: backend, r: rand.New(rand.NewPCG(7, 11)), covered: opSet{}}
	for i, tc := range selfTestCases {
		if err := st.dotGeneral(tc); err != nil {
			return nil, fmt.Errorf("DotGeneral case %d (%v x %v): %w", i, tc.lhsDims, tc.rhsDims, err)
		}
	}
	if err := st.gatherScatter(); err != nil {
		return nil, err
	}
	if err := st.elementwise(); err != nil {
		return nil, err
	}
	return st.covered, nil
}

// buffers returns buffers holding the given flat data of the given shapes
// (pairs of flat slice and shapes.Shape), and a function that finalizes
// them.
func buffers(backend *simplego.Backend, data ...any) ([]*simplego.Buffer, func(), error) {
	var bufs []*simplego.Buffer
	release := func() {
		for _, b := range bufs {
			_ = backend.BufferFinalize(b)
		}
	}
	for i := 0; i+1 < len(data); i += 2 {
		shape, ok := data[i+1].(shapes.Shape)
		if !ok {
			release()
			return nil, nil, fmt.Errorf("buffers: argument %d is %T, want shapes.Shape", i+1, data[i+1])
		}
		b, err := backend.BufferFromFlatData(0, data[i], shape)
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("input %d (%s): %w", i/2, shape, err)
		}
		bufs = append(bufs, b.(*simplego.Buffer))
	}
	return bufs, release, nil
}

// compare computes node op with its replacement in replacedOps (try, which
// must not decline, or the registered executor) and with simplego's own
// executor, on inputs (not owned), and checks that the results agree (see
// sameData); the op type is then covered.
func (st *plainSelfTest) compare(name string, op backends.Op, inputs []*simplego.Buffer, tol float64) error {
	node, ok := op.(*simplego.Node)
	if !ok || node == nil {
		return fmt.Errorf("%s: the builder returned %T", name, op)
	}
	opType := nodeOpType(node)
	r, ok := replacement(opType)
	if !ok || r.orig == nil {
		return fmt.Errorf("%s: the node is a %s, not an op whose simplego executor is replaced", name, opType)
	}
	want, err := r.orig(st.backend, node, slices.Clone(inputs), make([]bool, len(inputs)))
	if err != nil {
		return fmt.Errorf("%s: simplego's %s: %w", name, opType, err)
	}
	defer func() { _ = st.backend.BufferFinalize(want) }()
	var got *simplego.Buffer
	if r.try != nil {
		if got, ok = r.try(st.backend, node, slices.Clone(inputs), make([]bool, len(inputs))); !ok {
			return fmt.Errorf("%s: the fast %s declined", name, opType)
		}
	} else if got, err = r.registered()(st.backend, node, slices.Clone(inputs), make([]bool, len(inputs))); err != nil {
		return fmt.Errorf("%s: the replaced %s executor: %w", name, opType, err)
	}
	defer func() { _ = st.backend.BufferFinalize(got) }()
	w, err1 := st.backend.BufferData(want)
	g, err2 := st.backend.BufferData(got)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := sameData(g, w, tol); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	st.covered[opType] = true
	return nil
}

// sameData returns an error unless got and want (flat buffer data) have the
// same type and length and agree: bool values equal; float32 values within
// tol·(1+|want|), the same infinities, NaN where want is NaN.
func sameData(got, want any, tol float64) error {
	switch w := want.(type) {
	case []bool:
		g, ok := got.([]bool)
		if !ok || !slices.Equal(g, w) {
			return fmt.Errorf("output %v, simplego's %v", got, want)
		}
		return nil
	case []float32:
		g, ok := got.([]float32)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("output is %T of length %d, simplego's %d float32", got, len(g), len(w))
		}
		for i, wi := range w {
			gi := g[i]
			switch {
			case gi == wi, gi != gi && wi != wi: // equal (infinities included), both NaN
			case math.Abs(float64(gi)-float64(wi)) <= tol*(1+math.Abs(float64(wi))):
			default:
				return fmt.Errorf("output[%d] = %g, simplego's %g", i, gi, wi)
			}
		}
		return nil
	}
	return fmt.Errorf("simplego's output is %T, not float32 or bool", want)
}

// dotGeneral runs one DotGeneral case, checking first that the parameters
// read through the dotGeneralParams mirror are those of the graph.
func (st *plainSelfTest) dotGeneral(tc selfTestCase) error {
	builder := st.backend.Builder("accel-self-test")
	lhsShape := shapes.Make(dtypes.Float32, tc.lhsDims...)
	rhsShape := shapes.Make(dtypes.Float32, tc.rhsDims...)
	lhsOp, err1 := builder.Parameter("lhs", lhsShape, nil)
	rhsOp, err2 := builder.Parameter("rhs", rhsShape, nil)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	resOp, err := builder.DotGeneral(lhsOp, slices.Clone(tc.lhsContract), slices.Clone(tc.lhsBatch),
		rhsOp, slices.Clone(tc.rhsContract), slices.Clone(tc.rhsBatch))
	if err != nil {
		return err
	}
	// DotGeneral returns Reshape(dotGeneralNode).
	node, ok := resOp.(*simplego.Node)
	if !ok {
		return fmt.Errorf("DotGeneral returned %T", resOp)
	}
	if nodeOpType(node) != backends.OpTypeDotGeneral {
		in := nodeInputs(node)
		if nodeOpType(node) != backends.OpTypeReshape || len(in) != 1 || nodeOpType(in[0]) != backends.OpTypeDotGeneral {
			return fmt.Errorf("DotGeneral graph is %s, not Reshape(DotGeneral)", nodeOpType(node))
		}
		node = in[0]
	}
	if err := checkParamsType(reflect.TypeOf(nodeData(node))); err != nil {
		return err
	}
	params, ok := nodeParams(node)
	if !ok {
		return errors.New("cannot read the DotGeneral parameters")
	}
	got := []int{params.batchSize, params.lhsCrossSize, params.rhsCrossSize, params.contractingSize}
	if want := []int{tc.batch, tc.lhsCross, tc.rhsCross, tc.k}; !slices.Equal(got, want) ||
		!slices.Equal(params.lhsContractingAxes, tc.lhsContract) || !slices.Equal(params.rhsContractingAxes, tc.rhsContract) ||
		!slices.Equal(params.lhsBatchAxes, tc.lhsBatch) || !slices.Equal(params.rhsBatchAxes, tc.rhsBatch) ||
		!slices.Equal(nodeShape(node).Dimensions, want[:3]) || nodeShape(node).DType != dtypes.Float32 {
		return fmt.Errorf("parameters read through the mirror are wrong: sizes %v, want %v; axes %v %v %v %v; shape %s",
			got, want, params.lhsContractingAxes, params.lhsBatchAxes, params.rhsContractingAxes, params.rhsBatchAxes, nodeShape(node))
	}
	inputs, release, err := buffers(st.backend, st.normal(lhsShape.Size(), 0), lhsShape, st.normal(rhsShape.Size(), 0), rhsShape)
	if err != nil {
		return err
	}
	defer release()
	return st.compare("DotGeneral", node, inputs, 1e-4*math.Sqrt(float64(tc.k)))
}

// normal returns n random float32 values, normally distributed around
// mean.
func (st *plainSelfTest) normal(n int, mean float64) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(st.r.NormFloat64() + mean)
	}
	return d
}

// gatherScatter runs a row Gather and a ScatterSum (with repeated indices),
// checking first the parameters read through their mirrors.
func (st *plainSelfTest) gatherScatter() error {
	builder := st.backend.Builder("accel-self-test-gather")
	opShape := shapes.Make(dtypes.Float32, 7, 3, 2)
	idxShape := shapes.Make(dtypes.Int32, 5, 2, 1)
	updShape := shapes.Make(dtypes.Float32, 5, 2, 3, 2)
	opP, err1 := builder.Parameter("operand", opShape, nil)
	idxP, err2 := builder.Parameter("indices", idxShape, nil)
	updP, err3 := builder.Parameter("updates", updShape, nil)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	gatherOp, err1 := builder.Gather(opP, idxP, 2, []int{2, 3}, []int{0}, []int{0}, []int{1, 3, 2}, false)
	scatterOp, err2 := builder.ScatterSum(opP, idxP, updP, 2, []int{2, 3}, []int{0}, []int{0}, false, false)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	gatherNode, ok1 := gatherOp.(*simplego.Node)
	scatterNode, ok2 := scatterOp.(*simplego.Node)
	if !ok1 || !ok2 || nodeOpType(gatherNode) != backends.OpTypeGather || nodeOpType(scatterNode) != backends.OpTypeScatterSum {
		return errors.New("Gather/ScatterSum did not build Gather/ScatterSum nodes")
	}
	if err := checkMirror[gatherParams](reflect.TypeOf(nodeData(gatherNode)), "gatherNode", &internals.gatherType); err != nil {
		return err
	}
	if err := checkMirror[scatterParams](reflect.TypeOf(nodeData(scatterNode)), "scatterNode", &internals.scatterType); err != nil {
		return err
	}
	gp, sp := nodeGatherParams(gatherNode), nodeScatterParams(scatterNode)
	if gp.indexVectorAxis != 2 || !slices.Equal(gp.sliceSizes, []int{1, 3, 2}) || !slices.Equal(gp.offsetOutputAxes, []int{2, 3}) ||
		sp.indexVectorAxis != 2 || !slices.Equal(sp.updateWindowAxes, []int{2, 3}) || !slices.Equal(sp.insertedWindowAxes, []int{0}) {
		return fmt.Errorf("Gather/Scatter parameters read through the mirror are wrong: %+v, %+v", *gp, *sp)
	}
	idxData := []int32{3, 0, 6, 3, 1, 1, 5, 3, 2, 0}
	bufs, release, err := buffers(st.backend, st.normal(opShape.Size(), 0), opShape, idxData, idxShape,
		st.normal(updShape.Size(), 0), updShape)
	if err != nil {
		return err
	}
	defer release()
	if err := st.compare("Gather", gatherNode, bufs[:2], 0); err != nil {
		return err
	}
	return st.compare("ScatterSum", scatterNode, bufs, 0)
}

// elementwise runs the element-wise ops (same shapes, broadcasting and
// scalar operands on either side), BroadcastInDim, the reductions,
// Transpose, Where, GreaterThan, Sign, Slice and a ReduceWindow of
// simplego's own.
func (st *plainSelfTest) elementwise() error {
	builder := st.backend.Builder("accel-self-test-elementwise")
	xShape := shapes.Make(dtypes.Float32, 4, 3, 5)
	yShape := shapes.Make(dtypes.Float32, 1, 3, 1)
	condShape := shapes.Make(dtypes.Bool, 4, 3, 5)
	scalar := shapes.Make(dtypes.Float32)
	x, err1 := builder.Parameter("x", xShape, nil)
	y, err2 := builder.Parameter("y", yShape, nil)
	w, err3 := builder.Parameter("w", xShape, nil)
	cond, err4 := builder.Parameter("cond", condShape, nil)
	s, err5 := builder.Parameter("s", scalar, nil)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	xData := st.normal(xShape.Size(), 3)
	xData[0], xData[1] = 0, float32(math.Copysign(0, -1))
	condData := make([]bool, condShape.Size())
	for i := range condData {
		condData[i] = st.r.IntN(2) == 0
	}
	bufs, release, err := buffers(st.backend, xData, xShape, st.normal(yShape.Size(), 0), yShape,
		st.normal(xShape.Size(), 0), xShape, condData, condShape, []float32{0.5}, scalar)
	if err != nil {
		return err
	}
	defer release()
	xb, yb, wb, cb, sb := bufs[0], bufs[1], bufs[2], bufs[3], bufs[4]
	type opErr struct {
		op  backends.Op
		err error
	}
	build := func(op backends.Op, err error) opErr { return opErr{op, err} }
	cases := []struct {
		name   string
		op     opErr
		inputs []*simplego.Buffer
	}{
		{"Add", build(builder.Add(x, w)), []*simplego.Buffer{xb, wb}},
		{"Add broadcast", build(builder.Add(y, x)), []*simplego.Buffer{yb, xb}},
		{"Sub broadcast", build(builder.Sub(x, y)), []*simplego.Buffer{xb, yb}},
		{"Mul", build(builder.Mul(w, x)), []*simplego.Buffer{wb, xb}},
		{"Mul scalar", build(builder.Mul(x, s)), []*simplego.Buffer{xb, sb}},
		{"Div broadcast", build(builder.Div(y, x)), []*simplego.Buffer{yb, xb}},
		{"Max broadcast", build(builder.Max(x, y)), []*simplego.Buffer{xb, yb}},
		{"Min", build(builder.Min(x, w)), []*simplego.Buffer{xb, wb}},
		{"Min scalar", build(builder.Min(s, x)), []*simplego.Buffer{sb, xb}},
		{"BroadcastInDim", build(builder.BroadcastInDim(y, xShape, []int{0, 1, 2})), []*simplego.Buffer{yb}},
		{"ReduceSum", build(builder.ReduceSum(x, 0, 2)), []*simplego.Buffer{xb}},
		{"ReduceMax", build(builder.ReduceMax(x, 1)), []*simplego.Buffer{xb}},
		{"Transpose", build(builder.Transpose(x, 2, 0, 1)), []*simplego.Buffer{xb}},
		{"Where", build(builder.Where(cond, x, s)), []*simplego.Buffer{cb, xb, sb}},
		{"GreaterThan", build(builder.GreaterThan(x, s)), []*simplego.Buffer{xb, sb}},
		{"Sign", build(builder.Sign(x)), []*simplego.Buffer{xb}},
		{"Slice rows", build(builder.Slice(x, []int{1, 0, 0}, []int{3, 3, 5}, []int{1, 1, 1})), []*simplego.Buffer{xb}},
		{"Slice inner", build(builder.Slice(x, []int{0, 1, 2}, []int{4, 3, 4}, []int{1, 1, 1})), []*simplego.Buffer{xb}},
		// Overlapping windows: a node of simplego's own, which the
		// replaced executor hands to simplego's.
		{"ReduceWindow", build(builder.ReduceWindow(x, backends.ReduceOpMax, []int{2, 2, 1}, []int{1, 1, 1}, nil, nil, nil)),
			[]*simplego.Buffer{xb}},
	}
	for _, c := range cases {
		if c.op.err != nil {
			return fmt.Errorf("building %s: %w", c.name, c.op.err)
		}
		if c.name == "Slice rows" {
			if err := st.checkSliceMirror(c.op.op); err != nil {
				return err
			}
		}
		if err := st.compare(c.name, c.op.op, c.inputs, 1e-5); err != nil {
			return err
		}
	}
	return nil
}

// checkSliceMirror checks the sliceParams mirror on the Slice node
// x[1:3, 0:3, 0:5].
func (st *plainSelfTest) checkSliceMirror(op backends.Op) error {
	node, ok := op.(*simplego.Node)
	if !ok || nodeOpType(node) != backends.OpTypeSlice {
		return errors.New("Slice did not build a Slice node")
	}
	if err := checkMirror[sliceParams](reflect.TypeOf(nodeData(node)), "sliceNode", &internals.sliceType); err != nil {
		return err
	}
	if sp := nodeSliceParams(node); !slices.Equal(sp.starts, []int{1, 0, 0}) || !slices.Equal(sp.limits, []int{3, 3, 5}) {
		return fmt.Errorf("Slice parameters read through the mirror are wrong: %+v", *sp)
	}
	return nil
}
