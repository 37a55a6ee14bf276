// Macros of the AVX2 element-wise kernels (vec_amd64.s and the generated
// vec_binary_amd64.s). Operand order is Go's: VMAXPS B, A, D sets
// D = A > B ? A : B, i.e. B when either is NaN or they are equal.

// GOMAX sets D = Go's max(A, B): NaN if either is NaN, +0 for max(+0, -0).
// T1, T2 are scratch.
#define GOMAX(A, B, D, T1, T2) \
	VMAXPS B, A, D; \
	VCMPPS $3, A, A, T1; \
	VBLENDVPS T1, A, D, D; \
	VCMPPS $0, B, A, T1; \
	VANDPS B, A, T2; \
	VBLENDVPS T1, T2, D, D

// GOMIN sets D = Go's min(A, B): NaN if either is NaN, -0 for min(+0, -0).
#define GOMIN(A, B, D, T1, T2) \
	VMINPS B, A, D; \
	VCMPPS $3, A, A, T1; \
	VBLENDVPS T1, A, D, D; \
	VCMPPS $0, B, A, T1; \
	VORPS B, A, T2; \
	VBLENDVPS T1, T2, D, D
