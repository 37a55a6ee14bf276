package model_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/model"
)

// Build the stage-1 network (here the small "cnn4" backbone) and compute
// the 128-D output and the backbone features of two images in inference mode.
func ExampleBuild() {
	ctx := context.New()
	cfg := model.DefaultConfig() // resnet18, 1024 hidden, 128-D output, 32x32.
	cfg.Backbone = "cnn4"
	exec := context.MustNewExec(backend.MustDefault(), ctx, func(ctx *context.Context, images *Node) (*Node, *Node) {
		return model.Build(ctx, cfg, images)
	})
	images := tensors.FromFlatDataAndDimensions(make([]float32, 2*32*32*3), 2, 32, 32, 3)
	res := exec.MustExec(images)
	fmt.Println("output:", res[0].Shape())
	fmt.Println("features:", res[1].Shape())
	// Output:
	// output: (Float32)[2 128]
	// features: (Float32)[2 256]
}

// The three t-SimCNE stages share one context: stage 2 adds the 2-D output
// layer under head/out2 and freezes the rest; stage 3 trains everything.
func ExampleStage() {
	for stage := 1; stage <= 3; stage++ {
		cfg, err := model.Stage(stage, "resnet18", 2)
		if err != nil {
			panic(err)
		}
		fmt.Printf("stage %d: out=%d frozen=%v scope=%s/%s\n",
			stage, cfg.OutDim, cfg.FreezeBackbone, model.HeadScope, model.OutputScope(cfg.OutDim))
	}
	// Output:
	// stage 1: out=128 frozen=false scope=head/out128
	// stage 2: out=2 frozen=true scope=head/out2
	// stage 3: out=2 frozen=false scope=head/out2
}
