package nn

import (
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Defaults of BatchNorm, PyTorch's (nn.BatchNorm2d).
const (
	// DefaultBatchNormMomentum is the weight of the current batch in the
	// running averages: running = (1-momentum)*running + momentum*batch.
	DefaultBatchNormMomentum = 0.1
	// DefaultBatchNormEpsilon is added to the variance before the square root.
	DefaultBatchNormEpsilon = 1e-5
)

// useFusedBatchNorm reports whether x's batch norm should use the backend's
// ops (see FusedOps).
func useFusedBatchNorm(x *Node) bool {
	return useBackendOps(x, backends.OpTypeBatchNormForTraining, backends.OpTypeBatchNormGradient)
}

// BatchNormConfig configures a batch normalisation; create it with
// BatchNorm and build it with Done.
type BatchNormConfig struct {
	ctx               *context.Context
	x                 *Node
	momentum, epsilon float64
	frozenAverages    bool
}

// BatchNorm starts a batch normalisation of x over all axes but the last
// (the features/channels), as PyTorch's BatchNorm1d/2d in NHWC layout:
//
//	y = (x - mean) / sqrt(var + eps) * scale + offset
//
// In training (ctx.IsTraining(g), GoMLX's convention: train.Trainer sets it
// for its training graph) mean and var are the batch's (biased variance),
// the gradient flows through them, and the running averages are updated:
//
//	runningMean = (1-momentum)*runningMean + momentum*mean
//	runningVar  = (1-momentum)*runningVar  + momentum*var*n/(n-1)   (unbiased, n values per feature)
//
// Otherwise (inference) the running averages normalise.
//
// It is written with ReduceMean, Sqrt and Div because GoMLX's pure-Go
// backend implements neither BatchNormForTraining nor BatchNormForInference
// (the ops layers/batchnorm uses), and GoMLX's own direct formulation stops
// the gradient through the batch statistics.
//
// Variables, in ctx's current scope: "scale" (ones) and "offset" (zeros),
// trainable; "mean" (zeros) and "variance" (ones), not trainable.
// Defaults: momentum 0.1, epsilon 1e-5 (PyTorch's).
func BatchNorm(ctx *context.Context, x *Node) *BatchNormConfig {
	return &BatchNormConfig{
		ctx:      ctx,
		x:        x,
		momentum: DefaultBatchNormMomentum,
		epsilon:  DefaultBatchNormEpsilon,
	}
}

// Momentum sets the weight of the current batch in the running averages
// (PyTorch's convention; default 0.1).
func (c *BatchNormConfig) Momentum(momentum float64) *BatchNormConfig {
	c.momentum = momentum
	return c
}

// Epsilon sets the value added to the variance (default 1e-5).
func (c *BatchNormConfig) Epsilon(epsilon float64) *BatchNormConfig {
	c.epsilon = epsilon
	return c
}

// FrozenAverages keeps the running averages unchanged in training (batch
// statistics still normalise). Default false.
func (c *BatchNormConfig) FrozenAverages(frozen bool) *BatchNormConfig {
	c.frozenAverages = frozen
	return c
}

// Done creates (or reuses) the variables and returns the normalised x.
func (c *BatchNormConfig) Done() *Node {
	x := c.x
	checkFloat("nn.BatchNorm", x)
	if x.Rank() < 2 {
		panicf("nn.BatchNorm: input needs a batch and a feature axis, got %s", x.Shape())
	}
	g := x.Graph()
	dtype := x.DType()
	rank := x.Rank()
	features := x.Shape().Dimensions[rank-1]
	varShape := shapes.Make(dtype, features)
	ctx := c.ctx
	isTrainable := trainable(ctx)
	scaleVar := ctx.WithInitializer(oneInitializer).VariableWithShape("scale", varShape).SetTrainable(isTrainable)
	offsetVar := ctx.WithInitializer(zeroInitializer).VariableWithShape("offset", varShape).SetTrainable(isTrainable)
	meanVar := ctx.WithInitializer(zeroInitializer).VariableWithShape("mean", varShape).SetTrainable(false)
	varianceVar := ctx.WithInitializer(oneInitializer).VariableWithShape("variance", varShape).SetTrainable(false)

	reduceAxes := iotaFrom(0, rank-1)
	// Broadcastable [1, ..., 1, features] view of a per-feature vector.
	expandDims := make([]int, rank)
	for i := range expandDims {
		expandDims[i] = 1
	}
	expandDims[rank-1] = features
	expand := func(v *Node) *Node { return Reshape(v, expandDims...) }

	scale := scaleVar.ValueGraph(g)
	offset := offsetVar.ValueGraph(g)
	n := x.Shape().Size() / features
	updateAverages := func(mean, variance *Node) {
		unbias := 1.0
		if n > 1 {
			unbias = float64(n) / float64(n-1)
		}
		m := c.momentum
		batchMean := StopGradient(mean)
		batchVar := StopGradient(variance)
		meanVar.SetValueGraph(Add(MulScalar(meanVar.ValueGraph(g), 1-m), MulScalar(batchMean, m)))
		varianceVar.SetValueGraph(Add(MulScalar(varianceVar.ValueGraph(g), 1-m), MulScalar(batchVar, m*unbias)))
	}
	if ctx.IsTraining(g) && useFusedBatchNorm(x) {
		// Inference stays element-wise below: GoMLX v0.26 defines no
		// gradient for BatchNormForInference, and it is three cheap passes.
		normalized, mean, variance := InternalBatchNormForTraining(x, scale, offset, float32(c.epsilon), rank-1)
		if !c.frozenAverages {
			updateAverages(mean, variance)
		}
		return normalized
	}
	var centered, variance *Node
	if ctx.IsTraining(g) {
		mean := ReduceMean(x, reduceAxes...) // [features]
		centered = Sub(x, expand(mean))
		variance = ReduceMean(Square(centered), reduceAxes...) // biased, [features]
		if !c.frozenAverages {
			updateAverages(mean, variance)
		}
	} else {
		centered = Sub(x, expand(meanVar.ValueGraph(g)))
		variance = varianceVar.ValueGraph(g)
	}
	// Per-feature factor scale/sqrt(var+eps): the Div and Sqrt act on [features] only.
	factor := Div(scale, Sqrt(AddScalar(variance, c.epsilon)))
	return Add(Mul(centered, expand(factor)), expand(offset))
}
