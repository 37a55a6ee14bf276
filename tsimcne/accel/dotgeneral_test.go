//go:build !noaccel

package accel_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX style.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
	"github.com/gosimcne/gosimcne/tsimcne/nn"
)

func newBackend(t testing.TB) backends.Backend {
	t.Helper()
	if err := accel.Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	config := ""
	if raceEnabled {
		config = "ops_sequential"
	}
	be, err := simplego.New(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Finalize)
	return be
}

func randomTensor(r *rand.Rand, dtype string, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	if dtype == "f64" {
		data := make([]float64, n)
		for i := range data {
			data[i] = r.NormFloat64()
		}
		return tensors.FromFlatDataAndDimensions(data, dims...)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// flat returns a tensor's values as float64.
func flat(t *tensors.Tensor) []float64 {
	var out []float64
	switch t.DType().GoType().Kind().String() {
	case "float64":
		tensors.ConstFlatData(t, func(f []float64) { out = append(out, f...) })
	default:
		tensors.ConstFlatData(t, func(f []float32) {
			for _, x := range f {
				out = append(out, float64(x))
			}
		})
	}
	return out
}

// runBoth executes fn on the inputs with simplego's DotGeneral and with the
// fast one, and checks that every output agrees (relative to its scale).
//
// With wantDot, it also checks that the fast DotGeneral ran exactly when the
// first input is float32.
func runBoth(t *testing.T, be backends.Backend, name string, wantDot bool, fn func(x, y *Node) []*Node, inputs ...any) {
	t.Helper()
	exec := MustNewExec(be, fn)
	prev := accel.SetEnabledForTest(false)
	defer accel.SetEnabledForTest(prev)
	want := exec.MustExec(inputs...)
	accel.SetEnabledForTest(true)
	calls := accel.FastCallsForTest()
	got := exec.MustExec(inputs...)
	isF32 := inputs[0].(*tensors.Tensor).DType() == dtypes.Float32
	if ran := accel.FastCallsForTest() > calls; wantDot && ran != isF32 {
		t.Errorf("%s: fast DotGeneral ran: %v, want %v (float32 inputs)", name, ran, isF32)
	}
	assertOutputsClose(t, name, got, want, 1e-5, 1e-6)
}

// assertOutputsClose compares outputs element by element: |got - want| <=
// rel·scale + abs, scale being the largest finite magnitude of each wanted
// output; NaNs must match.
func assertOutputsClose(t *testing.T, name string, got, want []*tensors.Tensor, rel, abs float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !got[i].Shape().Equal(want[i].Shape()) {
			t.Errorf("%s: output %d shape %s, want %s", name, i, got[i].Shape(), want[i].Shape())
			continue
		}
		g, w := flat(got[i]), flat(want[i])
		scale := 0.0
		for _, x := range w {
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				scale = max(scale, math.Abs(x))
			}
		}
		bad := 0
		for j := range g {
			if math.IsNaN(g[j]) && math.IsNaN(w[j]) || g[j] == w[j] {
				continue
			}
			if d := math.Abs(g[j] - w[j]); !(d <= rel*scale+abs) {
				if bad < 3 {
					t.Errorf("%s: output %d [%d] = %g, want %g", name, i, j, g[j], w[j])
				}
				bad++
			}
		}
	}
}

type dgCase struct {
	name                           string
	lhsDims, lhsContract, lhsBatch []int
	rhsDims, rhsContract, rhsBatch []int
}

var dgCases = []dgCase{
	{"matmul", []int{37, 29}, []int{1}, nil, []int{29, 41}, []int{0}, nil},
	{"lhs-transposed(weight-grad)", []int{300, 20}, []int{0}, nil, []int{300, 45}, []int{0}, nil},
	{"rhs-transposed(input-grad)", []int{300, 20}, []int{1}, nil, []int{45, 20}, []int{1}, nil},
	{"both-transposed", []int{29, 37}, []int{0}, nil, []int{41, 29}, []int{1}, nil},
	{"batch-first", []int{3, 17, 29}, []int{2}, []int{0}, []int{3, 29, 19}, []int{1}, []int{0}},
	{"batch-middle-and-last", []int{17, 3, 29}, []int{2}, []int{1}, []int{29, 19, 3}, []int{0}, []int{2}},
	{"two-batch-axes-swapped", []int{2, 3, 5, 7}, []int{3}, []int{0, 1}, []int{3, 7, 2, 4}, []int{1}, []int{2, 0}},
	{"im2col-forward", []int{200, 9, 5}, []int{1, 2}, nil, []int{9, 5, 16}, []int{0, 1}, nil},
	{"im2col-weight-grad", []int{200, 16}, []int{0}, nil, []int{200, 9, 5}, []int{0}, nil},
	{"im2col-input-grad", []int{200, 16}, []int{1}, nil, []int{9, 5, 16}, []int{2}, nil},
	{"contract-out-of-order", []int{4, 3, 5, 2}, []int{2, 0}, nil, []int{5, 6, 4}, []int{0, 2}, nil},
	{"cross-split-by-contraction", []int{6, 11, 7}, []int{1}, nil, []int{11, 5}, []int{0}, nil},
	{"outer-product", []int{13}, nil, nil, []int{17}, nil, nil},
	{"dot-product", []int{100}, []int{0}, nil, []int{100}, []int{0}, nil},
	{"matrix-vector", []int{33, 100}, []int{1}, nil, []int{100}, []int{0}, nil},
	{"single-row", []int{1, 500}, []int{1}, nil, []int{500, 70}, []int{0}, nil},
	{"chunked-narrow", []int{4, 64, 9, 3}, []int{2, 3}, []int{0}, []int{4, 9, 3, 16}, []int{1, 2}, []int{0}},
	{"split-contraction", []int{8, 512, 16}, []int{1}, []int{0}, []int{8, 512, 27}, []int{1}, []int{0}},
	{"large", []int{700, 300}, []int{1}, nil, []int{300, 130}, []int{0}, nil},
	{"long-contraction", []int{20000, 24}, []int{0}, nil, []int{20000, 30}, []int{0}, nil},
	// Its weight gradient has a contraction of 8192: tsimcne/nn splits it
	// into chunks made a batch axis (splitDotGeneral).
	{"split-gradient", []int{8192, 16}, []int{1}, nil, []int{16, 8}, []int{0}, nil},
}

func TestDotGeneralLayouts(t *testing.T) {
	be := newBackend(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, kernel := range accel.KernelsForTest() {
		accel.UseKernelForTest(kernel)
		for _, tc := range dgCases {
			for _, dtype := range []string{"f32", "f64"} {
				name := fmt.Sprintf("%s/%s/%s", kernel, tc.name, dtype)
				lhs := randomTensor(r, dtype, tc.lhsDims...)
				rhs := randomTensor(r, dtype, tc.rhsDims...)
				runBoth(t, be, name, true, func(x, y *Node) []*Node {
					return []*Node{DotGeneral(x, tc.lhsContract, tc.lhsBatch, y, tc.rhsContract, tc.rhsBatch)}
				}, lhs, rhs)
			}
		}
	}
	accel.UseKernelForTest("")
}

// TestDotGeneralAgainstReference checks one product against a float64
// computation, independent of simplego.
func TestDotGeneralAgainstReference(t *testing.T) {
	be := newBackend(t)
	r := rand.New(rand.NewPCG(8, 9))
	x := randomTensor(r, "f32", 3, 40, 50) // [b, m, k]
	y := randomTensor(r, "f32", 50, 3, 20) // [k, b, n]
	out := MustExecOnce(be, func(x, y *Node) *Node {
		return DotGeneral(x, []int{2}, []int{0}, y, []int{0}, []int{1})
	}, x, y)
	if !out.Shape().Equal(shapes.Make(x.DType(), 3, 40, 20)) {
		t.Fatalf("shape %s", out.Shape())
	}
	xs, ys, got := flat(x), flat(y), flat(out)
	for b := range 3 {
		for i := range 40 {
			for j := range 20 {
				var want, scale float64
				for p := range 50 {
					v := xs[(b*40+i)*50+p] * ys[(p*3+b)*20+j]
					want += v
					scale += math.Abs(v)
				}
				if g := got[(b*40+i)*20+j]; math.Abs(g-want) > 1e-5*scale {
					t.Fatalf("out[%d,%d,%d] = %g, want %g", b, i, j, g, want)
				}
			}
		}
	}
}

// TestGradients runs the products and gradients of tsimcne/nn (its fast
// DotGeneral gradient, the im2col convolution with and without row
// chunking, a dense layer) with both executors.
func TestGradients(t *testing.T) {
	be := newBackend(t)
	r := rand.New(rand.NewPCG(10, 11))
	for _, tc := range dgCases {
		if tc.name == "outer-product" || tc.name == "dot-product" {
			continue
		}
		lhs := randomTensor(r, "f32", tc.lhsDims...)
		rhs := randomTensor(r, "f32", tc.rhsDims...)
		runBoth(t, be, "grad/"+tc.name, true, func(x, y *Node) []*Node {
			out := DotGeneral(x, tc.lhsContract, tc.lhsBatch, y, tc.rhsContract, tc.rhsBatch)
			w := Sin(Iota(x.Graph(), out.Shape(), 0))
			loss := ReduceAllSum(Mul(out, w))
			return Gradient(loss, x, y)
		}, lhs, rhs)
	}
	for _, conv := range []struct {
		batch, size, channels, filters, kernel, stride int
	}{{2, 8, 3, 16, 3, 1}, {4, 8, 16, 32, 3, 2}, {2, 6, 8, 8, 1, 1}, {64, 8, 3, 16, 3, 1}} {
		x := randomTensor(r, "f32", conv.batch, conv.size, conv.size, conv.channels)
		k := randomTensor(r, "f32", conv.kernel, conv.kernel, conv.channels, conv.filters)
		runBoth(t, be, fmt.Sprintf("conv%+v", conv), true, func(x, k *Node) []*Node {
			out := nn.Conv2DWithKernel(x, k, conv.stride, conv.kernel/2)
			loss := ReduceAllSum(Mul(out, Cos(Iota(x.Graph(), out.Shape(), 3))))
			return append([]*Node{out}, Gradient(loss, x, k)...)
		}, x, k)
	}
}
