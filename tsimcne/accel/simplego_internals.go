//go:build !noaccel

package accel

// ============================================================================
// Access to GoMLX's pure-Go backend (simplego) internals, v0.26.0 ONLY.
//
// simplego has no public hook for custom op executors, nor accessors for a
// node's shape and parameters. Everything this package needs from its
// unexported API is in this file, and nowhere else:
//
//  1. go:linkname to unexported functions of backends/simplego:
//     - setNodeExecutor(opType, priority, executor), the registry that
//       simplego's own init functions fill (exec.go); we register with its
//       priorityUser (100), the level it reserves for "custom user overrides";
//     - execDotGeneral, execGather, execScatter, execAdd, execSub, execMul,
//       execDiv, execMax, execMin, execBroadcastInDim, execTranspose, execReduce, execWhere,
//       execGreaterThan, execSign, execSlice and execReduceWindow, the original executors
//       (dotgeneral.go, exec_special_ops.go, gen_exec_binary.go,
//       exec_unary.go), to which we hand every node we don't compute
//       ourselves;
//     - (*Builder).newNode (builder.go), which appends a node to a graph:
//       the fused ops (fused.go, pool.go) are nodes of op types simplego
//       has no executor for (BatchNorm*, SelectAndScatterMax) or of
//       ReduceWindow, with this package's parameters as their data. Our executors follow
//       their contract: the output is a buffer from the backend's pool, and
//       an input buffer the executor owns may be taken over as the output
//       by setting inputs[i] to nil (exec.go, executeNode).
//     Pulling unexported symbols with go:linkname is only restricted for the
//     standard library; the declarations below must match the v0.26.0
//     signatures exactly (the linker does not check types), which is why the
//     package refuses to install for any other GoMLX version (install.go).
//
//  2. Four fields of simplego.Node (builder.go) read through unsafe at
//     offsets found by reflection, by name, with their types checked:
//     "shape" (shapes.Shape), "data" (any; also written, for the fused
//     nodes this package creates) and "inputs" ([]*Node) and "opType"
//     (backends.OpType).
//
//  3. The parameters of DotGeneral, Gather and ScatterSum nodes,
//     *dotGeneralNodeData (dotgeneral.go), *gatherNode and *scatterNode
//     (ops.go), read through dotGeneralParams, gatherParams, sliceParams
//     and scatterParams below, copies of their field lists. Before use,
//     checkMirror compares each pair of structs field by field (name, type,
//     offset) by reflection, and every node's data is checked to be of
//     exactly that type before the cast.
//
// The data of BroadcastInDim, Transpose and Reduce nodes is a plain []int
// (axes or permutation), read with a type assertion.
//
// Buffers need no tricks: simplego.Backend's exported BufferShape,
// BufferData and NewBuffer (the backend's buffer pool) are used.
//
// If any check fails, Install leaves simplego untouched. Upgrading GoMLX
// means re-reading exec.go, builder.go, ops.go, dotgeneral.go,
// exec_special_ops.go, gen_exec_binary.go and exec_unary.go of the new
// version, updating this file and SupportedGoMLX in common.go. Until then,
// a GoMLX whose symbols no longer match can still be built with the
// noaccel build tag, which compiles out this file and every file that uses
// it (see the package documentation and noaccel.go).
// ============================================================================

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// nodeExecutor is simplego's nodeExecutor type (exec.go).
type nodeExecutor func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

// setNodeExecutor is simplego.setNodeExecutor; priority is its
// registerPriority (an int).
//
//go:linkname setNodeExecutor github.com/gomlx/gomlx/backends/simplego.setNodeExecutor
func setNodeExecutor(opType backends.OpType, priority int, executor nodeExecutor)

// execDotGeneral is simplego's own DotGeneral executor.
//
//go:linkname execDotGeneral github.com/gomlx/gomlx/backends/simplego.execDotGeneral
func execDotGeneral(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

// execGather is simplego's own Gather executor.
//
//go:linkname execGather github.com/gomlx/gomlx/backends/simplego.execGather
func execGather(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

// execScatter is simplego's own ScatterSum/Max/Min executor.
//
//go:linkname execScatter github.com/gomlx/gomlx/backends/simplego.execScatter
func execScatter(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

// The original executors of the element-wise ops replaced in elementwise.go
// (gen_exec_binary.go, exec_special_ops.go).
//
//go:linkname execAdd github.com/gomlx/gomlx/backends/simplego.execAdd
func execAdd(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execSub github.com/gomlx/gomlx/backends/simplego.execSub
func execSub(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execMul github.com/gomlx/gomlx/backends/simplego.execMul
func execMul(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execDiv github.com/gomlx/gomlx/backends/simplego.execDiv
func execDiv(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execBroadcastInDim github.com/gomlx/gomlx/backends/simplego.execBroadcastInDim
func execBroadcastInDim(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execMax github.com/gomlx/gomlx/backends/simplego.execMax
func execMax(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execMin github.com/gomlx/gomlx/backends/simplego.execMin
func execMin(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execWhere github.com/gomlx/gomlx/backends/simplego.execWhere
func execWhere(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execGreaterThan github.com/gomlx/gomlx/backends/simplego.execGreaterThan
func execGreaterThan(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execSign github.com/gomlx/gomlx/backends/simplego.execSign
func execSign(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execTranspose github.com/gomlx/gomlx/backends/simplego.execTranspose
func execTranspose(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execReduce github.com/gomlx/gomlx/backends/simplego.execReduce
func execReduce(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execSlice github.com/gomlx/gomlx/backends/simplego.execSlice
func execSlice(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname execReduceWindow github.com/gomlx/gomlx/backends/simplego.execReduceWindow
func execReduceWindow(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

// priorityUser is simplego's priorityUser (exec.go).
const priorityUser = 100

// dotGeneralParams mirrors simplego's dotGeneralNodeData (v0.26.0). The
// DotGeneral node's output is [batchSize, lhsCrossSize, rhsCrossSize]; the
// axes lists are already non-negative (adjusted at graph build time).
type dotGeneralParams struct {
	lhsContractingAxes, lhsBatchAxes                       []int
	rhsContractingAxes, rhsBatchAxes                       []int
	batchSize, lhsCrossSize, rhsCrossSize, contractingSize int
	lhsBlockedShape, rhsBlockedShape, outputBlockedShape   shapes.Shape
}

// gatherParams mirrors simplego's gatherNode (v0.26.0, ops.go).
type gatherParams struct {
	indexVectorAxis                                                  int
	offsetOutputAxes, collapsedSlicesAxes, startIndexMap, sliceSizes []int
	indicesAreSorted                                                 bool
}

// sliceParams mirrors simplego's sliceNode (v0.26.0, ops.go).
type sliceParams struct {
	starts, limits, strides []int
}

// scatterParams mirrors simplego's scatterNode (v0.26.0, ops.go).
type scatterParams struct {
	indexVectorAxis                                                int
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int
	indicesAreSorted, uniqueIndices                                bool
}

// internals holds the verified layout; set once by checkNodeLayout and
// checkParamsType, before the executor is registered.
var internals struct {
	shapeOff, dataOff, inputsOff, opTypeOff uintptr
	paramsType                              reflect.Type // *dotGeneralNodeData
	gatherType, scatterType                 reflect.Type // *gatherNode, *scatterNode
	sliceType                               reflect.Type // *sliceNode
}

// checkNodeLayout finds and checks the Node fields used here.
func checkNodeLayout() error {
	nodeType := reflect.TypeFor[simplego.Node]()
	want := []struct {
		name string
		typ  reflect.Type
		off  *uintptr
	}{
		{"shape", reflect.TypeFor[shapes.Shape](), &internals.shapeOff},
		{"data", reflect.TypeFor[any](), &internals.dataOff},
		{"inputs", reflect.TypeFor[[]*simplego.Node](), &internals.inputsOff},
		{"opType", reflect.TypeFor[backends.OpType](), &internals.opTypeOff},
	}
	for _, w := range want {
		f, ok := nodeType.FieldByName(w.name)
		if !ok {
			return fmt.Errorf("simplego.Node has no field %q", w.name)
		}
		if f.Type != w.typ || len(f.Index) != 1 {
			return fmt.Errorf("simplego.Node.%s is %s, want %s", w.name, f.Type, w.typ)
		}
		*w.off = f.Offset
	}
	return nil
}

// checkMirror checks that t, the dynamic type of a node's data, is a
// pointer to simplego's struct realName with exactly the fields of M, and
// stores it in *dst.
func checkMirror[M any](t reflect.Type, realName string, dst *reflect.Type) error {
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("node data is %v, want *%s", t, realName)
	}
	real, mirror := t.Elem(), reflect.TypeFor[M]()
	if real.Name() != realName || real.PkgPath() != reflect.TypeFor[simplego.Node]().PkgPath() {
		return fmt.Errorf("node data is %s.%s, want simplego's %s", real.PkgPath(), real.Name(), realName)
	}
	if real.NumField() != mirror.NumField() || real.Size() != mirror.Size() {
		return fmt.Errorf("%s has %d fields (%d bytes), mirror %d (%d bytes)",
			realName, real.NumField(), real.Size(), mirror.NumField(), mirror.Size())
	}
	for i := range real.NumField() {
		rf, mf := real.Field(i), mirror.Field(i)
		if rf.Name != mf.Name || rf.Type != mf.Type || rf.Offset != mf.Offset {
			return fmt.Errorf("%s field %d is %s %s at %d, mirror has %s %s at %d",
				realName, i, rf.Name, rf.Type, rf.Offset, mf.Name, mf.Type, mf.Offset)
		}
	}
	*dst = t
	return nil
}

// checkParamsType checks the DotGeneral parameters' type (see checkMirror).
func checkParamsType(t reflect.Type) error {
	return checkMirror[dotGeneralParams](t, "dotGeneralNodeData", &internals.paramsType)
}

// nodeShape returns node's output shape.
func nodeShape(node *simplego.Node) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(node), internals.shapeOff))
}

// nodeInputs returns node's input nodes.
func nodeInputs(node *simplego.Node) []*simplego.Node {
	return *(*[]*simplego.Node)(unsafe.Add(unsafe.Pointer(node), internals.inputsOff))
}

// nodeOpType returns node's op type.
func nodeOpType(node *simplego.Node) backends.OpType {
	return *(*backends.OpType)(unsafe.Add(unsafe.Pointer(node), internals.opTypeOff))
}

// nodeData returns node's op-specific data.
func nodeData(node *simplego.Node) any {
	return *(*any)(unsafe.Add(unsafe.Pointer(node), internals.dataOff))
}

// mirrorData returns node's data as *M if its dynamic type is want (a type
// verified by checkMirror), else nil.
func mirrorData[M any](node *simplego.Node, want reflect.Type) *M {
	data := nodeData(node)
	if want == nil || reflect.TypeOf(data) != want {
		return nil
	}
	return (*M)(reflect.ValueOf(data).UnsafePointer())
}

// nodeParams returns the DotGeneral parameters of node, or false if its data
// is not a (non-nil) *dotGeneralNodeData.
func nodeParams(node *simplego.Node) (*dotGeneralParams, bool) {
	p := mirrorData[dotGeneralParams](node, internals.paramsType)
	return p, p != nil
}

// nodeGatherParams returns the parameters of a Gather node, or nil.
func nodeGatherParams(node *simplego.Node) *gatherParams {
	return mirrorData[gatherParams](node, internals.gatherType)
}

// nodeSliceParams returns the parameters of a Slice node, or nil.
func nodeSliceParams(node *simplego.Node) *sliceParams {
	return mirrorData[sliceParams](node, internals.sliceType)
}

// nodeScatterParams returns the parameters of a Scatter node, or nil.
func nodeScatterParams(node *simplego.Node) *scatterParams {
	return mirrorData[scatterParams](node, internals.scatterType)
}

// builderNewNode is simplego's (*Builder).newNode (builder.go): it appends a
// single-output node of the given op type and shape to the builder's graph.
// The fused ops of this package (fused.go) are built with it.
//
//go:linkname builderNewNode github.com/gomlx/gomlx/backends/simplego.(*Builder).newNode
func builderNewNode(b *simplego.Builder, opType backends.OpType, shape shapes.Shape, inputs ...*simplego.Node) *simplego.Node

// setNodeData sets node's op-specific data (see nodeData).
func setNodeData(node *simplego.Node, data any) {
	*(*any)(unsafe.Add(unsafe.Pointer(node), internals.dataOff)) = data
}
