package nn

import (
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// Conv2DConfig configures a 2-D convolution over NHWC images. Create it with
// Conv2D, adjust it with its methods and build it with Done.
type Conv2DConfig struct {
	ctx                              *context.Context
	x                                *Node
	filters, kernel, stride, padding int
	useBias                          bool
}

// Conv2D starts a 2-D convolution of x, shaped [batch, height, width,
// channels], with filters output channels and a square kernelSize x
// kernelSize kernel. Defaults: stride 1, zero padding kernelSize/2 on every
// side (PyTorch's padding=k//2: "same" output size for odd kernels at stride
// 1), no bias. The output is [batch, outHeight, outWidth, filters] with
// outHeight = (height + 2*padding - kernelSize)/stride + 1.
//
// Variables, in ctx's current scope (callers choose it with ctx.In):
//   - "weights" [kernelSize, kernelSize, channels, filters], Kaiming-normal with
//     fan_out as PyTorch's kaiming_normal_(mode="fan_out", nonlinearity="relu"):
//     N(0, 2/(kernelSize*kernelSize*filters));
//   - "bias" [filters] (only with UseBias(true)), zeros.
//
// Both are trainable unless ParamTrainable is false in ctx's scope.
//
// The convolution is computed as im2col, which trains on GoMLX's pure-Go
// backend (whose native convolution has no input gradient: it needs the
// unimplemented Reverse op, and runs single-threaded): the padded input is
// gathered into patches with a constant index table (Gather; its gradient is a
// ScatterSum) and multiplied by the kernel with one DotGeneral, the only op
// the backend parallelises. Zero padding is a single extra zero row that
// out-of-image taps point to, not a padded copy. 1x1 kernels without padding
// skip the gather at stride 1. Measured on 2 cores (BenchmarkConvForwardBackward):
// about 7x faster than the native convolution's forward pass, and faster
// than 9 shifted products for forward plus backward.
//
// On that backend with tsimcne/accel (the default), 3x3 convolutions at
// stride 1 with padding 1 over at least 16 input channels use Winograd's
// F(4x4, 3x3), or F(2x2, 3x3) where the sizes are not multiples of 4 (see
// winograd.go): 4x (2.25x) fewer multiply-adds, 1.2-2.5x faster forward plus
// backward than im2col on the layers of ResNet-18 and cnn4, and ResNet-18's
// training step 1.4-1.5x faster. Its rounding error is larger than im2col's
// (relative RMS about 4e-6 instead of 3e-7 over 256 channels), far below what
// float32 training notices. Convolutions selects another algorithm.
func Conv2D(ctx *context.Context, x *Node, filters, kernelSize int) *Conv2DConfig {
	return &Conv2DConfig{
		ctx:     ctx,
		x:       x,
		filters: filters,
		kernel:  kernelSize,
		stride:  1,
		padding: kernelSize / 2,
	}
}

// Stride sets the stride in both spatial dimensions (default 1).
func (c *Conv2DConfig) Stride(stride int) *Conv2DConfig {
	c.stride = stride
	return c
}

// Padding sets the zero padding added on each side of both spatial
// dimensions (default kernelSize/2).
func (c *Conv2DConfig) Padding(padding int) *Conv2DConfig {
	c.padding = padding
	return c
}

// UseBias adds a learned per-filter bias (default false: convolutions
// followed by batch norm do not need one).
func (c *Conv2DConfig) UseBias(useBias bool) *Conv2DConfig {
	c.useBias = useBias
	return c
}

// Done creates (or reuses) the variables and returns the convolution's output.
func (c *Conv2DConfig) Done() *Node {
	x := c.x
	if x.Rank() != 4 {
		panicf("nn.Conv2D: input must be [batch, height, width, channels], got %s", x.Shape())
	}
	if c.filters <= 0 || c.kernel <= 0 || c.stride <= 0 || c.padding < 0 {
		panicf("nn.Conv2D: invalid filters=%d, kernel=%d, stride=%d or padding=%d",
			c.filters, c.kernel, c.stride, c.padding)
	}
	channels := x.Shape().Dimensions[3]
	g := x.Graph()
	dtype := x.DType()
	k := c.kernel
	fanOut := k * k * c.filters
	std := math.Sqrt(2.0 / float64(fanOut))
	wVar := c.ctx.WithInitializer(NormalInitializer(c.ctx, std)).
		VariableWithShape("weights", shapes.Make(dtype, k, k, channels, c.filters)).SetTrainable(trainable(c.ctx))
	out := Conv2DWithKernel(x, wVar.ValueGraph(g), c.stride, c.padding)
	if c.useBias {
		bVar := c.ctx.WithInitializer(zeroInitializer).VariableWithShape("bias", shapes.Make(dtype, c.filters)).SetTrainable(trainable(c.ctx))
		out = Add(out, Reshape(bVar.ValueGraph(g), 1, 1, 1, c.filters))
	}
	return out
}

// ConvMode selects how Conv2DWithKernel computes convolutions.
type ConvMode int

const (
	// ConvAuto uses Winograd (where it applies, with tsimcne/accel) or
	// im2col on GoMLX's pure-Go backend ("go"), whose native convolution is
	// slow and has no gradient, and the backend's native convolution
	// elsewhere (XLA: cuDNN on GPUs).
	ConvAuto ConvMode = iota
	// ConvIm2col always uses im2col (Gather + one matrix product).
	ConvIm2col
	// ConvNative always uses the backend's ConvGeneral (graph.Convolve).
	ConvNative
	// ConvWinograd2 uses Winograd's F(2x2, 3x3) where it applies (3x3
	// kernels, stride 1, padding 1, even sizes; see winograd.go) and im2col
	// elsewhere.
	ConvWinograd2
	// ConvWinograd4 uses Winograd's F(4x4, 3x3) where it applies (sizes
	// multiples of 4) and im2col elsewhere.
	ConvWinograd4
)

// Convolutions selects the convolution algorithm of every Conv2D built
// afterwards (default ConvAuto).
var Convolutions = ConvAuto

// winogradFor returns the Winograd tile Conv2DWithKernel uses for a 3x3
// convolution of [batch, height, width, channels] inputs, or nil for
// im2col. ConvAuto takes F(4x4, 3x3) where it fits, else F(2x2, 3x3), on
// the pure-Go backend with tsimcne/accel's GEMM for inputs of at least
// winogradMinChannels channels: fewer multiply-adds, and faster forward
// plus backward than im2col on every such layer of ResNet-18 and cnn4
// (BenchmarkConvForwardBackward, BENCHMARKS.md).
func winogradFor(g *Graph, height, width, channels, k, stride, padding int) *winogradTile {
	var candidates []*winogradTile
	switch Convolutions {
	case ConvWinograd2:
		candidates = []*winogradTile{&winogradF2}
	case ConvWinograd4:
		candidates = []*winogradTile{&winogradF4}
	case ConvAuto:
		if channels >= winogradMinChannels && g.Backend().String() == simplego.BackendName && accel.Installed() {
			candidates = []*winogradTile{&winogradF4, &winogradF2}
		}
	}
	for _, w := range candidates {
		if w.fits(height, width, k, stride, padding) {
			return w
		}
	}
	return nil
}

// winogradMinChannels is the fewest input channels for which ConvAuto uses
// Winograd: the products per tile position contract over the channels, and
// 3 (an RGB input) is far too short for the GEMM.
const winogradMinChannels = 16

func useNativeConv(g *Graph) bool {
	switch Convolutions {
	case ConvNative:
		return true
	case ConvIm2col, ConvWinograd2, ConvWinograd4:
		return false
	}
	return g.Backend().String() != simplego.BackendName
}

// Conv2DWithKernel convolves x [batch, height, width, channels] with kernel
// [k, k, channels, filters] (cross-correlation, as PyTorch's Conv2d and
// GoMLX's Convolve), with the given stride and symmetric zero padding, by
// im2col or Winograd's algorithm (see Conv2D and Convolutions). It is the
// variable-free core of Conv2D.
func Conv2DWithKernel(x, kernel *Node, stride, padding int) *Node {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		panicf("nn.Conv2DWithKernel: want x [b,h,w,c] and kernel [k,k,c,f], got %s and %s",
			x.Shape(), kernel.Shape())
	}
	dims := x.Shape().Dimensions
	batch, height, width, channels := dims[0], dims[1], dims[2], dims[3]
	kDims := kernel.Shape().Dimensions
	k, filters := kDims[0], kDims[3]
	if kDims[1] != k || kDims[2] != channels {
		panicf("nn.Conv2DWithKernel: kernel %s does not match input %s (want [k,k,%d,filters])",
			kernel.Shape(), x.Shape(), channels)
	}
	geom := convGeometry{batch: batch, height: height, width: width, kernel: k, stride: stride, padding: padding}
	outH, outW := geom.outSize()
	if outH <= 0 || outW <= 0 {
		panicf("nn.Conv2DWithKernel: kernel %d, stride %d, padding %d leave no output for %dx%d input",
			k, stride, padding, height, width)
	}

	if useNativeConv(x.Graph()) {
		return Convolve(x, kernel).StridePerAxis(stride, stride).
			PaddingPerDim([][2]int{{padding, padding}, {padding, padding}}).Done()
	}

	if w := winogradFor(x.Graph(), height, width, channels, k, stride, padding); w != nil {
		return conv2DWinograd(w, x, kernel)
	}

	if k == 1 && padding == 0 && stride == 1 {
		// Pointwise convolution: a plain product over channels.
		return DotGeneral(x, []int{3}, nil, Reshape(kernel, channels, filters), []int{0}, nil)
	}

	flat := Reshape(x, batch*height*width, channels)
	if padding > 0 {
		flat = withZeroRow(flat)
	}
	indices := ConstCachedTensor(x.Graph(), geom.indices())
	patches := Gather(flat, indices)                                      // [batch*outH*outW, k*k, channels]
	out := patchProduct(patches, Reshape(kernel, k*k, channels, filters)) // [batch*outH*outW, filters]
	return Reshape(out, batch, outH, outW, filters)
}

// patchProduct multiplies patches [m, taps, channels] by kernel [taps,
// channels, filters], giving [m, filters].
//
// GoMLX's pure-Go backend multiplies large matrices in 64x64 blocks, padding
// every dimension to a multiple of 64: for narrow layers (the 3-channel
// first layer's 27-long contraction, 16 or 32 filters) most of that work is
// padding. There the rows are split into chunks made a batch axis (the
// kernel broadcast to each), which the backend multiplies without padding,
// one goroutine per chunk. Same sums, other association order.
func patchProduct(patches, kernel *Node) *Node {
	d := patches.Shape().Dimensions
	m, taps, channels := d[0], d[1], d[2]
	filters := kernel.Shape().Dimensions[2]
	chunks := 1
	if slowBackendProducts(patches.Graph()) {
		chunks = narrowChunks(m, taps*channels, filters)
	}
	if chunks <= 1 {
		return DotGeneral(patches, []int{1, 2}, nil, kernel, []int{0, 1}, nil)
	}
	p := Reshape(patches, chunks, m/chunks, taps, channels)
	kb := BroadcastToDims(InsertAxes(kernel, 0), chunks, taps, channels, filters)
	out := DotGeneral(p, []int{2, 3}, []int{0}, kb, []int{1, 2}, []int{0}) // [chunks, m/chunks, filters]
	return Reshape(out, m, filters)
}

// Block geometry of the pure-Go backend's matrix product (float32): blocks
// of 64x64, and products with at most 16 output blocks per batch example
// take its unpadded single-goroutine path.
const (
	backendBlockDim     = 64
	backendSmallOutputs = 16 * backendBlockDim * backendBlockDim
	// narrowWasteRatio is the padding overhead (padded/actual work) above
	// which patchProduct chunks the rows.
	narrowWasteRatio = 2.5
	// narrowChunkRows is the target number of rows per chunk (measured
	// fastest in BenchmarkForwardDot: 512 rows beat 2048 by 2x).
	narrowChunkRows = 512
)

// slowBackendProducts reports whether g runs on GoMLX's own pure-Go matrix
// product, whose 64x64 padded blocks and single-threaded small path the
// chunking and contraction splitting here work around. They only cost
// memory on tsimcne/accel's GEMM (which tsimcne/backend installs) and on XLA.
func slowBackendProducts(g *Graph) bool {
	return forceSlowProducts || (g.Backend().String() == simplego.BackendName && !accel.Installed())
}

// forceSlowProducts makes slowBackendProducts true (tests of the chunking).
var forceSlowProducts = false

// chunkNarrowProducts enables patchProduct's chunking (benchmarks turn it
// off to measure its effect).
var chunkNarrowProducts = true

// narrowChunks returns into how many chunks patchProduct splits m rows for
// a [m, k] x [k, f] product, or 1 not to split.
func narrowChunks(m, k, f int) int {
	pad := func(n int) int { return (n + backendBlockDim - 1) / backendBlockDim * backendBlockDim }
	waste := float64(pad(k)*pad(f)) / float64(k*f)
	if !chunkNarrowProducts || waste < narrowWasteRatio {
		return 1
	}
	// Each chunk's output, and its input gradient [m/chunks, k], must be
	// small, and chunks about narrowChunkRows long.
	for chunks := 2; chunks <= m/16; chunks *= 2 {
		if m%chunks != 0 {
			return 1
		}
		if rows := m / chunks; rows <= narrowChunkRows && rows*max(k, f) <= backendSmallOutputs {
			return chunks
		}
	}
	return 1
}

// convGeometry identifies one im2col index table.
type convGeometry struct {
	batch, height, width, kernel, stride, padding int
}

func (g convGeometry) outSize() (outH, outW int) {
	outH = (g.height+2*g.padding-g.kernel)/g.stride + 1
	outW = (g.width+2*g.padding-g.kernel)/g.stride + 1
	return
}

// constants caches the constant tensors of the convolutions (index tables
// keyed by their geometry, convGeometry or winogradGeometry; Winograd's
// transform matrices keyed by winogradConstKey): one tensor per key for the
// process, so that graph.ConstCachedTensor shares one constant among the
// layers of a graph.
var (
	constantsMu sync.Mutex
	constants   = map[any]*tensors.Tensor{}
)

// cachedConstant returns the tensor cached for key, building it (once)
// with build.
func cachedConstant(key any, build func() *tensors.Tensor) *tensors.Tensor {
	constantsMu.Lock()
	defer constantsMu.Unlock()
	if t, ok := constants[key]; ok {
		return t
	}
	t := build()
	constants[key] = t
	return t
}

// withZeroRow appends one row of zeros to the flat pixel rows [pixels, C]:
// the row that the index tables of im2col and Winograd point out-of-image
// taps to (see zeroRowIndex), instead of a zero-padded copy of the image.
func withZeroRow(flat *Node) *Node {
	channels := flat.Shape().Dimensions[1]
	return Concatenate([]*Node{flat, Zeros(flat.Graph(), shapes.Make(flat.DType(), 1, channels))}, 0)
}

// zeroRowIndex returns the index of the zero row that withZeroRow appends to
// batch*height*width pixel rows, panicking (with what, the geometry) if the
// rows do not fit int32 indices.
func zeroRowIndex(batch, height, width int, what any) int32 {
	if int64(batch)*int64(height)*int64(width) >= math.MaxInt32 {
		panicf("nn.Conv2D: input too large for int32 gather indices: %T%+v", what, what)
	}
	return int32(batch * height * width)
}

// indices returns (cached for the process, see cachedConstant) the int32
// im2col table [batch*outH*outW, k*k, 1] (rank 3: GoMLX v0.26.0's
// Gather shape inference wrongly rejects index tensors of rank above the
// operand's rank + 1): the flat pixel row
// (b*height + y)*width + x each tap reads, or batch*height*width (the zero
// row) for taps in the padding.
func (g convGeometry) indices() *tensors.Tensor {
	return cachedConstant(g, func() *tensors.Tensor {
		zeroRow := zeroRowIndex(g.batch, g.height, g.width, g)
		outH, outW := g.outSize()
		k := g.kernel
		data := make([]int32, 0, g.batch*outH*outW*k*k)
		for b := range g.batch {
			for oy := range outH {
				for ox := range outW {
					for ky := range k {
						for kx := range k {
							iy := oy*g.stride - g.padding + ky
							ix := ox*g.stride - g.padding + kx
							if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width {
								data = append(data, zeroRow)
							} else {
								data = append(data, int32((b*g.height+iy)*g.width+ix))
							}
						}
					}
				}
			}
		}
		return tensors.FromFlatDataAndDimensions(data, g.batch*outH*outW, k*k, 1)
	})
}

// NormalInitializer returns a variable initializer drawing N(0, std^2) from
// the context's random number generator (so context.ParamInitialSeed makes it
// reproducible).
func NormalInitializer(ctx *context.Context, std float64) context.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		return MulScalar(ctx.RandomNormal(g, shape), std)
	}
}

// UniformInitializer returns a variable initializer drawing U(low, high)
// from the context's random number generator.
func UniformInitializer(ctx *context.Context, low, high float64) context.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		return AddScalar(MulScalar(ctx.RandomUniform(g, shape), high-low), low)
	}
}

func zeroInitializer(g *Graph, shape shapes.Shape) *Node { return Zeros(g, shape) }

func oneInitializer(g *Graph, shape shapes.Shape) *Node { return Ones(g, shape) }

// checkFloat panics with a clear message for non-float inputs.
func checkFloat(op string, x *Node) {
	if !x.DType().IsFloat() {
		panicf("%s: input must be a float tensor, got %s", op, x.Shape())
	}
}

// panicf panics with a formatted error: graph-building functions report
// misuse by panicking, as GoMLX's own layers do; Exec and train turn the
// panic into an error.
func panicf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}
