//go:build !amd64 || purego

package accel

import "github.com/gomlx/gomlx/backends"

// Without assembly the Go loops of vec.go do all the work.

var vecAVX2 = false

var vecGreaterOK = false

func vecAddTo(dst, src []float32) int                             { return 0 }
func vecMaxTo(dst, src []float32) int                             { return 0 }
func vecMax4(dst, x0, x1, x2, x3 []float32) int                   { return 0 }
func vecScatter4(d0, d1, d2, d3, x0, x1, x2, x3, g []float32) int { return 0 }

func vecBN(c int) bool                                                           { return false }
func vecBNSums(x []float32, rows, c int, s, q []float64)                         {}
func vecBNGradSums(x, dy []float32, rows, c int, mean []float32, s, q []float64) {}
func vecBNAffine(dst, x []float32, rows, c int, a, b []float32)                  {}
func vecBNGradInput(dst, dy, x []float32, rows, c int, a, k1, k0 []float32)      {}

func vecRowComb(dst []float32, ldDst int, src []float32, ldSrc, n int, prog rowProgram) bool {
	return false
}

func vecGatherRows(dst, src []float32, idx []int32, rowSize int) bool { return false }

func vecBinary(op backends.OpType, dst, a, b []float32, sa, sb int) int { return 0 }

func vecWhere(dst []float32, cond []bool, t, f []float32) int { return 0 }
func vecGreater(dst []bool, a, b []float32) int               { return 0 }
