//go:build ignore

// gen_kernels writes kernels_amd64.s, the assembly micro-kernels of the
// GEMM, and vec_binary_amd64.s, the element-wise binary ops (six ops in
// three operand patterns). Run `go generate ./tsimcne/accel` after editing
// it. The GEMM kernels are fully unrolled over the rows of the tile, which
// is tedious and error-prone to write by hand; generating them keeps the two
// ISAs in step.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// rowAddr returns the address of row r of A (rows are rs bytes apart):
// row groups of 4 share a base register; DX = rs, R8 = 3*rs.
func rowAddr(r int) string {
	bases := []string{"AX", "SI", "DI", "R9"}
	base := bases[r/4]
	switch r % 4 {
	case 0:
		return fmt.Sprintf("(%s)", base)
	case 1:
		return fmt.Sprintf("(%s)(DX*1)", base)
	case 2:
		return fmt.Sprintf("(%s)(DX*2)", base)
	default:
		return fmt.Sprintf("(%s)(R8*1)", base)
	}
}

// kernel writes one micro-kernel: mr rows x (vecs vectors of width lanes),
// with the register prefix reg ("Z" or "Y").
func kernel(w *bytes.Buffer, name string, mr, vecs int, reg string, vbytes int) {
	nr := vecs * vbytes / 4
	fmt.Fprintf(w, `
// func %s(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, acc bool)
//
// C[i][j] (+)= sum_p A(i,p) * B[p][j] for i < %d, j < %d, p < k (k >= 1), where
// A(i,p) = a[i*rsA + p*csA], B[p][j] = b[p*ldb + j] (a packed panel has
// ldb = %d), and C[i][j] = c[i*ldc + j]. With acc false C is overwritten,
// else added to. Strides are in elements.
TEXT ·%s(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rsA+16(FP), DX
	MOVQ csA+24(FP), R10
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R13
	SHLQ $2, DX
	SHLQ $2, R10
	SHLQ $2, R13
	LEAQ (DX)(DX*2), R8
	LEAQ (AX)(DX*4), SI
	LEAQ (SI)(DX*4), DI
	LEAQ (DI)(DX*4), R9
`, name, mr, nr, nr, name)
	first := 4
	for i := 0; i < mr*vecs; i++ {
		r := fmt.Sprintf("%s%d", reg, first+i)
		if reg == "Z" {
			fmt.Fprintf(w, "\tVPXORD %s, %s, %s\n", r, r, r)
		} else {
			fmt.Fprintf(w, "\tVXORPS %s, %s, %s\n", r, r, r)
		}
	}
	fmt.Fprintf(w, "\nloop:\n")
	for v := 0; v < vecs; v++ {
		fmt.Fprintf(w, "\tVMOVUPS %d(BX), %s%d\n", v*vbytes, reg, v)
	}
	for r := 0; r < mr; r++ {
		t := fmt.Sprintf("%s%d", reg, 2+r%2)
		fmt.Fprintf(w, "\tVBROADCASTSS %s, %s\n", rowAddr(r), t)
		for v := 0; v < vecs; v++ {
			fmt.Fprintf(w, "\tVFMADD231PS %s%d, %s, %s%d\n", reg, v, t, reg, first+r*vecs+v)
		}
	}
	usedBases := (mr + 3) / 4
	for _, base := range []string{"AX", "SI", "DI", "R9"}[:usedBases] {
		fmt.Fprintf(w, "\tADDQ R10, %s\n", base)
	}
	fmt.Fprintf(w, "\tADDQ R13, BX\n\tDECQ CX\n\tJNZ loop\n\n")

	fmt.Fprintf(w, "\tMOVQ c+48(FP), R11\n\tMOVQ ldc+56(FP), R12\n\tSHLQ $2, R12\n")
	fmt.Fprintf(w, "\tMOVBLZX acc+64(FP), R13\n\tTESTQ R13, R13\n\tJZ store\n\n")
	for r := 0; r < mr; r++ {
		for v := 0; v < vecs; v++ {
			acc := fmt.Sprintf("%s%d", reg, first+r*vecs+v)
			fmt.Fprintf(w, "\tVADDPS %d(R11), %s, %s\n", v*vbytes, acc, acc)
			fmt.Fprintf(w, "\tVMOVUPS %s, %d(R11)\n", acc, v*vbytes)
		}
		if r < mr-1 {
			fmt.Fprintf(w, "\tADDQ R12, R11\n")
		}
	}
	fmt.Fprintf(w, "\tVZEROUPPER\n\tRET\n\nstore:\n")
	for r := 0; r < mr; r++ {
		for v := 0; v < vecs; v++ {
			fmt.Fprintf(w, "\tVMOVUPS %s%d, %d(R11)\n", reg, first+r*vecs+v, v*vbytes)
		}
		if r < mr-1 {
			fmt.Fprintf(w, "\tADDQ R12, R11\n")
		}
	}
	fmt.Fprintf(w, "\tVZEROUPPER\n\tRET\n")
}

// binaryOps are the element-wise ops of binaryKernels: name and either an
// instruction or a macro of vec_amd64.h (Go's max and min, with their NaN
// and signed-zero rules).
var binaryOps = []struct{ name, instr string }{
	{"Add", "VADDPS"}, {"Sub", "VSUBPS"}, {"Mul", "VMULPS"}, {"Div", "VDIVPS"},
	{"Max", "GOMAX"}, {"Min", "GOMIN"},
}

// binaryKernels writes the element-wise kernels of vec_amd64.go's
// binKernels: for each op, dst[i] = a[i] op b[i] (VV), a[i] op c (VS, c =
// *b) and c op b[i] (SV, c = *a), n a multiple of 8.
func binaryKernels(w *bytes.Buffer) {
	w.WriteString("#include \"vec_amd64.h\"\n")
	for _, op := range binaryOps {
		for _, mode := range []string{"VV", "VS", "SV"} {
			name := "bin" + op.name + mode + "AVX2"
			label := strings.ToLower(op.name + mode)
			fmt.Fprintf(w, "\n// func %s(dst, a, b *float32, n int)\nTEXT ·%s(SB), NOSPLIT, $0-32\n", name, name)
			w.WriteString("\tMOVQ dst+0(FP), DI\n\tMOVQ a+8(FP), SI\n\tMOVQ b+16(FP), DX\n\tMOVQ n+24(FP), CX\n\tSHLQ $2, CX\n\tXORQ AX, AX\n")
			// Y0 = the a operand, Y1 = the b operand.
			switch mode {
			case "VS":
				w.WriteString("\tVBROADCASTSS (DX), Y1\n")
			case "SV":
				w.WriteString("\tVBROADCASTSS (SI), Y0\n")
			}
			fmt.Fprintf(w, "%sloop:\n\tCMPQ AX, CX\n\tJGE %sdone\n", label, label)
			if mode != "SV" {
				w.WriteString("\tVMOVUPS (SI)(AX*1), Y0\n")
			}
			if mode != "VS" {
				w.WriteString("\tVMOVUPS (DX)(AX*1), Y1\n")
			}
			if strings.HasPrefix(op.instr, "GO") {
				fmt.Fprintf(w, "\t%s(Y0, Y1, Y2, Y3, Y4)\n", op.instr)
			} else {
				fmt.Fprintf(w, "\t%s Y1, Y0, Y2\n", op.instr)
			}
			fmt.Fprintf(w, "\tVMOVUPS Y2, (DI)(AX*1)\n\tADDQ $32, AX\n\tJMP %sloop\n%sdone:\n\tVZEROUPPER\n\tRET\n", label, label)
		}
	}
}

func main() {
	var b bytes.Buffer
	b.WriteString(`// Code generated by gen_kernels.go; DO NOT EDIT.

//go:build amd64 && !purego

#include "textflag.h"
`)
	binaryKernels(&b)
	if err := os.WriteFile("vec_binary_amd64.s", b.Bytes(), 0o644); err != nil {
		panic(err)
	}

	var w bytes.Buffer
	w.WriteString(`// Code generated by gen_kernels.go; DO NOT EDIT.

//go:build amd64 && !purego

#include "textflag.h"
`)
	// AVX-512: 14 rows x 32 columns: 28 accumulators Z4..Z31, B in Z0..Z1,
	// broadcasts in Z2..Z3.
	kernel(&w, "kernel14x32AVX512", 14, 2, "Z", 64)
	// AVX2: 6 rows x 16 columns: 12 accumulators Y4..Y15.
	kernel(&w, "kernel6x16AVX2", 6, 2, "Y", 32)
	if err := os.WriteFile("kernels_amd64.s", w.Bytes(), 0o644); err != nil {
		panic(err)
	}
}
