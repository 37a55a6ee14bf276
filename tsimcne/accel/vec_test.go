//go:build !noaccel

package accel

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
)

// vecTestData returns n values with many ties, signed zeros and a few NaNs
// and infinities: the cases where a vector max can differ from Go's.
func vecTestData(r *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	x := make([]float32, n)
	for i := range x {
		if r.IntN(3) == 0 {
			x[i] = special[r.IntN(len(special))]
		} else {
			x[i] = float32(r.IntN(5) - 2)
		}
	}
	return x
}

// sameBits reports whether a and b are equal bit for bit, except that any
// NaN equals any NaN.
func sameBits(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// withVec runs f with the vector kernels on and off.
func withVec(t *testing.T, f func(t *testing.T)) {
	saved := vecAVX2
	defer func() { vecAVX2 = saved }()
	for _, on := range []bool{false, saved} {
		vecAVX2 = on
		f(t)
	}
}

// TestVecKernels checks the element-wise kernels (AVX2 where the CPU has
// it) against plain Go on data full of ties, signed zeros and NaNs, at
// lengths that are and are not multiples of the vector width.
func TestVecKernels(t *testing.T) {
	if !vecAVX2 {
		t.Log("no AVX2 kernels on this CPU or build: only the Go loops are checked")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 8, 9, 16, 33, 64, 257} {
		x := make([][]float32, 4)
		for i := range x {
			x[i] = vecTestData(r, n)
		}
		g := vecTestData(r, n)
		withVec(t, func(t *testing.T) {
			// addTo and maxTo.
			dst := append([]float32(nil), x[0]...)
			addTo(dst, x[1])
			for i := range dst {
				if want := x[0][i] + x[1][i]; !sameBits(dst[i], want) {
					t.Fatalf("vec=%v n=%d addTo[%d] = %v, want %v", vecAVX2, n, i, dst[i], want)
				}
			}
			dst = append(dst[:0], x[0]...)
			maxTo(dst, x[1])
			for i := range dst {
				if want := max(x[0][i], x[1][i]); !sameBits(dst[i], want) {
					t.Fatalf("vec=%v n=%d maxTo(%v, %v) = %v, want %v", vecAVX2, n, x[0][i], x[1][i], dst[i], want)
				}
			}
			// The 2x2 max-pool and its gradient on [1, 2, 2, n] -> [1, 1, 1, n].
			l := poolLayoutOf([]int{1, 2, 2, n}, []int{1, 2, 2, 1})
			in := make([]float32, 0, 4*n)
			for _, xi := range x {
				in = append(in, xi...)
			}
			out := make([]float32, n)
			l.max(out, in)
			for i := range out {
				if want := max(max(x[0][i], x[1][i]), max(x[2][i], x[3][i])); !sameBits(out[i], want) {
					t.Fatalf("vec=%v n=%d max4[%d] = %v, want %v", vecAVX2, n, i, out[i], want)
				}
			}
			grad := make([]float32, 4*n)
			for i := range grad {
				grad[i] = 99 // must be overwritten
			}
			l.scatter(grad, in, g)
			for i := range n {
				m := max(max(x[0][i], x[1][i]), max(x[2][i], x[3][i]))
				taken := m != m
				for j := range 4 {
					want := float32(0)
					if !taken && x[j][i] == m {
						want, taken = g[i], true
					}
					if got := grad[j*n+i]; !sameBits(got, want) {
						t.Fatalf("vec=%v n=%d scatter4 window %v element %d: got %v, want %v",
							vecAVX2, n, []float32{x[0][i], x[1][i], x[2][i], x[3][i]}, j, got, want)
					}
				}
			}
		})
	}
}

// TestVecBatchNorm checks the vectorised batch-norm passes (rows of a
// multiple of 8 features) against the Go loops.
func TestVecBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dims := range [][2]int{{1, 8}, {5, 24}, {300, 32}, {77, 136}} {
		rows, c := dims[0], dims[1]
		l := bnLayout{outer: rows, c: c, inner: 1}
		x, dy := make([]float32, rows*c), make([]float32, rows*c)
		for i := range x {
			x[i] = float32(r.NormFloat64()*3 + 1)
			dy[i] = float32(r.NormFloat64())
		}
		a, b, k := make([]float32, c), make([]float32, c), make([]float32, c)
		for j := range a {
			a[j], b[j], k[j] = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		type result struct{ mean, variance, affine, sumDy, sumDyXhat, gradIn []float32 }
		run := func(vec bool) result {
			saved := vecAVX2
			defer func() { vecAVX2 = saved }()
			vecAVX2 = vec && saved
			res := result{make([]float32, c), make([]float32, c), make([]float32, rows*c),
				make([]float32, c), make([]float32, c), make([]float32, rows*c)}
			l.stats(x, res.mean, res.variance)
			l.affine(res.affine, x, a, b)
			l.gradSums(x, dy, res.mean, res.variance, 1e-5, res.sumDy, res.sumDyXhat)
			l.gradInput(res.gradIn, dy, x, a, k, b)
			return res
		}
		want, got := run(false), run(true)
		check := func(name string, w, g []float32, tol float64) {
			for i := range w {
				if d := math.Abs(float64(w[i] - g[i])); d > tol*(1+math.Abs(float64(w[i]))) {
					t.Fatalf("rows %d c %d: %s[%d] = %v with the vector kernels, %v without", rows, c, name, i, g[i], w[i])
				}
			}
		}
		check("mean", want.mean, got.mean, 1e-6)
		check("variance", want.variance, got.variance, 1e-6)
		check("affine", want.affine, got.affine, 1e-6)
		check("sum dy", want.sumDy, got.sumDy, 1e-6)
		check("sum dy·xhat", want.sumDyXhat, got.sumDyXhat, 1e-5)
		check("input gradient", want.gradIn, got.gradIn, 1e-5)
	}
}

// TestVecBinary checks the vectorised element-wise ops against Go's
// arithmetic, bit for bit, for both operands vectors and either a scalar.
func TestVecBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ops := map[backends.OpType]func(a, b float32) float32{
		backends.OpTypeAdd: func(a, b float32) float32 { return a + b },
		backends.OpTypeSub: func(a, b float32) float32 { return a - b },
		backends.OpTypeMul: func(a, b float32) float32 { return a * b },
		backends.OpTypeDiv: func(a, b float32) float32 { return a / b },
		backends.OpTypeMax: func(a, b float32) float32 { return max(a, b) },
		backends.OpTypeMin: func(a, b float32) float32 { return min(a, b) },
	}
	for _, n := range []int{3, 8, 21, 64} {
		a, b := vecTestData(r, n), vecTestData(r, n)
		for i := range a {
			a[i] += float32(r.NormFloat64())
		}
		for op, f := range ops {
			for _, st := range [][2]int{{1, 1}, {1, 0}, {0, 1}} {
				dst := make([]float32, n)
				binaryRun(op, dst, a, b, st[0], st[1])
				for i := range dst {
					if want := f(a[i*st[0]], b[i*st[1]]); !sameBits(dst[i], want) {
						t.Fatalf("%s n=%d strides %v: [%d] = %v, want %v", op, n, st, i, dst[i], want)
					}
				}
			}
		}
	}
}

// kron returns k1 ⊗ k2 for [r, c] factors, [r², c²] row-major.
func kron(k1, k2 []float32, r, c int) []float32 {
	m := make([]float32, r*r*c*c)
	for a := range r {
		for b := range r {
			for ci := range c {
				for d := range c {
					m[(a*r+b)*c*c+ci*c+d] = k1[a*c+ci] * k2[b*c+d]
				}
			}
		}
	}
	return m
}

// TestKronPrograms checks that kronFactors finds the factors of Kronecker
// products (and only of those), and that the two row programs apply the
// product.
func TestKronPrograms(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][2]int{{4, 6}, {6, 6}, {2, 4}, {6, 4}} {
		rows, cols := sz[0], sz[1]
		k1, k2 := make([]float32, rows*cols), make([]float32, rows*cols)
		for i := range k1 {
			if r.IntN(3) > 0 {
				k1[i] = float32(r.IntN(9) - 4)
			}
			if r.IntN(3) > 0 {
				k2[i] = float32(r.IntN(9)-4) / 6
			}
		}
		k1[0], k2[0] = 1, 1 // not all zero
		m := kron(k1, k2, rows, cols)
		f1, f2, gr, gc, ok := kronFactors(m, rows*rows, cols*cols)
		if !ok || gr != rows || gc != cols {
			t.Fatalf("%v: kronFactors did not recognise a Kronecker product", sz)
		}
		m2 := kron(f1, f2, rows, cols)
		for i := range m {
			if math.Abs(float64(m[i]-m2[i])) > 1e-6 {
				t.Fatalf("%v: factors give m[%d] = %v, want %v", sz, i, m2[i], m[i])
			}
		}
		// A perturbed matrix is no Kronecker product.
		bad := append([]float32(nil), m...)
		bad[len(bad)/2+1] += 0.5
		if _, _, _, _, ok := kronFactors(bad, rows*rows, cols*cols); ok {
			t.Errorf("%v: kronFactors accepted a matrix that is not a Kronecker product", sz)
		}
		if !vecAVX2 {
			continue
		}
		// The two programs against the dense product, on 72 columns.
		const n = 72
		src := make([]float32, cols*cols*n)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		p1, p2 := kronPrograms(f1, f2, rows, cols)
		tmp := make([]float32, rows*cols*n)
		got := make([]float32, rows*rows*n)
		if !vecRowComb(tmp, n, src, n, n, p1) || !vecRowComb(got, n, tmp, n, n, p2) {
			t.Fatal("vecRowComb declined")
		}
		for i := range rows * rows {
			for j := range n {
				var want float64
				for k := range cols * cols {
					want += float64(m[i*cols*cols+k]) * float64(src[k*n+j])
				}
				if math.Abs(float64(got[i*n+j])-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("%v: row %d column %d = %v, want %v", sz, i, j, got[i*n+j], want)
				}
			}
		}
	}
}

// TestVecWhereGreater checks the select and compare kernels (ReLU's
// gradient, Where(x > 0, g, 0)) against Go on ties, signed zeros, NaNs (a
// NaN compares false; Where copies NaN payloads as they are) and
// infinities, with each operand an array or a broadcast scalar.
func TestVecWhereGreater(t *testing.T) {
	if !vecAVX2 {
		t.Skip("no AVX2: the Go loops do everything")
	}
	r := rand.New(rand.NewPCG(7, 8))
	operand := func(x []float32, scalar bool) ([]float32, func(int) float32) {
		if scalar {
			return x[:1], func(int) float32 { return x[0] }
		}
		return x, func(i int) float32 { return x[i] }
	}
	for _, n := range []int{8, 21, 64, 1000} {
		a, b := vecTestData(r, n), vecTestData(r, n)
		a[0] = float32(math.Float32frombits(0x7fc00123)) // a NaN with a payload
		cond := make([]bool, n)
		for i := range cond {
			cond[i] = r.IntN(2) == 0
		}
		for _, sc := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			x, xAt := operand(a, sc[0])
			y, yAt := operand(b, sc[1])
			dst := make([]float32, n)
			for i := range dst {
				dst[i] = 42 // poison: every element must be written
			}
			k := vecWhere(dst, cond, x, y)
			if k != n&^7 {
				t.Fatalf("vecWhere n=%d did %d elements, want %d", n, k, n&^7)
			}
			for i := range k {
				want := yAt(i)
				if cond[i] {
					want = xAt(i)
				}
				if math.Float32bits(dst[i]) != math.Float32bits(want) {
					t.Fatalf("Where n=%d scalars %v: [%d] = %v (%#x), want %v (%#x)", n, sc, i,
						dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
				}
			}
			if !vecGreaterOK {
				continue
			}
			gt := make([]bool, n)
			if k := vecGreater(gt, x, y); k != n&^7 {
				t.Fatalf("vecGreater n=%d did %d elements, want %d", n, k, n&^7)
			}
			for i := range n &^ 7 {
				if want := xAt(i) > yAt(i); gt[i] != want {
					t.Fatalf("Greater n=%d scalars %v: [%d] %v > %v = %v, want %v", n, sc, i, xAt(i), yAt(i), gt[i], want)
				}
			}
			// The bools are the bytes 0 and 1, as Go's.
			for i, v := range gt {
				if b := *(*uint8)(unsafe.Pointer(&gt[i])); b > 1 {
					t.Fatalf("Greater wrote byte %d for %v at %d", b, v, i)
				}
			}
		}
	}
}
