// Package accel makes GoMLX's pure-Go backend ("go", package simplego)
// train several times faster, by replacing the executor of its DotGeneral
// op — the matrix products of every convolution (im2col), dense layer and
// their gradients, most of a training step's time — with a float32 GEMM
// written for the vector units, and the executors of the ops that then
// dominate (the im2col Gather and its ScatterSum gradient, broadcasting
// Add/Sub/Mul/Div/Max/Min, ReduceSum/ReduceMax, BroadcastInDim, Transpose,
// Where, GreaterThan, Sign, Slice) with float32 versions that work on whole
// rows and runs instead of simplego's element-by-element index iterators.
//
// # The GEMM
//
// MatMul computes C = A·B for strided float32 matrices: cache-blocked, with
// B packed into panels and a register-blocked micro-kernel (BLIS style),
// split over GOMAXPROCS goroutines by rows of C, or by the contraction for
// products with a small output and a long contraction (weight gradients).
// The micro-kernel is chosen at run time (Kernel): AVX-512 (14x32 tile) or
// AVX2+FMA (6x16) assembly on amd64, plain Go elsewhere or with the purego
// build tag. A micro-kernel runs at about 115 GFLOP/s per core of the AMD
// EPYC (Zen 4) development machine; whole products of the training steps at
// 90-200 GFLOP/s on its 2 cores, against about 10 for simplego's own kernel
// (see BenchmarkMatMul and BENCHMARKS.md at the repository root).
//
// # The DotGeneral executor
//
// Install registers, process-wide, an executor that computes float32
// DotGenerals with any batch, contracting and cross axes: an operand whose
// axis groups each form one strided range of memory (e.g. [rows, k] or
// [k, rows], several axes per group) is read in place, any other is first
// copied to [batch, cross, contract] order; the output is the node's
// [batch, lhsCross, rhsCross] buffer, which simplego then reshapes. Other
// dtypes, and anything unexpected, go to simplego's own executor. It
// replaces the executors of the ops of "The other executors" below the
// same way, and registers those of the fused ops; the table replacedOps in
// install.go lists them all.
//
// simplego offers no public hook for this: the package reaches its
// unexported executor registry with go:linkname and reads node fields
// through unsafe, all of it in one file (simplego_internals.go), checked by
// reflection. Install therefore refuses (leaving simplego untouched, and
// logging why once) unless
//   - the linked GoMLX is exactly SupportedGoMLX (runtime/debug build info,
//     or in test binaries, which lack it, the module-cache path of
//     simplego's sources),
//   - the fields it reads have the expected names, types and offsets,
//   - a self-test passes: every executor it replaces (the table
//     replacedOps in install.go) computes a few small nodes built by
//     simplego's builder — DotGenerals of several layouts, a Gather and a
//     ScatterSum with repeated indices, Add, Sub, Mul, Div, Max and Min on
//     equal shapes, broadcast and scalar operands, BroadcastInDim,
//     ReduceSum, ReduceMax, Transpose, Where, GreaterThan, Sign, Slice and
//     ReduceWindow — and its results must agree with simplego's own
//     executor's; the parameters read through unsafe must be those the
//     graph was built with; and an executor without a self-test case makes
//     Install refuse too;
//
// and it does nothing when the environment variable EnvVar
// (TSIMCNE_FAST_KERNELS) is 0. Should an executor ever panic, it logs once
// and hands every later op back to simplego. The self-test takes about
// 3 ms on the 2-core development machine.
//
// # Building without it: the noaccel build tag
//
// The go:linkname declarations must match the unexported functions of one
// GoMLX release exactly, and the linker checks only that they exist: a
// GoMLX release that renames or removes one of them makes every binary
// that imports this package (through tsimcne/backend: the command, the
// notebooks, plots users) fail to link, before Install can refuse. Build
// with
//
//	go build -tags noaccel ./...
//
// (BuildTag) to compile out every file that touches simplego's internals —
// the executors, the fused ops, the self-tests and simplego_internals.go —
// for instance to try a newer GoMLX before this package supports it. The
// exported API stays: Install returns ErrCompiledOut, Installed reports
// false, WithFusedOps returns its backend unchanged, and MatMul and Kernel
// still work. The cost is speed: GoMLX's pure-Go backend runs on its own
// executors and ops (tsimcne/nn then falls back to its element-wise batch
// norm, its Reshape + ReduceMax pooling and im2col convolutions), and a
// training step is several times slower (see BENCHMARKS.md at the
// repository root). XLA backends are unaffected.
//
// # The other executors
//
// Gather and ScatterSum are handled when they gather or scatter-add whole
// rows along axis 0 with int32/int64 indices in range (the im2col pattern
// of tsimcne/nn); element-wise ops when the operands are float32 and each
// is either the output's shape, broadcast along some axes, or a scalar;
// ReduceSum, ReduceMax, BroadcastInDim and Transpose on float32; Slice
// with unit strides; Where, GreaterThan and Sign on float32, without
// branches. Axes are merged into as few strided runs as possible, inner
// loops are plain slices, and large tensors are split over GOMAXPROCS
// goroutines. Results equal simplego's, except
// for float32 rounding in sums (ReduceSum adds along a reduced innermost
// axis before adding to the output; the GEMM sums in another order).
// Everything else (other dtypes, patterns, ops) stays with simplego.
//
// # Fused ops
//
// WithFusedOps wraps a simplego backend in Backend, whose graph builder
// also implements ops simplego lacks, as nodes of simplego's own graph
// computed by this package (fused.go, batchnorm.go, pool.go):
// BatchNormForTraining, BatchNormForInference and BatchNormGradient (float32,
// any feature axis; one pass for the statistics and one for the output,
// where the element-wise formulation takes about 7 forward and 12 backward),
// and max ReduceWindow with its gradient SelectAndScatterMax for
// non-overlapping float32 windows (one pass each instead of a Reshape,
// ReduceMax and six element-wise passes for the gradient). GoMLX's graph
// package differentiates these ops itself; tsimcne/nn uses them when the
// backend reports them in its capabilities (nn.FusedOps). The node builder
// is reached with go:linkname, like the executors.
//
// WithFusedOps's builder also fuses the row gathers and scatters around
// products with small constant matrices that tsimcne/nn's Winograd
// convolutions consist of (tiles.go): a Gather of input tiles followed by
// the input transform, the output transform followed by the Transpose back
// to pixel order, and the mirrored shapes of their gradients each become one
// node that works chunk by chunk in cache, instead of two passes over a
// tensor several times the size of the activations. The graph package
// still sees, and differentiates, the original ops.
//
// The first WithFusedOps call on an installed backend runs a second
// self-test (under 1 ms): small graphs of every fused node — the three
// batch norms on two layouts, 2x2 max-pooling and its gradient, and the
// tile gather, scatter and permutation nodes — built by Backend's builder
// and, from plain GoMLX ops, by simplego's must give the same results, and
// every op type with fused nodes must have been built fused; otherwise the
// reason is logged once and WithFusedOps returns its backend unchanged
// (simplego's own ops are then used, with the executors Install replaced).
//
// # Vector kernels
//
// The Go compiler does not vectorise loops, so the passes that stay
// compute-bound in plain Go — the 2x2 max-pool and its gradient, the
// element-wise max and add of reductions and scatters — have AVX2 versions
// on amd64 (vec_amd64.s) with the same results, NaNs and signed zeros
// included.
//
// tsimcne/backend calls Install and WithFusedOps when it creates a "go"
// backend, so every user of gosimcne's backend gets both; programs using
// simplego directly can call them themselves before building graphs.
package accel
