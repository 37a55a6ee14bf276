//go:build !noaccel

package accel

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// newSimplego returns a simplego backend for the self-test functions,
// configured as checkFusedOps's.
func newSimplego(t testing.TB) *simplego.Backend {
	t.Helper()
	be, err := simplego.New(fusedSelfTestConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return be.(*simplego.Backend)
}

// TestReplacedOpsAreSelfTested checks that every executor Install registers
// is in replacedOps, and that the self-tests run each of them: selfTest
// those that compute simplego's own nodes, selfTestFused those of fused
// nodes.
func TestReplacedOpsAreSelfTested(t *testing.T) {
	if err := Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	seen := opSet{}
	for _, r := range replacedOps {
		if seen[r.op] {
			t.Errorf("%s is twice in replacedOps", r.op)
		}
		seen[r.op] = true
		if !r.plain() && !r.fused() {
			t.Errorf("%s: neither simplego's own nodes nor fused ones: no self-test can cover it", r.op)
		}
		if (r.try == nil) == (r.exec == nil) {
			t.Errorf("%s: exactly one of try and exec must be set", r.op)
		}
		if r.try != nil && (r.orig == nil || r.inputs == 0) {
			t.Errorf("%s: a replacement of simplego's executor needs orig and inputs", r.op)
		}
	}
	covered, err := selfTest()
	if err != nil {
		t.Fatalf("selfTest: %v", err)
	}
	if missing := uncovered(covered, replacedOp.plain); len(missing) > 0 {
		t.Errorf("selfTest has no case for the replaced executors of %v", missing)
	}
	fused, err := selfTestFused(newSimplego(t), fusedSelfTestCases(rand.New(rand.NewPCG(1, 2))))
	if err != nil {
		t.Fatalf("selfTestFused: %v", err)
	}
	if missing := uncovered(fused, replacedOp.fused); len(missing) > 0 {
		t.Errorf("selfTestFused has no case for the fused nodes of %v", missing)
	}
	for op := range fused {
		if r, ok := replacement(op); !ok || !r.fused() {
			t.Errorf("selfTestFused ran a fused %s node, which replacedOps does not list as fused", op)
		}
	}
}

// TestOnlyReplacedOpsAreRegistered checks that the package registers
// executors in one place only: the loop of install over replacedOps (so
// that no executor escapes TestReplacedOpsAreSelfTested).
func TestOnlyReplacedOpsAreRegistered(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var calls []string
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "setNodeExecutor" {
						calls = append(calls, fn.Name.Name+" at "+fset.Position(call.Pos()).String())
					}
				}
				return true
			})
		}
	}
	if len(calls) != 1 || !strings.HasPrefix(calls[0], "install at ") {
		t.Errorf("setNodeExecutor is called in %v, want once, in install (over replacedOps)", calls)
	}
}

// TestSelfTestFusedDetectsFailures checks that the fused self-test fails
// when a fused op computes something else than its reference, and that its
// coverage shows fused nodes that are no longer built.
func TestSelfTestFusedDetectsFailures(t *testing.T) {
	if err := Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	backend := newSimplego(t)
	cases := fusedSelfTestCases(rand.New(rand.NewPCG(1, 2)))
	i := slices.IndexFunc(cases, func(c fusedCase) bool { return strings.HasPrefix(c.name, "max pool") })
	wrong := cases[i]
	ref := wrong.ref
	wrong.ref = func(b backends.Builder, p []backends.Op) ([]backends.Op, error) {
		outs, err := ref(b, p)
		if err != nil {
			return nil, err
		}
		ch := &chain{}
		outs[1] = ch.op(b.Mul(outs[1], ch.constant(b, []float32{1.001})))
		return outs, ch.err
	}
	if _, err := selfTestFused(backend, []fusedCase{wrong}); err == nil ||
		!strings.Contains(err.Error(), "max pool") || !strings.Contains(err.Error(), "output #1") {
		t.Errorf("fused self-test against a wrong reference: err = %v, want a mismatch of the max pool's output #1", err)
	}

	prev := fuseTiles.Swap(false)
	defer fuseTiles.Store(prev)
	covered, err := selfTestFused(backend, cases)
	if err != nil {
		t.Fatalf("fused self-test without tile fusion: %v", err)
	}
	want := []backends.OpType{backends.OpTypeDotGeneral, backends.OpTypeScatterSum, backends.OpTypeTranspose}
	if missing := uncovered(covered, replacedOp.fused); !slices.Equal(missing, want) {
		t.Errorf("fused self-test without tile fusion covers all but %v, want all but %v", missing, want)
	}
}

// TestSelfTestCost reports (with -v) how long the self-tests take: they run
// in every process that creates a "go" backend.
func TestSelfTestCost(t *testing.T) {
	if err := Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	const runs = 5
	var plain, fused time.Duration
	for range runs {
		start := time.Now()
		if _, err := selfTest(); err != nil {
			t.Fatal(err)
		}
		plain += time.Since(start)
		start = time.Now()
		if err := checkFusedOps(); err != nil {
			t.Fatal(err)
		}
		fused += time.Since(start)
	}
	t.Logf("self-test %v, fused ops' self-test %v (mean of %d runs)", plain/runs, fused/runs, runs)
}
