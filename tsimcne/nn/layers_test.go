package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// refBatchNorm computes PyTorch's training-mode batch norm of x [n, f]
// (features last) and the gradients of sum(y*r).
func refBatchNorm(x []float32, n, f int, scale, offset []float32, eps float64, r []float32) (
	y, dx, dScale, dOffset, mean, biasedVar []float64) {
	y = make([]float64, n*f)
	dx = make([]float64, n*f)
	dScale = make([]float64, f)
	dOffset = make([]float64, f)
	mean = make([]float64, f)
	biasedVar = make([]float64, f)
	for j := range f {
		for i := range n {
			mean[j] += float64(x[i*f+j])
		}
		mean[j] /= float64(n)
		for i := range n {
			d := float64(x[i*f+j]) - mean[j]
			biasedVar[j] += d * d
		}
		biasedVar[j] /= float64(n)
		sigma := math.Sqrt(biasedVar[j] + eps)
		var meanDxhat, meanDxhatXhat float64
		xhat := make([]float64, n)
		for i := range n {
			xhat[i] = (float64(x[i*f+j]) - mean[j]) / sigma
			y[i*f+j] = xhat[i]*float64(scale[j]) + float64(offset[j])
			dxhat := float64(r[i*f+j]) * float64(scale[j])
			meanDxhat += dxhat / float64(n)
			meanDxhatXhat += dxhat * xhat[i] / float64(n)
			dScale[j] += float64(r[i*f+j]) * xhat[i]
			dOffset[j] += float64(r[i*f+j])
		}
		for i := range n {
			dxhat := float64(r[i*f+j]) * float64(scale[j])
			dx[i*f+j] = (dxhat - meanDxhat - xhat[i]*meanDxhatXhat) / sigma
		}
	}
	return
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// withFusedOps runs test with FusedOps on and off; with it on, the default
// backend (pure Go with tsimcne/accel, or XLA) must have the fused ops,
// unless it is the pure-Go one without tsimcne/accel (built with -tags
// noaccel, or TSIMCNE_FAST_KERNELS=0), which has none: then only the
// element-wise versions are tested.
func withFusedOps(t *testing.T, test func(t *testing.T)) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("fused=%v", on), func(t *testing.T) {
			prev := FusedOps(on)
			defer FusedOps(prev)
			if on {
				be := testBackend(t)
				ops := be.Capabilities().Operations
				if be.String() == "go" && !accel.Installed() {
					t.Skip("tsimcne/accel is not installed: the pure-Go backend has no fused ops")
				}
				if !ops[backends.OpTypeBatchNormForTraining] || !ops[backends.OpTypeSelectAndScatterMax] {
					t.Fatalf("backend %s lacks the fused ops (%T)", be.Name(), be)
				}
			}
			test(t)
		})
	}
}

func TestBatchNormTrainingMatchesReference(t *testing.T) {
	withFusedOps(t, testBatchNormTrainingMatchesReference)
}

func testBatchNormTrainingMatchesReference(t *testing.T) {
	be := testBackend(t)
	const b, h, w, f = 4, 3, 2, 5
	n := b * h * w
	rng := rand.New(rand.NewPCG(11, 12))
	x := randSlice(rng, n*f)
	for i := range x {
		x[i] = x[i]*float32(1+i%f) + float32(i%f) // Distinct mean and spread per feature.
	}
	r := randSlice(rng, n*f)
	scale := []float32{0.5, 1, 1.5, -2, 3}
	offset := []float32{0.1, -0.2, 0.3, 0, 1}

	ctx := context.New()
	bnCtx := ctx.In("bn")
	bnCtx.VariableWithValue("scale", scale)
	bnCtx.VariableWithValue("offset", offset)
	exec := context.MustNewExec(be, ctx.Checked(false), func(ctx *context.Context, x, r *Node) []*Node {
		ctx.SetTraining(x.Graph(), true)
		y := BatchNorm(ctx.In("bn"), x).Done()
		loss := ReduceAllSum(Mul(y, r))
		scaleV := ctx.In("bn").GetVariable("scale").ValueGraph(x.Graph())
		offsetV := ctx.In("bn").GetVariable("offset").ValueGraph(x.Graph())
		grads := Gradient(loss, x, scaleV, offsetV)
		return append([]*Node{y}, grads...)
	})
	xt := tensors.FromFlatDataAndDimensions(x, b, h, w, f)
	rt := tensors.FromFlatDataAndDimensions(r, b, h, w, f)
	res := exec.MustExec(xt, rt)
	wantY, wantDx, wantDScale, wantDOffset, mean, biasedVar := refBatchNorm(x, n, f, scale, offset, 1e-5, r)
	assertClose(t, "y", flat32(t, res[0]), to32(wantY), 1e-4, 1e-4)
	assertClose(t, "d/dx", flat32(t, res[1]), to32(wantDx), 1e-4, 1e-4)
	assertClose(t, "d/dscale", flat32(t, res[2]), to32(wantDScale), 1e-4, 1e-4)
	assertClose(t, "d/doffset", flat32(t, res[3]), to32(wantDOffset), 1e-4, 1e-4)

	// Running averages after one step from (0, 1): PyTorch's momentum 0.1, unbiased variance.
	wantMean := make([]float64, f)
	wantVar := make([]float64, f)
	for j := range f {
		wantMean[j] = 0.1 * mean[j]
		wantVar[j] = 0.9 + 0.1*biasedVar[j]*float64(n)/float64(n-1)
	}
	gotMean := flat32(t, ctx.In("bn").GetVariable("mean").MustValue())
	gotVar := flat32(t, ctx.In("bn").GetVariable("variance").MustValue())
	assertClose(t, "running mean", gotMean, to32(wantMean), 1e-5, 1e-5)
	assertClose(t, "running variance", gotVar, to32(wantVar), 1e-5, 1e-5)
	if ctx.In("bn").GetVariable("mean").Trainable || ctx.In("bn").GetVariable("variance").Trainable {
		t.Error("running statistics must not be trainable")
	}

	// Inference: normalises with the running averages; gradient is scale/sqrt(var+eps).
	infer := context.MustNewExec(be, ctx.Checked(false), func(ctx *context.Context, x, r *Node) []*Node {
		y := BatchNorm(ctx.In("bn"), x).Done()
		return []*Node{y, Gradient(ReduceAllSum(Mul(y, r)), x)[0]}
	})
	res = infer.MustExec(xt, rt)
	wantY = make([]float64, n*f)
	wantDx = make([]float64, n*f)
	for i := range n {
		for j := range f {
			sigma := math.Sqrt(float64(gotVar[j]) + 1e-5)
			wantY[i*f+j] = (float64(x[i*f+j])-float64(gotMean[j]))/sigma*float64(scale[j]) + float64(offset[j])
			wantDx[i*f+j] = float64(r[i*f+j]) * float64(scale[j]) / sigma
		}
	}
	assertClose(t, "inference y", flat32(t, res[0]), to32(wantY), 1e-4, 1e-4)
	assertClose(t, "inference d/dx", flat32(t, res[1]), to32(wantDx), 1e-4, 1e-4)
	// Inference leaves the running averages alone.
	assertClose(t, "running mean after inference", flat32(t, ctx.In("bn").GetVariable("mean").MustValue()), gotMean, 0, 0)
}

func TestDenseMatchesReferenceAndInit(t *testing.T) {
	be := testBackend(t)
	const batch, fanIn, outputs = 3, 400, 300
	rng := rand.New(rand.NewPCG(21, 22))
	x := randSlice(rng, batch*fanIn)
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(42))
	exec := context.MustNewExec(be, ctx, func(ctx *context.Context, x *Node) *Node {
		return Dense(ctx.In("dense"), x, outputs).Done()
	})
	y := flat32(t, exec.MustExec(tensors.FromFlatDataAndDimensions(x, batch, fanIn))[0])
	wv := ctx.In("dense").GetVariable("weights")
	bv := ctx.In("dense").GetVariable("bias")
	if wv == nil || bv == nil {
		t.Fatal("Dense did not create weights and bias in its scope")
	}
	if d := wv.Shape().Dimensions; d[0] != fanIn || d[1] != outputs {
		t.Fatalf("weights shape %v, want [%d %d]", d, fanIn, outputs)
	}
	w := flat32(t, wv.MustValue())
	bias := flat32(t, bv.MustValue())
	want := make([]float32, batch*outputs)
	for i := range batch {
		for o := range outputs {
			acc := float64(bias[o])
			for k := range fanIn {
				acc += float64(x[i*fanIn+k]) * float64(w[k*outputs+o])
			}
			want[i*outputs+o] = float32(acc)
		}
	}
	assertClose(t, "output", y, want, 1e-4, 1e-4)

	// PyTorch's default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and bias.
	bound := 1 / math.Sqrt(fanIn)
	checkUniform(t, "weights", w, bound)
	checkUniform(t, "bias", bias, bound)
}

// checkUniform checks values lie in [-bound, bound] with the variance of
// U(-bound, bound) (bound^2/3) within 10%.
func checkUniform(t *testing.T, what string, v []float32, bound float64) {
	t.Helper()
	var sum, sq float64
	for _, x := range v {
		if math.Abs(float64(x)) > bound*(1+1e-6) {
			t.Fatalf("%s: value %g outside [-%g, %g]", what, x, bound, bound)
		}
		sum += float64(x)
		sq += float64(x) * float64(x)
	}
	n := float64(len(v))
	variance := sq/n - (sum/n)*(sum/n)
	if want := bound * bound / 3; math.Abs(variance-want) > 0.1*want {
		t.Errorf("%s: variance %g, want %g (uniform in ±%g)", what, variance, want, bound)
	}
}

func TestConv2DKaimingInitAndBias(t *testing.T) {
	be := testBackend(t)
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(7))
	const channels, filters = 32, 64
	exec := context.MustNewExec(be, ctx, func(ctx *context.Context, x *Node) *Node {
		return Conv2D(ctx.In("conv"), x, filters, 3).UseBias(true).Done()
	})
	x := tensors.FromFlatDataAndDimensions(make([]float32, 2*4*4*channels), 2, 4, 4, channels)
	out := exec.MustExec(x)[0]
	if d := out.Shape().Dimensions; d[0] != 2 || d[1] != 4 || d[2] != 4 || d[3] != filters {
		t.Fatalf("output shape %v, want [2 4 4 %d]", d, filters)
	}
	w := flat32(t, ctx.In("conv").GetVariable("weights").MustValue())
	var sum, sq float64
	for _, v := range w {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(w))
	std := math.Sqrt(sq/n - (sum/n)*(sum/n))
	want := math.Sqrt(2.0 / (3 * 3 * filters)) // kaiming_normal_(mode="fan_out", nonlinearity="relu")
	if math.Abs(std-want) > 0.05*want || math.Abs(sum/n) > 0.05*want {
		t.Errorf("weights mean %g std %g, want 0 and %g", sum/n, std, want)
	}
	bias := flat32(t, ctx.In("conv").GetVariable("bias").MustValue())
	for _, v := range bias {
		if v != 0 {
			t.Fatalf("bias initialised to %g, want 0", v)
		}
	}
	// With a zero input the output is the bias (zero).
	for _, v := range flat32(t, out) {
		if v != 0 {
			t.Fatalf("zero input gave output %g", v)
		}
	}
}

func TestActivationsAndPoolingGradients(t *testing.T) {
	withFusedOps(t, testActivationsAndPoolingGradients)
}

func testActivationsAndPoolingGradients(t *testing.T) {
	be := testBackend(t)
	x := []float32{
		-1, 2, 0.5, -3,
		4, -0.25, 1, 6,
		0, 7, -2, -1,
		3, 1, 2, 5,
	} // [1, 4, 4, 1]
	xt := tensors.FromFlatDataAndDimensions(x, 1, 4, 4, 1)
	res := MustNewExec(be, func(x *Node) []*Node {
		relu := ReLU(x)
		maxPool := MaxPool2x2(x)
		avgPool := AvgPool2x2(x)
		gap := GlobalAvgPool(x)
		// Distinct adjoint weights per output element.
		w := func(n *Node) *Node { return AddScalar(IotaFull(n.Graph(), n.Shape()), 1) }
		return []*Node{
			relu, Gradient(ReduceAllSum(Mul(relu, w(relu))), x)[0],
			maxPool, Gradient(ReduceAllSum(Mul(maxPool, w(maxPool))), x)[0],
			avgPool, Gradient(ReduceAllSum(Mul(avgPool, w(avgPool))), x)[0],
			gap, Gradient(ReduceAllSum(Mul(gap, w(gap))), x)[0],
		}
	}).MustExec(xt)
	wantRelu := make([]float32, 16)
	wantReluGrad := make([]float32, 16)
	for i, v := range x {
		if v > 0 {
			wantRelu[i] = v
			wantReluGrad[i] = float32(i + 1)
		}
	}
	assertClose(t, "relu", flat32(t, res[0]), wantRelu, 0, 0)
	assertClose(t, "relu grad (0 at x=0)", flat32(t, res[1]), wantReluGrad, 0, 0)
	assertClose(t, "maxpool", flat32(t, res[2]), []float32{4, 6, 7, 5}, 0, 0)
	assertClose(t, "maxpool grad", flat32(t, res[3]), []float32{
		0, 0, 0, 0,
		1, 0, 0, 2,
		0, 3, 0, 0,
		0, 0, 0, 4,
	}, 0, 0)
	assertClose(t, "avgpool", flat32(t, res[4]), []float32{1.1875, 1.125, 2.75, 1}, 1e-6, 0)
	assertClose(t, "avgpool grad", flat32(t, res[5]), []float32{
		0.25, 0.25, 0.5, 0.5,
		0.25, 0.25, 0.5, 0.5,
		0.75, 0.75, 1, 1,
		0.75, 0.75, 1, 1,
	}, 1e-6, 0)
	var mean float32
	for _, v := range x {
		mean += v / 16
	}
	assertClose(t, "global average pool", flat32(t, res[6]), []float32{mean}, 1e-6, 0)
	wantGap := make([]float32, 16)
	for i := range wantGap {
		wantGap[i] = 1.0 / 16
	}
	assertClose(t, "global average pool grad", flat32(t, res[7]), wantGap, 1e-7, 0)
}

func TestParamTrainableFreezes(t *testing.T) {
	be := testBackend(t)
	ctx := context.New().Checked(false)
	build := func(frozen bool) {
		ctx.In("frozen").SetParam(ParamTrainable, !frozen)
		exec := context.MustNewExec(be, ctx, func(ctx *context.Context, x *Node) *Node {
			ctx.SetTraining(x.Graph(), true)
			h := Conv2D(ctx.In("frozen").In("conv"), x, 4, 3).UseBias(true).Done()
			h = BatchNorm(ctx.In("frozen").In("bn"), h).Done()
			return Dense(ctx.In("free"), Reshape(h, 2, -1), 3).Done()
		})
		exec.MustExec(tensors.FromFlatDataAndDimensions(make([]float32, 2*4*4*2), 2, 4, 4, 2))
	}
	check := func(frozen bool) {
		t.Helper()
		for v := range ctx.IterVariables() {
			if !strings.HasPrefix(v.Scope(), "/frozen") && v.Scope() != "/free" {
				continue // E.g. the random number generator's state.
			}
			statistic := v.Name() == "mean" || v.Name() == "variance"
			want := !statistic && (!frozen || v.Scope() == "/free")
			if v.Trainable != want {
				t.Errorf("frozen=%v: %s/%s Trainable=%v, want %v", frozen, v.Scope(), v.Name(), v.Trainable, want)
			}
		}
	}
	build(true)
	check(true)
	build(false)
	check(false)
}
