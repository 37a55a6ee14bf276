package model

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

func testBackend(tb testing.TB) backends.Backend {
	tb.Helper()
	b, err := backend.Default()
	if err != nil {
		tb.Fatalf("backend: %v", err)
	}
	return b
}

// randomImages returns a [n, size, size, 3] tensor of uniform [0,1) values.
func randomImages(seed uint64, n, size int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := make([]float32, n*size*size*3)
	for i := range data {
		data[i] = rng.Float32()
	}
	return tensors.FromFlatDataAndDimensions(data, n, size, size, 3)
}

// LossFn maps the head output (and the features) to a scalar loss.
type lossFn func(out, features *Node) *Node

// sumOfSquares is a simple loss: the mean squared output.
func sumOfSquares(out, _ *Node) *Node { return ReduceAllMean(Square(out)) }

// newTrainStep returns an Exec that runs one training step (forward,
// backward, plain SGD update of the trainable variables) on images and
// returns the loss before the update.
func newTrainStep(tb testing.TB, be backends.Backend, ctx *context.Context, cfg Config, lr float64, loss lossFn) *context.Exec {
	tb.Helper()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, images *Node) *Node {
		g := images.Graph()
		ctx.SetTraining(g, true)
		out, features := Build(ctx, cfg, images)
		l := loss(out, features)
		grads := ctx.BuildTrainableVariablesGradientsGraph(l)
		i := 0
		for v := range ctx.IterVariables() {
			if !v.Trainable || !v.InUseByGraph(g) {
				continue
			}
			v.SetValueGraph(Sub(v.ValueGraph(g), MulScalar(grads[i], lr)))
			i++
		}
		return l
	})
	if err != nil {
		tb.Fatalf("NewExec: %v", err)
	}
	return exec
}

// newInference returns an Exec computing (out, features) in inference mode.
func newInference(tb testing.TB, be backends.Backend, ctx *context.Context, cfg Config) *context.Exec {
	tb.Helper()
	exec, err := context.NewExec(be, ctx, func(ctx *context.Context, images *Node) (*Node, *Node) {
		return Build(ctx, cfg, images)
	})
	if err != nil {
		tb.Fatalf("NewExec: %v", err)
	}
	return exec
}
