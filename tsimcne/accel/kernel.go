package accel

import "fmt"

// microKernel computes one mr x nr tile of C = A·B: the innermost loop of
// the GEMM, where nearly all the time goes.
type microKernel struct {
	name   string
	mr, nr int
	// asm is the assembly kernel (nil for the pure-Go one). It reads
	// A(i,p) = a[i*rsA + p*csA] for i < mr, p < k, B(p,j) = b[p*ldb + j]
	// for j < nr (a packed panel, ldb = nr, or rows of a row-major B), and
	// writes (or, with acc, adds to) c[i*ldc + j]; k >= 1. It does no
	// bounds checks: run does them.
	asm func(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, acc bool)
}

// String names the kernel.
func (mk *microKernel) String() string { return mk.name }

// run computes the tile C[cOff + i*ldc + j] (+)= sum_p A(i,p) B(p,j) for
// i < mr, j < nr, p < k, with A(i,p) = a[aOff + i*rsA + p*csA] and
// B(p,j) = b[bOff + p*ldb + j]. It checks, once per tile, that every
// element the kernel touches lies inside the slices (strides are >= 0), so
// that a bug in the blocking panics instead of reading stray memory.
func (mk *microKernel) run(k int, a []float32, aOff, rsA, csA int, b []float32, bOff, ldb int, c []float32, cOff, ldc int, acc bool) {
	mr, nr := mk.mr, mk.nr
	if k < 1 || aOff < 0 || bOff < 0 || cOff < 0 || rsA < 0 || csA < 0 || ldb < nr || ldc < nr ||
		aOff+(mr-1)*rsA+(k-1)*csA >= len(a) || bOff+(k-1)*ldb+nr > len(b) || cOff+(mr-1)*ldc+nr > len(c) {
		panic(fmt.Sprintf("accel: micro-kernel %s out of bounds: k=%d a[%d]+(%d,%d)/%d b[%d]+%d/%d c[%d]+%d/%d",
			mk.name, k, aOff, rsA, csA, len(a), bOff, ldb, len(b), cOff, ldc, len(c)))
	}
	if mk.asm != nil {
		mk.asm(k, &a[aOff], rsA, csA, &b[bOff], ldb, &c[cOff], ldc, acc)
		return
	}
	kernelGoFn(k, a, aOff, rsA, csA, b, bOff, ldb, c, cOff, ldc, acc)
}

// kernelGo is the portable micro-kernel: 4x4 tiles in scalar Go, for CPUs
// without AVX2 and for the purego build tag.
var kernelGo = &microKernel{name: "go", mr: 4, nr: 4}

// goKernel4x4 is the pure-Go micro-kernel (mr = nr = 4): 16 scalar
// accumulators, which fit the registers of amd64 and arm64.
func goKernel4x4(k int, a []float32, aOff, rsA, csA int, b []float32, bOff, ldb int, c []float32, cOff, ldc int, acc bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	ia := aOff
	ib := bOff
	for p := 0; p < k; p++ {
		bb := b[ib : ib+4 : ib+4]
		ib += ldb
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		a0 := a[ia]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := a[ia+rsA]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := a[ia+2*rsA]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := a[ia+3*rsA]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		ia += csA
	}
	rows := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for i := range 4 {
		dst := c[cOff+i*ldc : cOff+i*ldc+4 : cOff+i*ldc+4]
		if acc {
			dst[0] += rows[i][0]
			dst[1] += rows[i][1]
			dst[2] += rows[i][2]
			dst[3] += rows[i][3]
		} else {
			dst[0], dst[1], dst[2], dst[3] = rows[i][0], rows[i][1], rows[i][2], rows[i][3]
		}
	}
}

// kernelGoFn is the Go micro-kernel called by run (a variable so that tests
// can break it on purpose).
var kernelGoFn = goKernel4x4
