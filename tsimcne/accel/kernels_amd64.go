//go:build amd64 && !purego

package accel

import "golang.org/x/sys/cpu"

//go:generate go run gen_kernels.go

// kernel14x32AVX512 is the AVX-512 micro-kernel (kernels_amd64.s): a 14x32
// tile of C from 14 rows of A (any strides) and a packed 32-wide panel of B,
// (or rows of B with stride ldb), in 28 ZMM accumulators.
//
//go:noescape
func kernel14x32AVX512(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, acc bool)

// kernel6x16AVX2 is the AVX2+FMA micro-kernel: a 6x16 tile in 12 YMM
// accumulators.
//
//go:noescape
func kernel6x16AVX2(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, acc bool)

var (
	kernelAVX512 = &microKernel{name: "avx512", mr: 14, nr: 32, asm: kernel14x32AVX512}
	kernelAVX2   = &microKernel{name: "avx2", mr: 6, nr: 16, asm: kernel6x16AVX2}
)

// bestKernel returns the fastest micro-kernel this CPU runs.
func bestKernel() *microKernel {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasFMA:
		return kernelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return kernelAVX2
	}
	return kernelGo
}

// narrowKernelFor returns the kernel used for narrow products next to
// best: AVX2 next to AVX-512 on AMD Zen 4 (family 19h), which runs AVX-512
// on 256-bit units, so that both reach the same FLOP rate
// (BenchmarkMicroKernel); not on CPUs whose 512-bit units are twice as fast.
func narrowKernelFor(best *microKernel) *microKernel {
	if best == kernelAVX512 && cpu.X86.HasAVX2 && cpu.X86.HasFMA && isZen4() {
		return kernelAVX2
	}
	return nil
}

// cpuid executes the CPUID instruction (cpuid_amd64.s).
//
//go:noescape
func cpuid(leaf uint32) (eax, ebx, ecx, edx uint32)

// isZen4 reports an AMD CPU of family 19h (Zen 3 and Zen 4; only Zen 4 has
// AVX-512).
func isZen4() bool {
	_, b, c, d := cpuid(0)
	if b != 0x68747541 || d != 0x69746e65 || c != 0x444d4163 { // "AuthenticAMD"
		return false
	}
	a, _, _, _ := cpuid(1)
	family := (a >> 8) & 0xf
	if family == 0xf {
		family += (a >> 20) & 0xff
	}
	return family == 0x19
}

// availableKernels lists the micro-kernels this CPU runs (for tests).
func availableKernels() []*microKernel {
	ks := []*microKernel{kernelGo}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernelAVX2)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasFMA {
		ks = append(ks, kernelAVX512)
	}
	return ks
}
