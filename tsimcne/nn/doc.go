// Package nn holds the graph building blocks of t-SimCNE's networks —
// convolution, batch normalisation, linear layers, activations and pooling —
// written so that they train on GoMLX's pure-Go backend ("go", simplego).
//
// GoMLX v0.26.0's own layers do not train there: layers.Convolution's input
// gradient needs the Reverse op, layers/batchnorm needs BatchNormForTraining
// and BatchNormForInference, the gradients of Slice, MeanPool and MaxPool need
// Pad and SelectAndScatterMax, none of which the backend implements, and its
// native convolution is single-threaded. The layers here use only ops the
// backend implements, in the forward pass and in their gradients (see
// backends/simplego/capabilities.go): Gather/ScatterSum, DotGeneral,
// Concatenate, Reshape, Reduce*, Where and element-wise arithmetic.
//
// On the pure-Go backend with tsimcne/accel, 3x3 convolutions at stride 1
// are computed with Winograd's minimal filtering F(4x4, 3x3) or F(2x2, 3x3)
// (2-4x fewer multiply-adds than im2col, gradients included; see
// Conv2DWithKernel and ConvMode); other convolutions are im2col.
//
// Importing the package also replaces GoMLX's gradients of DotGeneral and
// Dot by much faster ones, that of Slice by one without Pad, so Slice
// trains on the pure-Go backend too, and that of Where (ReLU) by one that
// builds no tensor of zeros (see RegisterFastGradients).
//
// Like pkg/ml/layers, each layer takes a *context.Context and creates its
// variables in the context's current scope; callers pick scopes with ctx.In.
// Layers look at ctx.IsTraining(g) for training-time behaviour and at the
// scoped hyperparameter ParamTrainable to freeze sub-trees:
//
//	ctx.In("backbone").SetParam(nn.ParamTrainable, false) // freeze everything built under "backbone"
package nn

import "github.com/gomlx/gomlx/pkg/ml/context"

// ParamTrainable is a scoped context hyperparameter (bool, default true):
// layers built in a scope where it is false mark their learnable variables
// not trainable (Variable.Trainable = false), so optimizers leave them
// alone. Layers set the flag every time they are built, so setting the
// parameter back to true and rebuilding unfreezes them. Batch-norm running
// statistics are never trainable, and batch norm still normalises with batch
// statistics (and updates its running averages) in training graphs when
// frozen, as in PyTorch after requires_grad_(False).
const ParamTrainable = "nn_trainable"

// trainable reads ParamTrainable in ctx's scope.
func trainable(ctx *context.Context) bool {
	return context.GetParamOr(ctx, ParamTrainable, true)
}
