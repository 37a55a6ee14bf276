//go:build amd64 && !purego

package accel

import (
	"github.com/gomlx/gomlx/backends"
	"golang.org/x/sys/cpu"
)

// AVX2 versions of the element-wise passes that the Go compiler, which
// does not vectorise, leaves compute-bound (vec_amd64.s): each handles a
// multiple of 8 elements and returns how many, the Go loops of vec.go do
// the rest (and everything on CPUs without AVX2).

//go:noescape
func addToAVX2(dst, src *float32, n int)

//go:noescape
func maxToAVX2(dst, src *float32, n int)

//go:noescape
func max4AVX2(dst, x0, x1, x2, x3 *float32, n int)

//go:noescape
func scatter4AVX2(d0, d1, d2, d3, x0, x1, x2, x3, grad *float32, n int)

// vecAVX2 reports whether the AVX2 element-wise kernels run (tests turn it
// off to check the Go loops).
var vecAVX2 = cpu.X86.HasAVX2

func vecAddTo(dst, src []float32) int {
	n := len(src) &^ 7
	if !vecAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	addToAVX2(&dst[0], &src[0], n)
	return n
}

func vecMaxTo(dst, src []float32) int {
	n := len(src) &^ 7
	if !vecAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	maxToAVX2(&dst[0], &src[0], n)
	return n
}

func vecMax4(dst, x0, x1, x2, x3 []float32) int {
	n := len(dst) &^ 7
	if !vecAVX2 || n == 0 {
		return 0
	}
	_, _, _, _ = x0[n-1], x1[n-1], x2[n-1], x3[n-1]
	max4AVX2(&dst[0], &x0[0], &x1[0], &x2[0], &x3[0], n)
	return n
}

func vecScatter4(d0, d1, d2, d3, x0, x1, x2, x3, g []float32) int {
	n := len(g) &^ 7
	if !vecAVX2 || n == 0 {
		return 0
	}
	_, _, _, _ = d0[n-1], d1[n-1], d2[n-1], d3[n-1]
	_, _, _, _ = x0[n-1], x1[n-1], x2[n-1], x3[n-1]
	scatter4AVX2(&d0[0], &d1[0], &d2[0], &d3[0], &x0[0], &x1[0], &x2[0], &x3[0], &g[0], n)
	return n
}

//go:noescape
func bnSumsAVX2(x *float32, rows, ld int, s, q *float64, c int)

//go:noescape
func bnGradSumsAVX2(x, dy *float32, rows, ld int, mean *float32, s, q *float64, c int)

//go:noescape
func bnAffineAVX2(dst, x *float32, rows, c int, a, b *float32)

//go:noescape
func bnGradInputAVX2(dst, dy, x *float32, rows, c int, a, k1, k0 *float32)

// vecBN reports whether the batch-norm kernels for rows of c features run
// vectorised: AVX2 and c a multiple of 8.
func vecBN(c int) bool { return vecAVX2 && c > 0 && c%8 == 0 }

// vecBNSums adds the float64 sums of x and x² over rows rows of c features
// (row stride c) to s and q.
func vecBNSums(x []float32, rows, c int, s, q []float64) {
	_, _, _ = x[rows*c-1], s[c-1], q[c-1]
	bnSumsAVX2(&x[0], rows, c, &s[0], &q[0], c)
}

// vecBNGradSums adds the float64 sums of dy and dy·(x-mean) to s and q.
func vecBNGradSums(x, dy []float32, rows, c int, mean []float32, s, q []float64) {
	_, _, _, _, _ = x[rows*c-1], dy[rows*c-1], mean[c-1], s[c-1], q[c-1]
	bnGradSumsAVX2(&x[0], &dy[0], rows, c, &mean[0], &s[0], &q[0], c)
}

// vecBNAffine sets dst = x·a + b over rows rows of c features.
func vecBNAffine(dst, x []float32, rows, c int, a, b []float32) {
	_, _, _, _ = dst[rows*c-1], x[rows*c-1], a[c-1], b[c-1]
	bnAffineAVX2(&dst[0], &x[0], rows, c, &a[0], &b[0])
}

// vecBNGradInput sets dst = dy·a + x·k1 + k0 over rows rows of c features.
func vecBNGradInput(dst, dy, x []float32, rows, c int, a, k1, k0 []float32) {
	_, _, _, _, _, _ = dst[rows*c-1], dy[rows*c-1], x[rows*c-1], a[c-1], k1[c-1], k0[c-1]
	bnGradInputAVX2(&dst[0], &dy[0], &x[0], rows, c, &a[0], &k1[0], &k0[0])
}

//go:noescape
func rowCombAVX2(dst *float32, ldDst int, src *float32, ldSrc int, n int, prog *int32, rows int)

// vecRowComb computes dst[p*ldDst + j] = Σ_q m[p,q]·src[q*ldSrc + j] for
// j < n and the rows of prog (rowProgram of m), if the AVX2 kernel can
// (n a multiple of 8); it reports whether it did.
func vecRowComb(dst []float32, ldDst int, src []float32, ldSrc, n int, prog rowProgram) bool {
	if !vecAVX2 || n%8 != 0 || n == 0 || prog.rows == 0 {
		return false
	}
	_ = dst[(prog.rows-1)*ldDst+n-1]
	_ = src[(prog.cols-1)*ldSrc+n-1]
	rowCombAVX2(&dst[0], ldDst, &src[0], ldSrc, n, &prog.code[0], prog.rows)
	return true
}

//go:noescape
func gatherRowsAVX2(dst, src *float32, idx *int32, n, rowSize int)

// vecGatherRows sets dst[i*rowSize:][:rowSize] = src[idx[i]*rowSize:][:rowSize]
// for every i, if the AVX2 kernel can (rowSize a multiple of 8; the caller
// has checked that the indices are in range); it reports whether it did.
func vecGatherRows(dst, src []float32, idx []int32, rowSize int) bool {
	if !vecAVX2 || rowSize%8 != 0 || rowSize == 0 || len(idx) == 0 {
		return false
	}
	_ = dst[len(idx)*rowSize-1]
	gatherRowsAVX2(&dst[0], &src[0], &idx[0], len(idx), rowSize)
	return true
}

// Element-wise binary kernels (vec_amd64.s), per op and operand pattern.

//go:noescape
func binAddVVAVX2(dst, a, b *float32, n int)

//go:noescape
func binAddVSAVX2(dst, a, b *float32, n int)

//go:noescape
func binAddSVAVX2(dst, a, b *float32, n int)

//go:noescape
func binSubVVAVX2(dst, a, b *float32, n int)

//go:noescape
func binSubVSAVX2(dst, a, b *float32, n int)

//go:noescape
func binSubSVAVX2(dst, a, b *float32, n int)

//go:noescape
func binMulVVAVX2(dst, a, b *float32, n int)

//go:noescape
func binMulVSAVX2(dst, a, b *float32, n int)

//go:noescape
func binMulSVAVX2(dst, a, b *float32, n int)

//go:noescape
func binDivVVAVX2(dst, a, b *float32, n int)

//go:noescape
func binDivVSAVX2(dst, a, b *float32, n int)

//go:noescape
func binDivSVAVX2(dst, a, b *float32, n int)

//go:noescape
func binMaxVVAVX2(dst, a, b *float32, n int)

//go:noescape
func binMaxVSAVX2(dst, a, b *float32, n int)

//go:noescape
func binMaxSVAVX2(dst, a, b *float32, n int)

//go:noescape
func binMinVVAVX2(dst, a, b *float32, n int)

//go:noescape
func binMinVSAVX2(dst, a, b *float32, n int)

//go:noescape
func binMinSVAVX2(dst, a, b *float32, n int)

// binKernels[op][mode] are the kernels above; mode 0: both vectors, 1: b a
// scalar, 2: a a scalar.
var binKernels = map[backends.OpType][3]func(dst, a, b *float32, n int){
	backends.OpTypeAdd: {binAddVVAVX2, binAddVSAVX2, binAddSVAVX2},
	backends.OpTypeSub: {binSubVVAVX2, binSubVSAVX2, binSubSVAVX2},
	backends.OpTypeMul: {binMulVVAVX2, binMulVSAVX2, binMulSVAVX2},
	backends.OpTypeDiv: {binDivVVAVX2, binDivVSAVX2, binDivSVAVX2},
	backends.OpTypeMax: {binMaxVVAVX2, binMaxVSAVX2, binMaxSVAVX2},
	backends.OpTypeMin: {binMinVVAVX2, binMinVSAVX2, binMinSVAVX2},
}

// vecBinary computes dst[i] = a[i*sa] op b[i*sb] for the leading multiple
// of 8 elements when the strides are (1,1), (1,0) or (0,1) and op has a
// kernel, and returns how many it did.
func vecBinary(op backends.OpType, dst, a, b []float32, sa, sb int) int {
	n := len(dst) &^ 7
	if !vecAVX2 || n == 0 {
		return 0
	}
	k, ok := binKernels[op]
	if !ok {
		return 0
	}
	switch {
	case sa == 1 && sb == 1:
		_, _ = a[n-1], b[n-1]
		k[0](&dst[0], &a[0], &b[0], n)
	case sa == 1 && sb == 0:
		_, _ = a[n-1], b[0]
		k[1](&dst[0], &a[0], &b[0], n)
	case sa == 0 && sb == 1:
		_, _ = a[0], b[n-1]
		k[2](&dst[0], &a[0], &b[0], n)
	default:
		return 0
	}
	return n
}
