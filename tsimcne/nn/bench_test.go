package nn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Micro-benchmarks of the building blocks at ResNet-18 shapes, batch 32:
//
//	go test ./tsimcne/nn -run '^$' -bench . -benchtime 3x

type convShape struct {
	name                      string
	b, h, c, f, k, stride, pd int
}

var benchConvShapes = []convShape{
	{"layer1_64x64_32px", 32, 32, 64, 64, 3, 1, 1},
	{"layer2_128x128_16px", 32, 16, 128, 128, 3, 1, 1},
	{"layer3_256x256_8px", 32, 8, 256, 256, 3, 1, 1},
	{"layer4_512x512_4px", 32, 4, 512, 512, 3, 1, 1},
	{"down_64to128_s2", 32, 32, 64, 128, 3, 2, 1},
	{"shortcut1x1_s2", 32, 32, 64, 128, 1, 2, 0},
	{"quarter_16x16_32px", 32, 32, 16, 16, 3, 1, 1},
	// cnn4 (the cpu preset's backbone) at B=128.
	{"cnn4_32to64_16px_b128", 128, 16, 32, 64, 3, 1, 1},
	{"cnn4_64to128_8px_b128", 128, 8, 64, 128, 3, 1, 1},
	{"cnn4_128to256_4px_b128", 128, 4, 128, 256, 3, 1, 1},
}

// BenchmarkConvForwardBackward times the forward pass, the gradients with
// respect to input and kernel of one convolution, per formulation.
func BenchmarkConvForwardBackward(b *testing.B) {
	be := testBackend(b)
	for _, cs := range benchConvShapes {
		rng := rand.New(rand.NewPCG(1, 2))
		x := tensors.FromFlatDataAndDimensions(randSlice(rng, cs.b*cs.h*cs.h*cs.c), cs.b, cs.h, cs.h, cs.c)
		k := tensors.FromFlatDataAndDimensions(randSlice(rng, cs.k*cs.k*cs.c*cs.f), cs.k, cs.k, cs.c, cs.f)
		flops := 0.0
		{
			oh := (cs.h+2*cs.pd-cs.k)/cs.stride + 1
			flops = 3 * 2 * float64(cs.b*oh*oh*cs.k*cs.k*cs.c*cs.f)
		}
		for _, method := range []string{"im2col", "wino2", "wino4", "shifted", "native",
			"im2col-fwd", "wino2-fwd", "wino4-fwd", "shifted-fwd", "native-fwd"} {
			if (strings.HasPrefix(method, "shifted") || strings.HasPrefix(method, "wino")) && cs.stride != 1 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", cs.name, method), func(b *testing.B) {
				exec := MustNewExec(be, func(x, k *Node) []*Node {
					var out *Node
					switch strings.TrimSuffix(method, "-fwd") {
					case "im2col":
						out = Conv2DWithKernel(x, k, cs.stride, cs.pd)
					case "shifted":
						out = conv2DShifted(x, k, cs.pd)
					case "wino2", "wino4":
						Convolutions = map[string]ConvMode{"wino2": ConvWinograd2, "wino4": ConvWinograd4}[strings.TrimSuffix(method, "-fwd")]
						out = Conv2DWithKernel(x, k, cs.stride, cs.pd)
						Convolutions = ConvAuto
					default:
						out = Convolve(x, k).StridePerAxis(cs.stride, cs.stride).
							PaddingPerDim([][2]int{{cs.pd, cs.pd}, {cs.pd, cs.pd}}).Done()
					}
					if strings.HasSuffix(method, "-fwd") {
						return []*Node{out}
					}
					loss := ReduceAllSum(Square(out))
					return Gradient(loss, x, k)
				})
				if _, err := exec.Exec(x, k); err != nil {
					b.Skipf("%s: %v", method, err)
				}
				b.ResetTimer()
				for range b.N {
					exec.MustExec(x, k)
				}
				f := flops
				if strings.HasSuffix(method, "-fwd") {
					f /= 3
				}
				b.ReportMetric(f*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// conv2DShifted is the alternative formulation measured against im2col:
// stride 1, the input zero-padded with Concatenate, and one product per
// kernel tap with a shifted Slice of it, summed. Its gradient needs the
// Slice gradient registered by RegisterFastGradients.
func conv2DShifted(x, kernel *Node, pad int) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	k := kernel.Shape().Dimensions[0]
	g := x.Graph()
	if pad > 0 {
		zh := Zeros(g, shapeF32(b, pad, w, c))
		x = Concatenate([]*Node{zh, x, zh}, 1)
		zw := Zeros(g, shapeF32(b, h+2*pad, pad, c))
		x = Concatenate([]*Node{zw, x, zw}, 2)
	}
	oh, ow := h+2*pad-k+1, w+2*pad-k+1
	var out *Node
	for ky := range k {
		for kx := range k {
			s := Slice(x, AxisRange(), AxisRange(ky, ky+oh), AxisRange(kx, kx+ow), AxisRange())
			tap := Squeeze(Slice(kernel, AxisElem(ky), AxisElem(kx), AxisRange(), AxisRange()), 0, 1)
			y := DotGeneral(s, []int{3}, nil, tap, []int{0}, nil)
			if out == nil {
				out = y
			} else {
				out = Add(out, y)
			}
		}
	}
	return out
}

// BenchmarkWeightGradientDot times the product behind a convolution's
// weight gradient, patches^T . dY ([N, K]^T x [N, F]), which GoMLX's pure-Go
// backend runs on its single-threaded "small" path when K*F is small.
func BenchmarkWeightGradientDot(b *testing.B) {
	be := testBackend(b)
	const n, kk, f = 32 * 32 * 32, 576, 64
	rng := rand.New(rand.NewPCG(3, 4))
	p := tensors.FromFlatDataAndDimensions(randSlice(rng, n*kk), n, kk)
	dy := tensors.FromFlatDataAndDimensions(randSlice(rng, n*f), n, f)
	for _, split := range []int{1, 2, 4, 8, 16} {
		b.Run(fmt.Sprintf("split%d", split), func(b *testing.B) {
			exec := MustNewExec(be, func(p, dy *Node) *Node {
				if split == 1 {
					return DotGeneral(p, []int{0}, nil, dy, []int{0}, nil)
				}
				ps := Reshape(p, split, n/split, kk)
				dys := Reshape(dy, split, n/split, f)
				return ReduceSum(DotGeneral(ps, []int{1}, []int{0}, dys, []int{1}, []int{0}), 0)
			})
			exec.MustExec(p, dy)
			b.ResetTimer()
			for range b.N {
				exec.MustExec(p, dy)
			}
			b.ReportMetric(2*float64(n*kk*f)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkForwardDot compares, for the product behind a convolution's
// forward pass [N, K] x [K, F], GoMLX's pure-Go "large" path (blocks of
// 64x64, padded) with chunking N into S batch examples so that each is
// "small" (no padding, one goroutine per example).
func BenchmarkForwardDot(b *testing.B) {
	be := testBackend(b)
	for _, sh := range []struct{ n, k, f int }{{32768, 27, 32}, {32768, 27, 64}, {32768, 288, 32}, {32768, 576, 64}, {8192, 1152, 128}, {32768, 144, 16}} {
		rng := rand.New(rand.NewPCG(3, 4))
		p := tensors.FromFlatDataAndDimensions(randSlice(rng, sh.n*sh.k), sh.n, sh.k)
		w := tensors.FromFlatDataAndDimensions(randSlice(rng, sh.k*sh.f), sh.k, sh.f)
		for _, chunks := range []int{1, 16, 64, 256} {
			if chunks > 1 && (sh.n/chunks)*sh.f > 16*64*64 {
				continue
			}
			b.Run(fmt.Sprintf("N%d_K%d_F%d/chunks%d", sh.n, sh.k, sh.f, chunks), func(b *testing.B) {
				exec := MustNewExec(be, func(p, w *Node) *Node {
					if chunks == 1 {
						return DotGeneral(p, []int{1}, nil, w, []int{0}, nil)
					}
					ps := Reshape(p, chunks, sh.n/chunks, sh.k)
					ws := BroadcastToDims(InsertAxes(w, 0), chunks, sh.k, sh.f)
					return Reshape(DotGeneral(ps, []int{2}, []int{0}, ws, []int{1}, []int{0}), sh.n, sh.f)
				})
				exec.MustExec(p, w)
				b.ResetTimer()
				for range b.N {
					exec.MustExec(p, w)
				}
				b.ReportMetric(2*float64(sh.n*sh.k*sh.f)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkDotGeneralGradient compares GoMLX's built-in DotGeneral gradient
// with the registered one on the product of a small convolution layer,
// [2048, 576] x [576, 64] (ResNet-18 layer 1 at batch 2).
func BenchmarkDotGeneralGradient(b *testing.B) {
	be := testBackend(b)
	const m, k, n = 2048, 576, 64
	rng := rand.New(rand.NewPCG(8, 9))
	lhs := tensors.FromFlatDataAndDimensions(randSlice(rng, m*k), m, k)
	rhs := tensors.FromFlatDataAndDimensions(randSlice(rng, k*n), k, n)
	for _, which := range []string{"builtin", "fast"} {
		b.Run(which, func(b *testing.B) {
			if which == "builtin" {
				RestoreBuiltinGradients()
				defer RegisterFastGradients()
			}
			exec := MustNewExec(be, func(lhs, rhs *Node) []*Node {
				out := DotGeneral(lhs, []int{1}, nil, rhs, []int{0}, nil)
				return Gradient(ReduceAllSum(Square(out)), lhs, rhs)
			})
			exec.MustExec(lhs, rhs)
			b.ResetTimer()
			for range b.N {
				exec.MustExec(lhs, rhs)
			}
		})
	}
}

// BenchmarkBatchNormReLUPool times a training-mode BatchNorm, ReLU and
// MaxPool2x2 with their gradients at cnn4's first layer (B=128 views, 32x32,
// 32 channels), with the backend's fused ops (FusedOps) and without:
//
//	go test ./tsimcne/nn -run '^$' -bench BatchNormReLUPool -benchtime 20x
func BenchmarkBatchNormReLUPool(b *testing.B) {
	be := testBackend(b)
	const n, hw, c = 128, 32, 32
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensors.FromFlatDataAndDimensions(randSlice(rng, n*hw*hw*c), n, hw, hw, c)
	for _, fused := range []bool{true, false} {
		b.Run(fmt.Sprintf("fused=%v", fused), func(b *testing.B) {
			prev := FusedOps(fused)
			defer FusedOps(prev)
			ctx := context.New()
			exec := context.MustNewExec(be, ctx, func(ctx *context.Context, x *Node) []*Node {
				ctx.SetTraining(x.Graph(), true)
				y := MaxPool2x2(ReLU(BatchNorm(ctx.In("bn"), x).Done()))
				return Gradient(ReduceAllSum(Square(y)), x)
			})
			exec.MustExec(x)
			b.ResetTimer()
			for range b.N {
				exec.MustExec(x)
			}
		})
	}
}
