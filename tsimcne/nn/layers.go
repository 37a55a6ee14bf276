package nn

import (
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// DenseConfig configures a fully connected layer; create it with Dense and
// build it with Done.
type DenseConfig struct {
	ctx        *context.Context
	x          *Node
	outputs    int
	useBias    bool
	weightInit context.VariableInitializer
}

// Dense starts a linear layer y = x·W + b on the last axis of x (any
// leading axes are kept), like PyTorch's nn.Linear: with bias, weights and
// bias drawn from U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (PyTorch's default
// initialisation; fanIn is x's last dimension).
//
// Variables, in ctx's current scope: "weights" [fanIn, outputs] and "bias"
// [outputs].
func Dense(ctx *context.Context, x *Node, outputs int) *DenseConfig {
	return &DenseConfig{ctx: ctx, x: x, outputs: outputs, useBias: true}
}

// UseBias sets whether the layer has a bias (default true).
func (c *DenseConfig) UseBias(useBias bool) *DenseConfig {
	c.useBias = useBias
	return c
}

// WeightInitializer replaces the default U(-1/sqrt(fanIn), 1/sqrt(fanIn))
// initialisation of the weights (the bias keeps the default), e.g.
// NormalInitializer(ctx, 1) for t-SimCNE's new 2-D output layer.
func (c *DenseConfig) WeightInitializer(init context.VariableInitializer) *DenseConfig {
	c.weightInit = init
	return c
}

// Done creates (or reuses) the variables and returns the layer's output.
func (c *DenseConfig) Done() *Node {
	x := c.x
	checkFloat("nn.Dense", x)
	if x.Rank() < 1 {
		panicf("nn.Dense: input must have rank >= 1, got %s", x.Shape())
	}
	if c.outputs <= 0 {
		panicf("nn.Dense: invalid number of outputs %d", c.outputs)
	}
	g := x.Graph()
	dtype := x.DType()
	fanIn := x.Shape().Dimensions[x.Rank()-1]
	bound := 1 / math.Sqrt(float64(fanIn))
	defaultInit := UniformInitializer(c.ctx, -bound, bound)
	wInit := c.weightInit
	if wInit == nil {
		wInit = defaultInit
	}
	w := c.ctx.WithInitializer(wInit).VariableWithShape("weights", shapes.Make(dtype, fanIn, c.outputs)).
		SetTrainable(trainable(c.ctx))
	y := DotGeneral(x, []int{x.Rank() - 1}, nil, w.ValueGraph(g), []int{0}, nil)
	if c.useBias {
		b := c.ctx.WithInitializer(defaultInit).VariableWithShape("bias", shapes.Make(dtype, c.outputs)).SetTrainable(trainable(c.ctx))
		biasDims := make([]int, y.Rank())
		for i := range biasDims {
			biasDims[i] = 1
		}
		biasDims[y.Rank()-1] = c.outputs
		y = Add(y, Reshape(b.ValueGraph(g), biasDims...))
	}
	return y
}

// ReLU returns max(x, 0). Its gradient is 1 where x > 0 and 0 elsewhere
// (PyTorch's convention at 0).
func ReLU(x *Node) *Node {
	checkFloat("nn.ReLU", x)
	zero := ScalarZero(x.Graph(), x.DType())
	return Where(GreaterThan(x, zero), x, zero)
}

// GlobalAvgPool averages x [batch, height, width, channels] over the
// spatial axes, giving [batch, channels] (PyTorch's AdaptiveAvgPool2d(1) plus
// flatten). Its gradient is a broadcast, which the pure-Go backend supports
// (unlike the Pad that MeanPool's gradient needs).
func GlobalAvgPool(x *Node) *Node {
	if x.Rank() != 4 {
		panicf("nn.GlobalAvgPool: input must be [batch, height, width, channels], got %s", x.Shape())
	}
	return ReduceMean(x, 1, 2)
}

// MaxPool2x2 takes the maximum over non-overlapping 2x2 windows of x
// [batch, height, width, channels] (even height and width), giving
// [batch, height/2, width/2, channels]. Where the backend has ReduceWindow
// and SelectAndScatterMax (see FusedOps) it is GoMLX's MaxPool, whose
// gradient goes to the first maximum of each window; otherwise a Reshape
// plus ReduceMax, whose gradient works on every backend (plain simplego
// lacks SelectAndScatterMax) and passes ties' gradient to every maximal
// element.
func MaxPool2x2(x *Node) *Node {
	if x.Rank() == 4 && useBackendOps(x, backends.OpTypeReduceWindow, backends.OpTypeSelectAndScatterMax) {
		d := x.Shape().Dimensions
		if d[1]%2 == 0 && d[2]%2 == 0 {
			return MaxPool(x).Window(2).Done()
		}
	}
	return pool2x2("nn.MaxPool2x2", x, ReduceMax)
}

// AvgPool2x2 averages non-overlapping 2x2 windows of x [batch, height, width,
// channels] (even height and width), giving [batch, height/2, width/2,
// channels], with a gradient that works on the pure-Go backend.
func AvgPool2x2(x *Node) *Node {
	return pool2x2("nn.AvgPool2x2", x, ReduceMean)
}

func pool2x2(op string, x *Node, reduce func(x *Node, axes ...int) *Node) *Node {
	if x.Rank() != 4 {
		panicf("%s: input must be [batch, height, width, channels], got %s", op, x.Shape())
	}
	d := x.Shape().Dimensions
	if d[1]%2 != 0 || d[2]%2 != 0 {
		panicf("%s: height and width must be even, got %s", op, x.Shape())
	}
	return reduce(Reshape(x, d[0], d[1]/2, 2, d[2]/2, 2, d[3]), 2, 4)
}
