//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels of the memory-bound element-wise passes (vec_amd64.go). Each
// processes n elements, n a multiple of 8; the Go callers do the tail.
// Operand order is Go's, reversed from Intel's (see vec_amd64.h).

#include "vec_amd64.h"

// func addToAVX2(dst, src *float32, n int)
TEXT ·addToAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
addloop:
	CMPQ AX, CX
	JGE adddone
	VMOVUPS (DI)(AX*1), Y0
	VADDPS (SI)(AX*1), Y0, Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	JMP addloop
adddone:
	VZEROUPPER
	RET

// func maxToAVX2(dst, src *float32, n int)
TEXT ·maxToAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
maxloop:
	CMPQ AX, CX
	JGE maxdone
	VMOVUPS (DI)(AX*1), Y0
	VMOVUPS (SI)(AX*1), Y1
	GOMAX(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y2, (DI)(AX*1)
	ADDQ $32, AX
	JMP maxloop
maxdone:
	VZEROUPPER
	RET

// func max4AVX2(dst, x0, x1, x2, x3 *float32, n int)
//
// dst[i] = max(max(x0[i], x1[i]), max(x2[i], x3[i])) (Go's max).
TEXT ·max4AVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x0+8(FP), R8
	MOVQ x1+16(FP), R9
	MOVQ x2+24(FP), R10
	MOVQ x3+32(FP), R11
	MOVQ n+40(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
max4loop:
	CMPQ AX, CX
	JGE max4done
	VMOVUPS (R8)(AX*1), Y0
	VMOVUPS (R9)(AX*1), Y1
	VMOVUPS (R10)(AX*1), Y2
	VMOVUPS (R11)(AX*1), Y3
	GOMAX(Y0, Y1, Y4, Y6, Y7)
	GOMAX(Y2, Y3, Y5, Y6, Y7)
	GOMAX(Y4, Y5, Y0, Y6, Y7)
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ $32, AX
	JMP max4loop
max4done:
	VZEROUPPER
	RET

// func scatter4AVX2(d0, d1, d2, d3, x0, x1, x2, x3, grad *float32, n int)
//
// The gradient of a 4-element max: di[i] = grad[i] where xi[i] is the first of
// the four equal to their maximum, else 0; all four 0 when one is NaN.
TEXT ·scatter4AVX2(SB), NOSPLIT, $0-80
	MOVQ d0+0(FP), R8
	MOVQ d1+8(FP), R9
	MOVQ d2+16(FP), R10
	MOVQ d3+24(FP), R11
	MOVQ x0+32(FP), R12
	MOVQ x1+40(FP), R13
	MOVQ x2+48(FP), R14
	MOVQ x3+56(FP), BX
	MOVQ grad+64(FP), SI
	MOVQ n+72(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
scatloop:
	CMPQ AX, CX
	JGE scatdone
	VMOVUPS (R12)(AX*1), Y0
	VMOVUPS (R13)(AX*1), Y1
	VMOVUPS (R14)(AX*1), Y2
	VMOVUPS (BX)(AX*1), Y3
	VMOVUPS (SI)(AX*1), Y4
	// Y5 = the maximum (any of them when one is NaN: masked below).
	VMAXPS Y1, Y0, Y5
	VMAXPS Y3, Y2, Y6
	VMAXPS Y6, Y5, Y5
	// Y7 = taken: all ones where a NaN is present or a maximum was seen.
	VCMPPS $3, Y1, Y0, Y7
	VCMPPS $3, Y3, Y2, Y6
	VORPS Y6, Y7, Y7
	// For each xi: e = (xi == max); sel = e &^ taken; taken |= e.
	VCMPPS $0, Y5, Y0, Y8
	VANDNPS Y8, Y7, Y9
	VORPS Y8, Y7, Y7
	VANDPS Y4, Y9, Y9
	VMOVUPS Y9, (R8)(AX*1)
	VCMPPS $0, Y5, Y1, Y8
	VANDNPS Y8, Y7, Y9
	VORPS Y8, Y7, Y7
	VANDPS Y4, Y9, Y9
	VMOVUPS Y9, (R9)(AX*1)
	VCMPPS $0, Y5, Y2, Y8
	VANDNPS Y8, Y7, Y9
	VORPS Y8, Y7, Y7
	VANDPS Y4, Y9, Y9
	VMOVUPS Y9, (R10)(AX*1)
	VCMPPS $0, Y5, Y3, Y8
	VANDNPS Y8, Y7, Y9
	VANDPS Y4, Y9, Y9
	VMOVUPS Y9, (R11)(AX*1)
	ADDQ $32, AX
	JMP scatloop
scatdone:
	VZEROUPPER
	RET

// ADDSUMS adds the float64 accumulators of features BX..BX+7 to the sums:
// Y0, Y1 to s (DI), Y2, Y3 to q (R10).
#define ADDSUMS \
	VADDPD (DI)(BX*8), Y0, Y0; \
	VMOVUPD Y0, (DI)(BX*8); \
	VADDPD 32(DI)(BX*8), Y1, Y1; \
	VMOVUPD Y1, 32(DI)(BX*8); \
	VADDPD (R10)(BX*8), Y2, Y2; \
	VMOVUPD Y2, (R10)(BX*8); \
	VADDPD 32(R10)(BX*8), Y3, Y3; \
	VMOVUPD Y3, 32(R10)(BX*8)

// func bnSumsAVX2(x *float32, rows, ld int, s, q *float64, c int)
//
// For j < c (a multiple of 8): s[j] += Σ_r x[r*ld+j], q[j] += Σ_r x[r*ld+j]²,
// summed in float64, 8 features at a time down the rows.
TEXT ·bnSumsAVX2(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ rows+8(FP), R8
	MOVQ ld+16(FP), R9
	SHLQ $2, R9
	MOVQ s+24(FP), DI
	MOVQ q+32(FP), R10
	MOVQ c+40(FP), CX
	XORQ BX, BX
sumstrip:
	CMPQ BX, CX
	JGE sumdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	LEAQ (SI)(BX*4), AX
	MOVQ R8, DX
sumrow:
	TESTQ DX, DX
	JZ sumrowsdone
	VCVTPS2PD (AX), Y4
	VCVTPS2PD 16(AX), Y5
	VADDPD Y4, Y0, Y0
	VADDPD Y5, Y1, Y1
	VFMADD231PD Y4, Y4, Y2
	VFMADD231PD Y5, Y5, Y3
	ADDQ R9, AX
	DECQ DX
	JMP sumrow
sumrowsdone:
	ADDSUMS
	ADDQ $8, BX
	JMP sumstrip
sumdone:
	VZEROUPPER
	RET

// func bnGradSumsAVX2(x, dy *float32, rows, ld int, mean *float32, s, q *float64, c int)
//
// For j < c (a multiple of 8): s[j] += Σ_r dy[r*ld+j],
// q[j] += Σ_r dy[r*ld+j]·(x[r*ld+j] - mean[j]), in float64.
TEXT ·bnGradSumsAVX2(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ dy+8(FP), R11
	MOVQ rows+16(FP), R8
	MOVQ ld+24(FP), R9
	SHLQ $2, R9
	MOVQ mean+32(FP), R12
	MOVQ s+40(FP), DI
	MOVQ q+48(FP), R10
	MOVQ c+56(FP), CX
	XORQ BX, BX
gsstrip:
	CMPQ BX, CX
	JGE gsdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VCVTPS2PD (R12)(BX*4), Y8
	VCVTPS2PD 16(R12)(BX*4), Y9
	LEAQ (SI)(BX*4), AX
	LEAQ (R11)(BX*4), R13
	MOVQ R8, DX
gsrow:
	TESTQ DX, DX
	JZ gsrowsdone
	VCVTPS2PD (R13), Y4
	VCVTPS2PD 16(R13), Y5
	VCVTPS2PD (AX), Y6
	VCVTPS2PD 16(AX), Y7
	VSUBPD Y8, Y6, Y6
	VSUBPD Y9, Y7, Y7
	VADDPD Y4, Y0, Y0
	VADDPD Y5, Y1, Y1
	VFMADD231PD Y6, Y4, Y2
	VFMADD231PD Y7, Y5, Y3
	ADDQ R9, AX
	ADDQ R9, R13
	DECQ DX
	JMP gsrow
gsrowsdone:
	ADDSUMS
	ADDQ $8, BX
	JMP gsstrip
gsdone:
	VZEROUPPER
	RET

// func bnAffineAVX2(dst, x *float32, rows, c int, a, b *float32)
//
// dst[r*c+j] = x[r*c+j]·a[j] + b[j] for j < c (a multiple of 8).
TEXT ·bnAffineAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ c+24(FP), CX
	SHLQ $2, CX
	MOVQ a+32(FP), R9
	MOVQ b+40(FP), R10
afrow:
	TESTQ R8, R8
	JZ afdone
	XORQ BX, BX
afcol:
	CMPQ BX, CX
	JGE afcoldone
	VMOVUPS (SI)(BX*1), Y0
	VMOVUPS (R9)(BX*1), Y1
	VFMADD213PS (R10)(BX*1), Y1, Y0
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ $32, BX
	JMP afcol
afcoldone:
	ADDQ CX, SI
	ADDQ CX, DI
	DECQ R8
	JMP afrow
afdone:
	VZEROUPPER
	RET

// func bnGradInputAVX2(dst, dy, x *float32, rows, c int, a, k1, k0 *float32)
//
// dst[r*c+j] = dy[r*c+j]·a[j] + x[r*c+j]·k1[j] + k0[j] for j < c (a
// multiple of 8). dst may be dy.
TEXT ·bnGradInputAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ dy+8(FP), R11
	MOVQ x+16(FP), SI
	MOVQ rows+24(FP), R8
	MOVQ c+32(FP), CX
	SHLQ $2, CX
	MOVQ a+40(FP), R9
	MOVQ k1+48(FP), R10
	MOVQ k0+56(FP), R12
girow:
	TESTQ R8, R8
	JZ gidone
	XORQ BX, BX
gicol:
	CMPQ BX, CX
	JGE gicoldone
	VMOVUPS (R11)(BX*1), Y0
	VMOVUPS (SI)(BX*1), Y1
	VMOVUPS (R12)(BX*1), Y2
	VFMADD231PS (R10)(BX*1), Y1, Y2
	VFMADD231PS (R9)(BX*1), Y0, Y2
	VMOVUPS Y2, (DI)(BX*1)
	ADDQ $32, BX
	JMP gicol
gicoldone:
	ADDQ CX, SI
	ADDQ CX, DI
	ADDQ CX, R11
	DECQ R8
	JMP girow
gidone:
	VZEROUPPER
	RET

// func rowCombAVX2(dst *float32, ldDst int, src *float32, ldSrc int, n int, prog *int32, rows int)
//
// A sparse small matrix times a wide one: for each of rows output rows p,
// dst[p*ldDst + j] = Σ coef · src[q*ldSrc + j] over the (q, coef) pairs of
// row p in prog (a count, then that many pairs of q and coef's float32
// bits), for j < n (a multiple of 8). Columns go in strips of 64 (8
// accumulators: two FMAs per cycle despite their latency), then of 8, so
// that a strip of every source row stays in L1 while all output rows read
// it.
TEXT ·rowCombAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ ldDst+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ ldSrc+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	SHLQ $2, CX
	MOVQ prog+40(FP), R10
	MOVQ rows+48(FP), R11
	XORQ BX, BX
rc64:
	LEAQ 256(BX), AX
	CMPQ AX, CX
	JG rc8
	MOVQ R10, R12
	MOVQ DI, R13
	MOVQ R11, DX
rc64row:
	TESTQ DX, DX
	JZ rc64next
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVLQSX (R12), R14
	ADDQ $4, R12
rc64nz:
	TESTQ R14, R14
	JZ rc64store
	MOVLQSX (R12), AX
	IMULQ R9, AX
	ADDQ SI, AX
	ADDQ BX, AX
	VBROADCASTSS 4(R12), Y8
	VFMADD231PS (AX), Y8, Y0
	VFMADD231PS 32(AX), Y8, Y1
	VFMADD231PS 64(AX), Y8, Y2
	VFMADD231PS 96(AX), Y8, Y3
	VFMADD231PS 128(AX), Y8, Y4
	VFMADD231PS 160(AX), Y8, Y5
	VFMADD231PS 192(AX), Y8, Y6
	VFMADD231PS 224(AX), Y8, Y7
	ADDQ $8, R12
	DECQ R14
	JMP rc64nz
rc64store:
	LEAQ (R13)(BX*1), AX
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	VMOVUPS Y4, 128(AX)
	VMOVUPS Y5, 160(AX)
	VMOVUPS Y6, 192(AX)
	VMOVUPS Y7, 224(AX)
	ADDQ R8, R13
	DECQ DX
	JMP rc64row
rc64next:
	ADDQ $256, BX
	JMP rc64
rc8:
	LEAQ 32(BX), AX
	CMPQ AX, CX
	JG rcdone
	MOVQ R10, R12
	MOVQ DI, R13
	MOVQ R11, DX
rc8row:
	TESTQ DX, DX
	JZ rc8next
	VXORPS Y0, Y0, Y0
	MOVLQSX (R12), R14
	ADDQ $4, R12
rc8nz:
	TESTQ R14, R14
	JZ rc8store
	MOVLQSX (R12), AX
	IMULQ R9, AX
	ADDQ SI, AX
	ADDQ BX, AX
	VBROADCASTSS 4(R12), Y8
	VFMADD231PS (AX), Y8, Y0
	ADDQ $8, R12
	DECQ R14
	JMP rc8nz
rc8store:
	VMOVUPS Y0, (R13)(BX*1)
	ADDQ R8, R13
	DECQ DX
	JMP rc8row
rc8next:
	ADDQ $32, BX
	JMP rc8
rcdone:
	VZEROUPPER
	RET

// func gatherRowsAVX2(dst, src *float32, idx *int32, n, rowSize int)
//
// dst[i*rowSize + j] = src[idx[i]*rowSize + j] for i < n, j < rowSize (a
// multiple of 8): the short row copies of the fused tile gathers without a
// memmove call each.
TEXT ·gatherRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ rowSize+32(FP), R9
	SHLQ $2, R9
grrow:
	TESTQ CX, CX
	JZ grdone
	MOVLQSX (R8), AX
	IMULQ R9, AX
	ADDQ SI, AX
	XORQ BX, BX
grcol:
	CMPQ BX, R9
	JGE grcoldone
	VMOVUPS (AX)(BX*1), Y0
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ $32, BX
	JMP grcol
grcoldone:
	ADDQ R9, DI
	ADDQ $4, R8
	DECQ CX
	JMP grrow
grdone:
	VZEROUPPER
	RET

// func whereAVX2(dst *float32, cond *bool, t, f *float32, tInc, fInc, n int)
//
// dst[i] = cond[i] ? t[i] : f[i] (bits copied, NaN payloads too). t and f
// advance by tInc and fInc bytes per 8 elements: 32 for arrays, 0 for a
// scalar broadcast into 8 floats. cond's bools are bytes 0 or 1: widened to
// dwords and shifted into the sign bit, which VBLENDVPS reads.
TEXT ·whereAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ cond+8(FP), SI
	MOVQ t+16(FP), R8
	MOVQ f+24(FP), R9
	MOVQ tInc+32(FP), R10
	MOVQ fInc+40(FP), R11
	MOVQ n+48(FP), CX
	XORQ AX, AX
whereloop:
	CMPQ AX, CX
	JGE wheredone
	VPMOVZXBD (SI)(AX*1), Y0
	VPSLLD $31, Y0, Y0
	VMOVUPS (R8), Y1
	VMOVUPS (R9), Y2
	VBLENDVPS Y0, Y1, Y2, Y3
	VMOVUPS Y3, (DI)(AX*4)
	ADDQ R10, R8
	ADDQ R11, R9
	ADDQ $8, AX
	JMP whereloop
wheredone:
	VZEROUPPER
	RET

// func greaterAVX2(dst *bool, a, b *float32, aInc, bInc, n int)
//
// dst[i] = a[i] > b[i] (false where either is NaN: the ordered, quiet
// comparison), a and b advancing as in whereAVX2. The 8 comparison bits
// (VMOVMSKPS) are spread to the low bits of 8 bytes with BMI2's PDEP.
TEXT ·greaterAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), R8
	MOVQ b+16(FP), R9
	MOVQ aInc+24(FP), R10
	MOVQ bInc+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ $0x0101010101010101, R12
	XORQ AX, AX
gtloop:
	CMPQ AX, CX
	JGE gtdone
	VMOVUPS (R8), Y0
	VMOVUPS (R9), Y1
	VCMPPS $0x1e, Y1, Y0, Y2
	VMOVMSKPS Y2, BX
	PDEPQ R12, BX, DX
	MOVQ DX, (DI)(AX*1)
	ADDQ R10, R8
	ADDQ R11, R9
	ADDQ $8, AX
	JMP gtloop
gtdone:
	VZEROUPPER
	RET
