package accel

import (
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// EnvVar is the environment variable that turns the fast kernels off:
// TSIMCNE_FAST_KERNELS=0 (or false, off, no) makes Install do nothing.
const EnvVar = "TSIMCNE_FAST_KERNELS"

// SupportedGoMLX is the only GoMLX version whose internals this package
// knows (see simplego_internals.go).
const SupportedGoMLX = "v0.26.0"

const gomlxModule = "github.com/gomlx/gomlx"

// ErrDisabled is returned by Install when EnvVar turns the kernels off.
var ErrDisabled = errors.New("accel: fast kernels disabled by " + EnvVar)

var (
	installOnce sync.Once
	installErr  error
	installed   atomic.Bool
)

// Install replaces the DotGeneral executor of GoMLX's pure-Go backend
// ("go", simplego) with one built on this package's GEMM, process-wide, for
// every simplego backend, existing or future. float32 products of any
// layout use it; other dtypes keep simplego's own executor.
//
// It installs nothing, and returns why, unless the program links GoMLX
// exactly SupportedGoMLX, EnvVar does not turn it off, and a self-test
// passes: a few small DotGenerals computed by both executors must agree and
// the simplego fields read through unsafe must hold the expected values.
// The reason is also logged once (except for ErrDisabled). Only the first
// call does anything; later ones return the same result. It is safe to call
// from several goroutines, but should run before graphs execute on simplego
// (tsimcne/backend calls it when it creates a "go" backend).
func Install() error {
	installOnce.Do(func() {
		installErr = install()
		if installErr != nil && !errors.Is(installErr, ErrDisabled) {
			log.Printf("tsimcne/accel: fast kernels not installed, GoMLX's own are used: %v", installErr)
		}
	})
	return installErr
}

// Installed reports whether Install has replaced simplego's DotGeneral
// executor (and the replacement has not since turned itself off after an
// internal error).
func Installed() bool { return installed.Load() && enabled.Load() }

func install() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("self-test panicked: %v", r)
		}
	}()
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvVar))) {
	case "0", "false", "off", "no":
		return ErrDisabled
	}
	if err := checkVersion(SupportedGoMLX); err != nil {
		return err
	}
	if err := checkNodeLayout(); err != nil {
		return err
	}
	if err := selfTest(); err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	enabled.Store(true)
	setNodeExecutor(backends.OpTypeDotGeneral, priorityUser, withTileOps(fastDotGeneral))
	setNodeExecutor(backends.OpTypeGather, priorityUser, fastGather)
	setNodeExecutor(backends.OpTypeScatterSum, priorityUser, withTileOps(fastScatterSum))
	setNodeExecutor(backends.OpTypeAdd, priorityUser, fastBinary(backends.OpTypeAdd, execAdd))
	setNodeExecutor(backends.OpTypeSub, priorityUser, fastBinary(backends.OpTypeSub, execSub))
	setNodeExecutor(backends.OpTypeMul, priorityUser, fastBinary(backends.OpTypeMul, execMul))
	setNodeExecutor(backends.OpTypeDiv, priorityUser, fastBinary(backends.OpTypeDiv, execDiv))
	setNodeExecutor(backends.OpTypeMax, priorityUser, fastBinary(backends.OpTypeMax, execMax))
	setNodeExecutor(backends.OpTypeMin, priorityUser, fastBinary(backends.OpTypeMin, execMin))
	setNodeExecutor(backends.OpTypeBroadcastInDim, priorityUser, fastBroadcastInDim)
	setNodeExecutor(backends.OpTypeReduceSum, priorityUser, fastReduce(backends.OpTypeReduceSum))
	setNodeExecutor(backends.OpTypeReduceMax, priorityUser, fastReduce(backends.OpTypeReduceMax))
	setNodeExecutor(backends.OpTypeTranspose, priorityUser, withTileOps(fastTranspose))
	setNodeExecutor(backends.OpTypeWhere, priorityUser, fastWhere)
	setNodeExecutor(backends.OpTypeGreaterThan, priorityUser, fastGreater)
	setNodeExecutor(backends.OpTypeSign, priorityUser, fastSign)
	setNodeExecutor(backends.OpTypeSlice, priorityUser, fastSlice)
	for _, op := range fusedBatchNormOps {
		setNodeExecutor(op, priorityUser, execFusedBN)
	}
	setNodeExecutor(backends.OpTypeReduceWindow, priorityUser, execFusedPool)
	setNodeExecutor(backends.OpTypeSelectAndScatterMax, priorityUser, execFusedPool)
	installed.Store(true)
	return nil
}

// checkVersion returns an error unless the linked GoMLX is version want.
func checkVersion(want string) error {
	v, err := linkedGoMLXVersion()
	if err != nil {
		return err
	}
	if v != want {
		return fmt.Errorf("linked %s is %s, this package only knows %s", gomlxModule, v, want)
	}
	return nil
}

// linkedGoMLXVersion returns the version of GoMLX in the running binary:
// from the build information, or, where that lists no dependencies (test
// binaries), from the module-cache path of simplego's source files
// (".../github.com/gomlx/gomlx@v0.26.0/backends/simplego/...", also with
// -trimpath). A replaced or vendored GoMLX has no version: an error.
func linkedGoMLXVersion() (string, error) {
	if info, ok := debug.ReadBuildInfo(); ok {
		mods := append([]*debug.Module{&info.Main}, info.Deps...)
		for _, m := range mods {
			if m.Path != gomlxModule {
				continue
			}
			if m.Replace != nil {
				return "", fmt.Errorf("%s is replaced by %s %s: cannot check its version", gomlxModule, m.Replace.Path, m.Replace.Version)
			}
			return m.Version, nil
		}
	}
	fn := runtime.FuncForPC(reflect.ValueOf(simplego.New).Pointer())
	if fn == nil {
		return "", errors.New("cannot find the GoMLX version: no build information, no source path")
	}
	file, _ := fn.FileLine(fn.Entry())
	file = filepath.ToSlash(file)
	_, rest, found := strings.Cut(file, gomlxModule+"@")
	version, _, found2 := strings.Cut(rest, "/")
	if !found || !found2 || version == "" {
		return "", fmt.Errorf("cannot find the GoMLX version: build information has no dependencies and simplego's source %q is not in a module cache", file)
	}
	return version, nil
}

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

// selfTest runs selfTestCases through simplego's executor and ours, on a
// private simplego backend, checks that the parameters read through the
// mirror are those of the graph and that the results agree.
func selfTest() error {
	be, err := simplego.New("")
	if err != nil {
		return err
	}
	defer be.Finalize()
	backend, ok := be.(*simplego.Backend)
	if !ok {
		return fmt.Errorf("simplego.New returned %T", be)
	}
	r := rand.New(rand.NewPCG(7, 11))
	for i, tc := range selfTestCases {
		if err := runSelfTestCase(backend, r, tc); err != nil {
			return fmt.Errorf("case %d (%v x %v): %w", i, tc.lhsDims, tc.rhsDims, err)
		}
	}
	if err := selfTestGatherScatter(backend, r); err != nil {
		return err
	}
	return selfTestElementwise(backend, r)
}

// selfTestElementwise runs broadcasting Sub, Div and Max, BroadcastInDim,
// ReduceSum, ReduceMax, Transpose, Where, Sign, Slice and GreaterThan
// through simplego's executors and ours.
func selfTestElementwise(backend *simplego.Backend, r *rand.Rand) error {
	builder := backend.Builder("accel-self-test-elementwise")
	xShape := shapes.Make(dtypes.Float32, 4, 3, 5)
	yShape := shapes.Make(dtypes.Float32, 1, 3, 1)
	condShape := shapes.Make(dtypes.Bool, 4, 3, 5)
	x, err1 := builder.Parameter("x", xShape, nil)
	y, err2 := builder.Parameter("y", yShape, nil)
	cond, err3 := builder.Parameter("cond", condShape, nil)
	zero, err4 := builder.Parameter("zero", shapes.Make(dtypes.Float32), nil)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	sub, err1 := builder.Sub(x, y)
	div, err2 := builder.Div(y, x)
	maxOp, err11 := builder.Max(x, y)
	bcast, err3 := builder.BroadcastInDim(y, xShape, []int{0, 1, 2})
	sum, err4 := builder.ReduceSum(x, 0, 2)
	rmax, err7 := builder.ReduceMax(x, 1)
	transposed, err8 := builder.Transpose(x, 2, 0, 1)
	where, err5 := builder.Where(cond, x, zero)
	sign, err6 := builder.Sign(x)
	sliceRows, err9 := builder.Slice(x, []int{1, 0, 0}, []int{3, 3, 5}, []int{1, 1, 1})
	sliceInner, err10 := builder.Slice(x, []int{0, 1, 2}, []int{4, 3, 4}, []int{1, 1, 1})
	greater, err12 := builder.GreaterThan(x, zero)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12); err != nil {
		return err
	}
	if node, ok := sliceRows.(*simplego.Node); !ok || nodeOpType(node) != backends.OpTypeSlice {
		return errors.New("Slice did not build a Slice node")
	} else if err := checkMirror[sliceParams](reflect.TypeOf(nodeData(node)), "sliceNode", &internals.sliceType); err != nil {
		return err
	} else if sp := nodeSliceParams(node); !slices.Equal(sp.starts, []int{1, 0, 0}) || !slices.Equal(sp.limits, []int{3, 3, 5}) {
		return fmt.Errorf("Slice parameters read through the mirror are wrong: %+v", *sp)
	}
	xData := make([]float32, xShape.Size())
	yData := make([]float32, yShape.Size())
	for i := range xData {
		xData[i] = float32(r.NormFloat64()) + 3
	}
	for i := range yData {
		yData[i] = float32(r.NormFloat64())
	}
	xData[0], xData[1] = 0, float32(math.Copysign(0, -1))
	condData := make([]bool, condShape.Size())
	for i := range condData {
		condData[i] = r.IntN(2) == 0
	}
	xBuf, err1 := backend.BufferFromFlatData(0, xData, xShape)
	yBuf, err2 := backend.BufferFromFlatData(0, yData, yShape)
	condBuf, err3 := backend.BufferFromFlatData(0, condData, condShape)
	zeroBuf, err4 := backend.BufferFromFlatData(0, []float32{0.5}, shapes.Make(dtypes.Float32))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	defer func() {
		_, _, _, _ = backend.BufferFinalize(xBuf), backend.BufferFinalize(yBuf), backend.BufferFinalize(condBuf), backend.BufferFinalize(zeroBuf)
	}()
	both := []*simplego.Buffer{xBuf.(*simplego.Buffer), yBuf.(*simplego.Buffer)}
	whereInputs := []*simplego.Buffer{condBuf.(*simplego.Buffer), xBuf.(*simplego.Buffer), zeroBuf.(*simplego.Buffer)}
	slice := func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
		return trySlice(backend, n, in[0])
	}
	binary := func(op backends.OpType) func(*simplego.Node, []*simplego.Buffer) (*simplego.Buffer, bool) {
		return func(node *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return tryBinary(op, backend, node, in, make([]bool, len(in)))
		}
	}
	for _, c := range []struct {
		name   string
		op     backends.Op
		orig   nodeExecutor
		fast   func(*simplego.Node, []*simplego.Buffer) (*simplego.Buffer, bool)
		inputs []*simplego.Buffer
	}{
		{"Sub", sub, execSub, binary(backends.OpTypeSub), both},
		{"Div", div, execDiv, binary(backends.OpTypeDiv), both},
		{"Max", maxOp, execMax, binary(backends.OpTypeMax), both},
		{"BroadcastInDim", bcast, execBroadcastInDim, func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return tryBroadcastInDim(backend, n, in[0])
		}, both[1:]},
		{"ReduceSum", sum, execReduce, func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return tryReduce(backends.OpTypeReduceSum, backend, n, in[0])
		}, both[:1]},
		{"ReduceMax", rmax, execReduce, func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return tryReduce(backends.OpTypeReduceMax, backend, n, in[0])
		}, both[:1]},
		{"Transpose", transposed, execTranspose, func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return tryTranspose(backend, n, in[0])
		}, both[:1]},
		{"Where", where, execWhere, func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return tryWhere(backend, n, in, make([]bool, len(in)))
		}, whereInputs},
		{"Sign", sign, execSign, func(n *simplego.Node, in []*simplego.Buffer) (*simplego.Buffer, bool) {
			return trySign(backend, n, in, make([]bool, len(in)))
		}, both[:1]},
		{"Slice", sliceRows, execSlice, slice, both[:1]},
		{"Slice", sliceInner, execSlice, slice, both[:1]},
	} {
		node, ok := c.op.(*simplego.Node)
		if !ok {
			return fmt.Errorf("%s built %T", c.name, c.op)
		}
		want, err := c.orig(backend, node, slices.Clone(c.inputs), make([]bool, len(c.inputs)))
		if err != nil {
			return err
		}
		got, ok := c.fast(node, slices.Clone(c.inputs))
		if !ok {
			return fmt.Errorf("the fast %s declined", c.name)
		}
		w, _ := backend.BufferData(want)
		g, _ := backend.BufferData(got)
		ws, gs := w.([]float32), g.([]float32)
		if len(ws) != len(gs) {
			return fmt.Errorf("%s: %d outputs, simplego %d", c.name, len(gs), len(ws))
		}
		for i := range ws {
			if d := math.Abs(float64(ws[i] - gs[i])); !(d <= 1e-5*(1+math.Abs(float64(ws[i])))) {
				return fmt.Errorf("%s: output[%d] = %g, simplego's %g", c.name, i, gs[i], ws[i])
			}
		}
		_, _ = backend.BufferFinalize(want), backend.BufferFinalize(got)
	}
	// GreaterThan's output is bool.
	node, ok := greater.(*simplego.Node)
	if !ok {
		return fmt.Errorf("GreaterThan built %T", greater)
	}
	gtInputs := []*simplego.Buffer{xBuf.(*simplego.Buffer), zeroBuf.(*simplego.Buffer)}
	want, err := execGreaterThan(backend, node, slices.Clone(gtInputs), make([]bool, 2))
	if err != nil {
		return err
	}
	got, ok := tryGreaterThan(backend, node, slices.Clone(gtInputs), make([]bool, 2))
	if !ok {
		return errors.New("the fast GreaterThan declined")
	}
	w, _ := backend.BufferData(want)
	g, _ := backend.BufferData(got)
	if !slices.Equal(w.([]bool), g.([]bool)) {
		return fmt.Errorf("GreaterThan: %v, simplego's %v", g, w)
	}
	_, _ = backend.BufferFinalize(want), backend.BufferFinalize(got)
	return nil
}

// selfTestGatherScatter runs a row Gather and a ScatterSum (with repeated
// indices) through simplego's executors and ours: results must be equal.
func selfTestGatherScatter(backend *simplego.Backend, r *rand.Rand) error {
	builder := backend.Builder("accel-self-test-gather")
	opShape := shapes.Make(dtypes.Float32, 7, 3, 2)
	idxShape := shapes.Make(dtypes.Int32, 5, 2, 1)
	updShape := shapes.Make(dtypes.Float32, 5, 2, 3, 2)
	opP, err1 := builder.Parameter("operand", opShape, nil)
	idxP, err2 := builder.Parameter("indices", idxShape, nil)
	updP, err3 := builder.Parameter("updates", updShape, nil)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	gatherOp, err := builder.Gather(opP, idxP, 2, []int{2, 3}, []int{0}, []int{0}, []int{1, 3, 2}, false)
	if err != nil {
		return err
	}
	scatterOp, err := builder.ScatterSum(opP, idxP, updP, 2, []int{2, 3}, []int{0}, []int{0}, false, false)
	if err != nil {
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

	opData := make([]float32, opShape.Size())
	updData := make([]float32, updShape.Size())
	for i := range opData {
		opData[i] = float32(r.NormFloat64())
	}
	for i := range updData {
		updData[i] = float32(r.NormFloat64())
	}
	idxData := []int32{3, 0, 6, 3, 1, 1, 5, 3, 2, 0}
	var bufs []*simplego.Buffer
	defer func() {
		for _, b := range bufs {
			_ = backend.BufferFinalize(b)
		}
	}()
	for _, in := range []struct {
		flat  any
		shape shapes.Shape
	}{{opData, opShape}, {idxData, idxShape}, {updData, updShape}} {
		b, err := backend.BufferFromFlatData(0, in.flat, in.shape)
		if err != nil {
			return err
		}
		bufs = append(bufs, b.(*simplego.Buffer))
	}
	compare := func(name string, want, got *simplego.Buffer, ok bool) error {
		if !ok {
			return fmt.Errorf("the fast %s declined", name)
		}
		bufs = append(bufs, want, got)
		w, _ := backend.BufferData(want)
		g, _ := backend.BufferData(got)
		if !slices.Equal(w.([]float32), g.([]float32)) {
			return fmt.Errorf("%s results differ from simplego's", name)
		}
		return nil
	}
	want, err := execGather(backend, gatherNode, bufs[:2], []bool{false, false})
	if err != nil {
		return err
	}
	got, ok := tryGather(backend, gatherNode, bufs[0], bufs[1])
	if err := compare("Gather", want, got, ok); err != nil {
		return err
	}
	want, err = execScatter(backend, scatterNode, bufs[:3], []bool{false, false, false})
	if err != nil {
		return err
	}
	got, ok = tryScatterSum(backend, scatterNode, bufs[0], bufs[1], bufs[2])
	return compare("ScatterSum", want, got, ok)
}

func runSelfTestCase(backend *simplego.Backend, r *rand.Rand, tc selfTestCase) error {
	builder := backend.Builder("accel-self-test")
	lhsShape := shapes.Make(dtypes.Float32, tc.lhsDims...)
	rhsShape := shapes.Make(dtypes.Float32, tc.rhsDims...)
	lhsOp, err := builder.Parameter("lhs", lhsShape, nil)
	if err != nil {
		return err
	}
	rhsOp, err := builder.Parameter("rhs", rhsShape, nil)
	if err != nil {
		return err
	}
	resOp, err := builder.DotGeneral(lhsOp, slices.Clone(tc.lhsContract), slices.Clone(tc.lhsBatch),
		rhsOp, slices.Clone(tc.rhsContract), slices.Clone(tc.rhsBatch))
	if err != nil {
		return err
	}
	// DotGeneral returns Reshape(dotGeneralNode).
	res, ok := resOp.(*simplego.Node)
	if !ok {
		return fmt.Errorf("DotGeneral returned %T", resOp)
	}
	node := res
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

	lhsFlat := make([]float32, lhsShape.Size())
	rhsFlat := make([]float32, rhsShape.Size())
	for i := range lhsFlat {
		lhsFlat[i] = float32(r.NormFloat64())
	}
	for i := range rhsFlat {
		rhsFlat[i] = float32(r.NormFloat64())
	}
	lhsBuf, err := backend.BufferFromFlatData(0, lhsFlat, lhsShape)
	if err != nil {
		return err
	}
	rhsBuf, err := backend.BufferFromFlatData(0, rhsFlat, rhsShape)
	if err != nil {
		return err
	}
	inputs := []*simplego.Buffer{lhsBuf.(*simplego.Buffer), rhsBuf.(*simplego.Buffer)}
	want, err := execDotGeneral(backend, node, inputs, []bool{false, false})
	if err != nil {
		return fmt.Errorf("simplego's DotGeneral: %w", err)
	}
	gotBuf, ok := tryDotGeneral(backend, node, inputs[0], inputs[1])
	if !ok {
		return errors.New("the fast DotGeneral declined the product")
	}
	wantAny, _ := backend.BufferData(want)
	gotAny, _ := backend.BufferData(gotBuf)
	wantData, _ := wantAny.([]float32)
	gotData, _ := gotAny.([]float32)
	if len(gotData) != len(wantData) || len(gotData) != tc.batch*tc.lhsCross*tc.rhsCross {
		return fmt.Errorf("output sizes %d and %d, want %d", len(gotData), len(wantData), tc.batch*tc.lhsCross*tc.rhsCross)
	}
	tol := 1e-4 * math.Sqrt(float64(tc.k))
	for i := range gotData {
		if d := math.Abs(float64(gotData[i] - wantData[i])); !(d <= tol) {
			return fmt.Errorf("output[%d] = %g, simplego's %g", i, gotData[i], wantData[i])
		}
	}
	for _, b := range []backends.Buffer{want, gotBuf, lhsBuf, rhsBuf} {
		_ = backend.BufferFinalize(b)
	}
	return nil
}
