package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// testBackend returns the project's default backend (pure Go unless
// GOMLX_BACKEND says otherwise).
func testBackend(t testing.TB) backends.Backend {
	t.Helper()
	b, err := backend.Default()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

func randSlice(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

func flat32(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	return tensors.MustCopyFlatData[float32](x)
}

// assertClose fails if |got-want| > atol + rtol*|want| anywhere.
func assertClose(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	worst, worstIdx := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		excess := d - (atol + rtol*math.Abs(float64(want[i])))
		if excess > worst || math.IsNaN(float64(got[i])) {
			worst, worstIdx = excess, i
			if math.IsNaN(float64(got[i])) {
				break
			}
		}
	}
	if worstIdx >= 0 {
		t.Fatalf("%s: value %d = %g, want %g (atol %g, rtol %g)", what, worstIdx, got[worstIdx], want[worstIdx], atol, rtol)
	}
}

// refConv is a plain-Go NHWC convolution (cross-correlation) with symmetric
// zero padding, and the gradients of sum(out*r) with respect to x and w.
func refConv(x []float32, b, h, w, c int, k []float32, ks, f, stride, pad int, r []float32) (out, dx, dk []float32, oh, ow int) {
	oh = (h+2*pad-ks)/stride + 1
	ow = (w+2*pad-ks)/stride + 1
	out = make([]float32, b*oh*ow*f)
	dx = make([]float32, len(x))
	dk = make([]float32, len(k))
	for bi := range b {
		for oy := range oh {
			for ox := range ow {
				for fi := range f {
					var acc float64
					oIdx := ((bi*oh+oy)*ow+ox)*f + fi
					for ky := range ks {
						for kx := range ks {
							iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for ci := range c {
								xIdx := ((bi*h+iy)*w+ix)*c + ci
								kIdx := ((ky*ks+kx)*c+ci)*f + fi
								acc += float64(x[xIdx]) * float64(k[kIdx])
								if r != nil {
									dx[xIdx] += r[oIdx] * k[kIdx]
									dk[kIdx] += r[oIdx] * x[xIdx]
								}
							}
						}
					}
					out[oIdx] = float32(acc)
				}
			}
		}
	}
	return
}

func TestConv2DWithKernelMatchesReference(t *testing.T) {
	be := testBackend(t)
	cases := []struct{ b, h, w, c, k, f, stride, pad int }{
		{2, 5, 6, 3, 3, 4, 1, 1},
		{2, 6, 6, 3, 3, 5, 2, 1},
		{2, 7, 5, 4, 3, 2, 2, 1}, // odd sizes at stride 2
		{1, 6, 6, 3, 1, 4, 2, 0}, // 1x1 stride-2 shortcut
		{2, 4, 3, 5, 1, 3, 1, 0}, // pointwise
		{1, 7, 7, 2, 5, 3, 2, 2},
		{1, 5, 5, 2, 3, 2, 1, 0}, // "valid"
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			convs := []namedConv{{"", func(x, k *Node) *Node { return Conv2DWithKernel(x, k, tc.stride, tc.pad) }}}
			if tc.stride == 1 {
				// The shifted-slices formulation used in the benchmarks computes the same.
				convs = append(convs, namedConv{"shifted ", func(x, k *Node) *Node { return conv2DShifted(x, k, tc.pad) }})
			}
			checkConvs(t, be, convShape{b: tc.b, h: tc.h, c: tc.c, f: tc.f, k: tc.k, stride: tc.stride, pd: tc.pad},
				tc.w, uint64(tc.k*100+tc.stride), 1e-5, convs...)
		})
	}
}

// namedConv is a convolution formulation under test.
type namedConv struct {
	name string
	conv func(x, kernel *Node) *Node
}

// checkConvs runs each convolution on random input (s.b x s.h x width x s.c,
// kernel s.k x s.k x s.c x s.f) and compares its output and its gradients
// with respect to input and kernel (of sum(out * r), r random) with refConv.
func checkConvs(t *testing.T, be backends.Backend, s convShape, width int, seed uint64, tol float64, convs ...namedConv) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, seed))
	x := randSlice(rng, s.b*s.h*width*s.c)
	k := randSlice(rng, s.k*s.k*s.c*s.f)
	wantOut, _, _, oh, ow := refConv(x, s.b, s.h, width, s.c, k, s.k, s.f, s.stride, s.pd, nil)
	r := randSlice(rng, s.b*oh*ow*s.f)
	_, wantDx, wantDk, _, _ := refConv(x, s.b, s.h, width, s.c, k, s.k, s.f, s.stride, s.pd, r)
	for _, c := range convs {
		res := MustNewExec(be, func(x, k, r *Node) []*Node {
			out := c.conv(x, k)
			return append([]*Node{out}, Gradient(ReduceAllSum(Mul(out, r)), x, k)...)
		}).MustExec(
			tensors.FromFlatDataAndDimensions(x, s.b, s.h, width, s.c),
			tensors.FromFlatDataAndDimensions(k, s.k, s.k, s.c, s.f),
			tensors.FromFlatDataAndDimensions(r, s.b, oh, ow, s.f))
		if got := res[0].Shape().Dimensions; got[0] != s.b || got[1] != oh || got[2] != ow || got[3] != s.f {
			t.Fatalf("%soutput shape %v, want [%d %d %d %d]", c.name, got, s.b, oh, ow, s.f)
		}
		assertClose(t, c.name+"output", flat32(t, res[0]), wantOut, tol, tol)
		assertClose(t, c.name+"d/dx", flat32(t, res[1]), wantDx, tol, tol)
		assertClose(t, c.name+"d/dkernel", flat32(t, res[2]), wantDk, tol, tol)
	}
}

// TestFastDotGeneralGradientMatchesBuiltin compares the registered DotGeneral
// and Dot gradients with GoMLX's built-in ones on a variety of axis layouts.
func TestFastDotGeneralGradientMatchesBuiltin(t *testing.T) {
	be := testBackend(t)
	type spec struct {
		lhsDims, rhsDims                             []int
		lhsContract, lhsBatch, rhsContract, rhsBatch []int
	}
	cases := []spec{
		{[]int{4, 5}, []int{5, 3}, []int{1}, nil, []int{0}, nil},                             // plain matmul
		{[]int{5, 4}, []int{3, 5}, []int{0}, nil, []int{1}, nil},                             // both transposed
		{[]int{2, 3, 4, 6}, []int{4, 6, 5}, []int{2, 3}, nil, []int{0, 1}, nil},              // conv-like: two contracting axes
		{[]int{2, 3, 4, 6}, []int{6, 4, 5}, []int{3, 2}, nil, []int{0, 1}, nil},              // contracting axes in swapped order
		{[]int{3, 4, 5}, []int{3, 5, 2}, []int{2}, []int{0}, []int{1}, []int{0}},             // batched matmul
		{[]int{4, 3, 5}, []int{5, 2, 3}, []int{2}, []int{1}, []int{0}, []int{2}},             // batch axes in the middle/end
		{[]int{2, 4, 3, 5}, []int{3, 5, 2, 6}, []int{3, 2}, []int{0}, []int{1, 0}, []int{2}}, // mixed
		{[]int{4}, []int{3}, nil, nil, nil, nil},                                             // outer product
		{[]int{4}, []int{4}, []int{0}, nil, []int{0}, nil},                                   // inner product (scalar out)
		{[]int{2, 4}, []int{2, 4}, []int{1}, []int{0}, []int{1}, []int{0}},                   // batched dot
	}
	for i, sp := range cases {
		t.Run(fmt.Sprintf("case%d", i), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(i)))
			size := func(d []int) int {
				n := 1
				for _, v := range d {
					n *= v
				}
				return n
			}
			lhs := tensors.FromFlatDataAndDimensions(randSlice(rng, size(sp.lhsDims)), sp.lhsDims...)
			rhs := tensors.FromFlatDataAndDimensions(randSlice(rng, size(sp.rhsDims)), sp.rhsDims...)
			run := func() []*tensors.Tensor {
				exec := MustNewExec(be, func(lhs, rhs *Node) []*Node {
					out := DotGeneral(lhs, sp.lhsContract, sp.lhsBatch, rhs, sp.rhsContract, sp.rhsBatch)
					// Weight the output by a fixed pattern so every output element gets a distinct adjoint.
					weights := AddScalar(MulScalar(IotaFull(out.Graph(), out.Shape()), 0.1), 0.3)
					loss := ReduceAllSum(Mul(Square(out), weights))
					return Gradient(loss, lhs, rhs)
				})
				return exec.MustExec(lhs, rhs)
			}
			RestoreBuiltinGradients()
			want := run()
			RegisterFastGradients()
			got := run()
			assertClose(t, "d/dlhs", flat32(t, got[0]), flat32(t, want[0]), 1e-4, 1e-4)
			assertClose(t, "d/drhs", flat32(t, got[1]), flat32(t, want[1]), 1e-4, 1e-4)
		})
	}

	// graph.Dot (NodeTypeDot) for matrix.matrix and matrix.vector.
	for _, dims := range [][2][]int{{{4, 5}, {5, 3}}, {{4, 5}, {5}}} {
		t.Run(fmt.Sprintf("Dot%v", dims), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(len(dims[1]))))
			lhs := tensors.FromFlatDataAndDimensions(randSlice(rng, 20), dims[0]...)
			n := 1
			for _, v := range dims[1] {
				n *= v
			}
			rhs := tensors.FromFlatDataAndDimensions(randSlice(rng, n), dims[1]...)
			run := func() []*tensors.Tensor {
				return MustNewExec(be, func(lhs, rhs *Node) []*Node {
					out := Dot(lhs, rhs)
					weights := AddScalar(MulScalar(IotaFull(out.Graph(), out.Shape()), 0.1), 0.3)
					return Gradient(ReduceAllSum(Mul(Square(out), weights)), lhs, rhs)
				}).MustExec(lhs, rhs)
			}
			RestoreBuiltinGradients()
			want := run()
			RegisterFastGradients()
			got := run()
			assertClose(t, "d/dlhs", flat32(t, got[0]), flat32(t, want[0]), 1e-4, 1e-4)
			assertClose(t, "d/drhs", flat32(t, got[1]), flat32(t, want[1]), 1e-4, 1e-4)
		})
	}
}

// TestFastGradientsRegistered checks that importing the package installs
// the fast DotGeneral gradient (no [M,K,N] intermediate).
func TestFastGradientsRegistered(t *testing.T) {
	RegisterFastGradients()
	g := NewGraph(testBackend(t), "probe")
	lhs := Parameter(g, "lhs", shapeF32(64, 32))
	rhs := Parameter(g, "rhs", shapeF32(32, 16))
	loss := ReduceAllSum(DotGeneral(lhs, []int{1}, nil, rhs, []int{0}, nil))
	_ = Gradient(loss, lhs, rhs)
	// The built-in VJP creates a node of 64*32*16 elements; ours never exceeds the inputs' sizes.
	for _, n := range g.Nodes() {
		if n.Shape().Size() > 64*32 {
			t.Fatalf("gradient graph has node %s of shape %s: fast DotGeneral VJP not in use", n.Type(), n.Shape())
		}
	}
}

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

// TestSplitDotGeneral checks that a long contraction with a small output is
// split (a ReduceSum of a batched product) and gives the plain product.
func TestSplitDotGeneral(t *testing.T) {
	be := testBackend(t)
	forceSlowProducts = true
	defer func() { forceSlowProducts = false }()
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 8192
	a := tensors.FromFlatDataAndDimensions(randSlice(rng, n*5), n, 5)
	b := tensors.FromFlatDataAndDimensions(randSlice(rng, n*3), n, 3)
	var splitType NodeType
	res := MustNewExec(be, func(a, b *Node) []*Node {
		split := splitDotGeneral(a, []int{0}, nil, b, []int{0}, nil)
		splitType = split.Type()
		return []*Node{split, DotGeneral(a, []int{0}, nil, b, []int{0}, nil)}
	}).MustExec(a, b)
	if splitType != NodeTypeReduceSum {
		t.Errorf("splitDotGeneral built a %s node, want a ReduceSum of chunk products", splitType)
	}
	assertClose(t, "split product", flat32(t, res[0]), flat32(t, res[1]), 1e-3, 1e-4)
}

// TestSliceGradient checks the Concatenate-based gradient of Slice (the
// built-in one needs Pad, missing on the pure-Go backend).
func TestSliceGradient(t *testing.T) {
	be := testBackend(t)
	const d0, d1, d2 = 3, 5, 4
	x := make([]float32, d0*d1*d2)
	for i := range x {
		x[i] = float32(i)
	}
	res := MustNewExec(be, func(x *Node) []*Node {
		s := Slice(x, AxisRange(1, 3), AxisRange(), AxisRange(0, 3))
		w := AddScalar(IotaFull(s.Graph(), s.Shape()), 1)
		return []*Node{s, Gradient(ReduceAllSum(Mul(s, w)), x)[0]}
	}).MustExec(tensors.FromFlatDataAndDimensions(x, d0, d1, d2))
	want := make([]float32, d0*d1*d2)
	wantSlice := []float32{}
	k := float32(1)
	for i := 1; i < 3; i++ {
		for j := range d1 {
			for l := range 3 {
				idx := (i*d1+j)*d2 + l
				wantSlice = append(wantSlice, x[idx])
				want[idx] = k
				k++
			}
		}
	}
	assertClose(t, "slice", flat32(t, res[0]), wantSlice, 0, 0)
	assertClose(t, "slice gradient", flat32(t, res[1]), want, 0, 0)
}

func TestNarrowChunks(t *testing.T) {
	for _, tc := range []struct{ m, k, f, want int }{
		{32768, 27, 32, 64},   // cnn4's first layer: 4.7x padding waste.
		{32768, 144, 16, 128}, // resnet18-quarter layer 1.
		{32768, 576, 64, 1},   // resnet18 layer 1: no waste.
		{32768, 288, 32, 1},   // 2.2x waste: the blocked path stays faster.
		{60, 27, 4, 2},
		{9, 27, 4, 1},         // too few rows
		{32768 + 8, 27, 4, 1}, // no power of two dividing m gives small chunks
	} {
		if got := narrowChunks(tc.m, tc.k, tc.f); got != tc.want {
			t.Errorf("narrowChunks(%d, %d, %d) = %d, want %d", tc.m, tc.k, tc.f, got, tc.want)
		}
	}
}

// TestNativeConvMatchesIm2col checks that the native path (used on XLA)
// computes the same convolution as im2col; the pure-Go backend runs the
// native convolution's forward pass (not its gradient).
func TestNativeConvMatchesIm2col(t *testing.T) {
	backend := testBackend(t)
	defer func() { Convolutions = ConvAuto }()
	for _, tc := range []struct{ k, stride, pad int }{{3, 1, 1}, {3, 2, 1}, {1, 2, 0}, {1, 1, 0}} {
		run := func(mode ConvMode) []float32 {
			Convolutions = mode
			e := MustNewExec(backend, func(x, w *Node) *Node { return Conv2DWithKernel(x, w, tc.stride, tc.pad) })
			x := tensors.FromFlatDataAndDimensions(seq(2*6*6*3), 2, 6, 6, 3)
			w := tensors.FromFlatDataAndDimensions(seq(tc.k*tc.k*3*4), tc.k, tc.k, 3, 4)
			out := e.MustExec(x, w)[0]
			return append([]float32{float32(out.Shape().Dimensions[1]), float32(out.Shape().Dimensions[2])},
				tensors.MustCopyFlatData[float32](out)...)
		}
		native, im2col := run(ConvNative), run(ConvIm2col)
		if len(native) != len(im2col) {
			t.Fatalf("k=%d stride=%d pad=%d: native gives %d values, im2col %d", tc.k, tc.stride, tc.pad, len(native), len(im2col))
		}
		for i := range native {
			if d := native[i] - im2col[i]; d > 1e-3 || d < -1e-3 {
				t.Errorf("k=%d stride=%d pad=%d: native %v, im2col %v", tc.k, tc.stride, tc.pad, native, im2col)
				break
			}
		}
	}
}

func seq(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i%7)*0.25 - 0.5
	}
	return s
}

// TestNoSplitOnFastKernels checks that with tsimcne/accel's GEMM (installed
// by tsimcne/backend) products are not split: splitting only works around
// the pure-Go backend's own product and costs memory.
func TestNoSplitOnFastKernels(t *testing.T) {
	be := testBackend(t)
	if !accel.Installed() {
		t.Skip("tsimcne/accel is not installed on this machine")
	}
	a := tensors.FromFlatDataAndDimensions(make([]float32, 8192*5), 8192, 5)
	b := tensors.FromFlatDataAndDimensions(make([]float32, 8192*3), 8192, 3)
	var splitType NodeType
	MustNewExec(be, func(a, b *Node) *Node {
		split := splitDotGeneral(a, []int{0}, nil, b, []int{0}, nil)
		splitType = split.Type()
		return split
	}).MustExec(a, b)
	if splitType != NodeTypeDotGeneral {
		t.Errorf("splitDotGeneral built a %s node with the fast kernels installed, want a plain DotGeneral", splitType)
	}
}

func TestWinogradMatchesReference(t *testing.T) {
	be := testBackend(t)
	defer func() { Convolutions = ConvAuto }()
	cases := []struct{ b, h, w, c, f int }{
		{2, 4, 4, 3, 4},
		{2, 8, 8, 5, 6},
		{1, 8, 4, 3, 2},
		{3, 12, 8, 7, 9},
	}
	for _, mode := range []ConvMode{ConvWinograd2, ConvWinograd4} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("mode%d/%+v", mode, tc), func(t *testing.T) {
				Convolutions = mode
				checkConvs(t, be, convShape{b: tc.b, h: tc.h, c: tc.c, f: tc.f, k: 3, stride: 1, pd: 1}, tc.w, uint64(tc.c), 1e-4,
					namedConv{"", func(x, k *Node) *Node { return Conv2DWithKernel(x, k, 1, 1) }})
			})
		}
	}
}

// TestWinogradAccuracy bounds the rounding error of the Winograd
// formulations on a deep contraction (256 channels x 9 taps), against the
// float64 reference: measured relative RMS errors 3e-7 (im2col), 5e-7
// (F(2x2,3x3)) and 3.6e-6 (F(4x4,3x3), whose transforms have entries up to
// 8 and 1/24).
func TestWinogradAccuracy(t *testing.T) {
	be := testBackend(t)
	defer func() { Convolutions = ConvAuto }()
	const b, h, c, f = 2, 8, 256, 64
	rng := rand.New(rand.NewPCG(3, 4))
	x := randSlice(rng, b*h*h*c)
	k := randSlice(rng, 9*c*f)
	want, _, _, _, _ := refConv(x, b, h, h, c, k, 3, f, 1, 1, nil)
	for _, tc := range []struct {
		mode  ConvMode
		bound float64
	}{{ConvIm2col, 1e-6}, {ConvWinograd2, 2e-6}, {ConvWinograd4, 1e-5}} {
		Convolutions = tc.mode
		res := MustNewExec(be, func(x, k *Node) *Node { return Conv2DWithKernel(x, k, 1, 1) }).MustExec(
			tensors.FromFlatDataAndDimensions(x, b, h, h, c),
			tensors.FromFlatDataAndDimensions(k, 3, 3, c, f))
		got := flat32(t, res[0])
		var errSq, sumSq float64
		for i := range got {
			d := float64(got[i]) - float64(want[i])
			errSq += d * d
			sumSq += float64(want[i]) * float64(want[i])
		}
		if rel := math.Sqrt(errSq / sumSq); rel > tc.bound || math.IsNaN(rel) {
			t.Errorf("mode %d: relative RMS error %.2e, want <= %.0e", tc.mode, rel, tc.bound)
		}
	}
}

func TestWinogradChoice(t *testing.T) {
	be := testBackend(t)
	if be.String() != "go" || !accel.Installed() {
		t.Skipf("ConvAuto uses Winograd only on the pure-Go backend with tsimcne/accel (backend %s)", be.String())
	}
	g := NewGraph(be, "choice")
	defer func() { Convolutions = ConvAuto }()
	for _, tc := range []struct {
		mode                    ConvMode
		h, w, c, k, stride, pad int
		want                    int // output tile size, 0 for im2col
	}{
		{ConvAuto, 32, 32, 64, 3, 1, 1, 4},
		{ConvAuto, 4, 4, 512, 3, 1, 1, 4},
		{ConvAuto, 6, 10, 64, 3, 1, 1, 2},
		{ConvAuto, 5, 5, 64, 3, 1, 1, 0},
		{ConvAuto, 32, 32, 3, 3, 1, 1, 0},  // RGB input: too few channels
		{ConvAuto, 32, 32, 64, 3, 2, 1, 0}, // stride 2
		{ConvAuto, 32, 32, 64, 1, 1, 0, 0},
		{ConvAuto, 32, 32, 64, 3, 1, 0, 0}, // "valid"
		{ConvIm2col, 32, 32, 64, 3, 1, 1, 0},
		{ConvWinograd2, 32, 32, 3, 3, 1, 1, 2},
		{ConvWinograd4, 6, 6, 64, 3, 1, 1, 0},
	} {
		Convolutions = tc.mode
		got := 0
		if w := winogradFor(g, tc.h, tc.w, tc.c, tc.k, tc.stride, tc.pad); w != nil {
			got = w.m
		}
		if got != tc.want {
			t.Errorf("%+v: tile %d, want %d", tc, got, tc.want)
		}
	}
}

// TestWhereGradient compares the registered Where gradient with GoMLX's
// built-in one (full-size and scalar operands) and checks that it builds
// no tensor of zeros.
func TestWhereGradient(t *testing.T) {
	be := testBackend(t)
	defer RegisterFastGradients()
	rng := rand.New(rand.NewPCG(7, 8))
	x := tensors.FromFlatDataAndDimensions(randSlice(rng, 12), 3, 4)
	a := tensors.FromFlatDataAndDimensions(randSlice(rng, 12), 3, 4)
	r := tensors.FromFlatDataAndDimensions(randSlice(rng, 12), 3, 4)
	s := tensors.FromScalar(float32(0.7))
	for _, which := range []string{"full,full", "full,scalar", "scalar,full"} {
		run := func(fast bool) (grads []*tensors.Tensor, broadcasts int) {
			if fast {
				RegisterFastGradients()
			} else {
				RestoreBuiltinGradients()
			}
			var g *Graph
			grads = MustNewExec(be, func(x, a, s, r *Node) []*Node {
				g = x.Graph()
				onTrue, onFalse := Mul(a, a), MulScalar(s, 3)
				if which == "scalar,full" {
					onTrue, onFalse = onFalse, onTrue
				} else if which == "full,full" {
					onFalse = Mul(a, x)
				}
				loss := ReduceAllSum(Mul(Where(GreaterThan(x, ScalarZero(g, x.DType())), onTrue, onFalse), r))
				return Gradient(loss, a, s)
			}).MustExec(x, a, s, r)
			for _, n := range g.Nodes() {
				if n.Type() == NodeTypeBroadcastInDim && n.Shape().Size() == 12 && n.Inputs()[0].Shape().IsScalar() {
					broadcasts++
				}
			}
			return grads, broadcasts
		}
		want, builtinBroadcasts := run(false)
		got, fastBroadcasts := run(true)
		for i, name := range []string{"d/da", "d/ds"} {
			assertClose(t, which+" "+name, flat32(t, got[i]), flat32(t, want[i]), 1e-6, 1e-6)
		}
		if fastBroadcasts != 0 || builtinBroadcasts == 0 {
			t.Errorf("%s: %d scalar broadcasts to the output's size with the fast gradient (want 0), %d with the built-in one (want some)",
				which, fastBroadcasts, builtinBroadcasts)
		}
	}
}
