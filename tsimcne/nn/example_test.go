package nn_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/nn"
)

// A convolution block as in a ResNet stem: 3x3 convolution (no bias), batch
// norm and ReLU, then global average pooling, one training step's forward
// pass on the pure-Go backend.
func ExampleConv2D() {
	ctx := context.New()
	exec := context.MustNewExec(backend.MustDefault(), ctx, func(ctx *context.Context, images *Node) *Node {
		ctx.SetTraining(images.Graph(), true) // Batch statistics; running averages updated.
		x := nn.Conv2D(ctx.In("conv"), images, 16, 3).Stride(2).Done()
		x = nn.ReLU(nn.BatchNorm(ctx.In("bn"), x).Done())
		return nn.GlobalAvgPool(x)
	})
	images := tensors.FromFlatDataAndDimensions(make([]float32, 4*32*32*3), 4, 32, 32, 3)
	fmt.Println(exec.MustExec(images)[0].Shape())
	fmt.Println(ctx.In("conv").GetVariable("weights").Shape())
	// Output:
	// (Float32)[4 16]
	// (Float32)[3 3 3 16]
}
