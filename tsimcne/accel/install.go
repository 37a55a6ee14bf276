//go:build !noaccel

package accel

import (
	"errors"
	"fmt"
	"log"
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
)

const gomlxModule = "github.com/gomlx/gomlx"

var (
	installOnce sync.Once
	installErr  error
	installed   atomic.Bool
)

// Install replaces, process-wide and for every simplego backend, existing
// or future, the executors of the ops of GoMLX's pure-Go backend ("go",
// simplego) listed in replacedOps: DotGeneral (on this package's GEMM),
// Gather, ScatterSum, Add, Sub, Mul, Div, Max, Min, BroadcastInDim,
// ReduceSum, ReduceMax, Transpose, Where, GreaterThan, Sign and Slice (on
// float32 data; anything else still goes to simplego's own executor), and
// registers the executors of the fused ops of WithFusedOps
// (BatchNormForTraining, BatchNormForInference, BatchNormGradient,
// ReduceWindow, SelectAndScatterMax, and the tile nodes hidden in
// DotGeneral, ScatterSum and Transpose).
//
// It installs nothing, and returns why, unless the program links GoMLX
// exactly SupportedGoMLX, EnvVar does not turn it off, and the self-test
// passes: every replaced executor computes a few small nodes built by
// simplego's own builder, and its results must agree with simplego's
// executor; the simplego fields read through unsafe must hold the values
// the graph was built with. (The fused ops are checked separately, when
// WithFusedOps is first called.) The reason is also logged once (except
// for ErrDisabled). Only the first call does anything; later ones return
// the same result. It is safe to call from several goroutines, but should
// run before graphs execute on simplego (tsimcne/backend calls it when it
// creates a "go" backend). In programs built with the noaccel build tag it
// only returns ErrCompiledOut.
func Install() error {
	installOnce.Do(func() {
		installErr = install()
		if installErr != nil && !errors.Is(installErr, ErrDisabled) {
			log.Printf("tsimcne/accel: fast kernels not installed, GoMLX's own are used: %v", installErr)
		}
	})
	return installErr
}

// Installed reports whether Install has replaced simplego's executors (see
// Install) and the replacements have not since turned themselves off after
// an internal error (then simplego's own executors run every op).
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
	covered, err := selfTest()
	if err != nil {
		return fmt.Errorf("self-test: %w", err)
	}
	if missing := uncovered(covered, replacedOp.plain); len(missing) > 0 {
		return fmt.Errorf("self-test: no case for the replaced executor of %v", missing)
	}
	enabled.Store(true)
	for _, r := range replacedOps {
		setNodeExecutor(r.op, priorityUser, r.registered())
	}
	installed.Store(true)
	return nil
}

// replacedOp is an op type whose executor Install replaces in simplego's
// registry, and what the self-tests check of it.
type replacedOp struct {
	op backends.OpType
	// inputs is the number of inputs of the op's nodes.
	inputs int
	// orig is simplego's own executor: where the nodes try declines go,
	// and the reference of selfTest; nil for the op types simplego cannot
	// execute (the batch norms, SelectAndScatterMax).
	orig nodeExecutor
	// try computes simplego's own nodes of the op with this package's code
	// (see tryFunc); nil when exec is set.
	try tryFunc
	// exec, when set, is registered as it is: the executor of the fused
	// nodes of WithFusedOps's builder, which hands simplego's own nodes of
	// the op type, if any, to orig.
	exec nodeExecutor
	// tiles: WithFusedOps's builder also emits fused tile nodes (tiles.go)
	// of this op type, which the executor runs (withTileOps).
	tiles bool
}

// plain reports whether simplego builds nodes of r's op type itself: then
// selfTest must compare r's computation of one with simplego's.
func (r replacedOp) plain() bool { return r.orig != nil }

// fused reports whether WithFusedOps's builder emits fused nodes of r's op
// type: then selfTestFused must run one.
func (r replacedOp) fused() bool { return r.exec != nil || r.tiles }

// registered returns the executor Install registers for r.
func (r replacedOp) registered() nodeExecutor {
	if r.exec != nil {
		return r.exec
	}
	e := executor(r.op.String(), r.inputs, r.orig, r.try)
	if r.tiles {
		e = withTileOps(e)
	}
	return e
}

// replacedOps lists every executor Install registers; nothing else
// registers any (TestOnlyReplacedOpsAreRegistered). Install refuses unless
// selfTest covers every plain entry, and WithFusedOps offers no fused ops
// unless selfTestFused covers every fused one (see plain and fused;
// TestReplacedOpsAreSelfTested).
var replacedOps = []replacedOp{
	// float32 products go to the GEMM.
	{op: backends.OpTypeDotGeneral, inputs: 2, orig: execDotGeneral, tiles: true,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			return tryDotGeneral(backend, node, inputs[0], inputs[1])
		}},
	{op: backends.OpTypeGather, inputs: 2, orig: execGather,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			return tryGather(backend, node, inputs[0], inputs[1])
		}},
	{op: backends.OpTypeScatterSum, inputs: 3, orig: execScatter, tiles: true,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			if nodeOpType(node) != backends.OpTypeScatterSum { // execScatter also runs ScatterMax/Min
				return nil, false
			}
			return tryScatterSum(backend, node, inputs[0], inputs[1], inputs[2])
		}},
	binaryOp(backends.OpTypeAdd, execAdd),
	binaryOp(backends.OpTypeSub, execSub),
	binaryOp(backends.OpTypeMul, execMul),
	binaryOp(backends.OpTypeDiv, execDiv),
	binaryOp(backends.OpTypeMax, execMax),
	binaryOp(backends.OpTypeMin, execMin),
	{op: backends.OpTypeBroadcastInDim, inputs: 1, orig: execBroadcastInDim,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			return tryBroadcastInDim(backend, node, inputs[0])
		}},
	reduceOp(backends.OpTypeReduceSum),
	reduceOp(backends.OpTypeReduceMax),
	{op: backends.OpTypeTranspose, inputs: 1, orig: execTranspose, tiles: true,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			return tryTranspose(backend, node, inputs[0])
		}},
	{op: backends.OpTypeWhere, inputs: 3, orig: execWhere, try: tryWhere},
	{op: backends.OpTypeGreaterThan, inputs: 2, orig: execGreaterThan, try: tryGreaterThan},
	{op: backends.OpTypeSign, inputs: 1, orig: execSign, try: trySign},
	{op: backends.OpTypeSlice, inputs: 1, orig: execSlice,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			return trySlice(backend, node, inputs[0])
		}},
	// The fused ops of WithFusedOps's builder (fused.go, pool.go).
	{op: backends.OpTypeBatchNormForTraining, exec: execFusedBN},
	{op: backends.OpTypeBatchNormForInference, exec: execFusedBN},
	{op: backends.OpTypeBatchNormGradient, exec: execFusedBN},
	{op: backends.OpTypeReduceWindow, inputs: 1, orig: execReduceWindow, exec: execFusedPool},
	{op: backends.OpTypeSelectAndScatterMax, exec: execFusedPool},
}

// binaryOp is the replacement of a binary element-wise op (Add, Sub, Mul,
// Div, Max or Min) whose simplego executor is orig.
func binaryOp(op backends.OpType, orig nodeExecutor) replacedOp {
	return replacedOp{op: op, inputs: 2, orig: orig,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, bool) {
			return tryBinary(op, backend, node, inputs, inputsOwned)
		}}
}

// reduceOp is the replacement of ReduceSum or ReduceMax (op); simplego's
// execReduce runs every reduction.
func reduceOp(op backends.OpType) replacedOp {
	return replacedOp{op: op, inputs: 1, orig: execReduce,
		try: func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
			if nodeOpType(node) != op {
				return nil, false
			}
			return tryReduce(op, backend, node, inputs[0])
		}}
}

// replacement returns the entry of replacedOps for op.
func replacement(op backends.OpType) (replacedOp, bool) {
	i := slices.IndexFunc(replacedOps, func(r replacedOp) bool { return r.op == op })
	if i < 0 {
		return replacedOp{}, false
	}
	return replacedOps[i], true
}

// opSet is a set of op types (those a self-test covered).
type opSet map[backends.OpType]bool

// uncovered returns the op types of replacedOps for which need is true
// that covered lacks.
func uncovered(covered opSet, need func(replacedOp) bool) []backends.OpType {
	var missing []backends.OpType
	for _, r := range replacedOps {
		if need(r) && !covered[r.op] {
			missing = append(missing, r.op)
		}
	}
	return missing
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
