// Package model builds t-SimCNE's network: a backbone (a CIFAR-style
// ResNet-18 by default, or a smaller registered one) followed by the
// projection head Linear(features -> 1024), ReLU, Linear(1024 -> out).
//
// t-SimCNE trains in three stages (Böhm et al., ICLR 2023): stage 1 trains
// everything with a 128-D output; stage 2 replaces the last Linear by a new
// 1024 -> 2 layer and trains only that; stage 3 trains everything in 2-D.
// Here the output layer lives in a scope named after its width
// (OutputScope: "head/out128", "head/out2"), so one context — and one
// checkpoint — holds both, and a stage is selected by Config:
//
//	stage 1: Config{OutDim: 128}
//	stage 2: Config{OutDim: 2, FreezeBackbone: true}
//	stage 3: Config{OutDim: 2}
//
// All layers come from tsimcne/nn and train on GoMLX's pure-Go backend.
package model

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/nn"
)

// Scope names, relative to the context scope given to Build.
const (
	// BackboneScope holds the backbone's variables.
	BackboneScope = "backbone"
	// HeadScope holds the projection head.
	HeadScope = "head"
	// HiddenScope, under HeadScope, holds the first Linear (features -> HiddenDim).
	HiddenScope = "hidden"
)

// OutputScope is the scope, under HeadScope, of the output Linear of the
// given width: "out128", "out2".
func OutputScope(outDim int) string { return fmt.Sprintf("out%d", outDim) }

// Defaults of Config.
const (
	// DefaultBackbone is the paper's CIFAR ResNet-18.
	DefaultBackbone = "resnet18"
	// CPUBackbone is the backbone recommended for GoMLX's pure-Go backend on
	// a few cores: the 4-layer CNN trains about 20x faster than ResNet-18
	// (about 700 vs 36 views/s on 2 cores with tsimcne/accel; see
	// BENCHMARKS.md).
	CPUBackbone = "cnn4"
	// DefaultHiddenDim is the width of the head's hidden layer.
	DefaultHiddenDim = 1024
	// DefaultOutDim is the output width of stage 1.
	DefaultOutDim = 128
	// DefaultInputSize is CIFAR's image size.
	DefaultInputSize = 32
	// DefaultOutputInitStd is the standard deviation of the weights of an
	// output layer of width <= 2, as in the reference implementation
	// (t-simcne v0.3.12, mutate_model: nn.init.normal_(lin.weight, std=1)).
	DefaultOutputInitStd = 1.0
)

// Config selects the network and the training stage.
type Config struct {
	// Backbone is a registered backbone name (see Backbones); default "resnet18".
	Backbone string
	// HiddenDim is the width of the head's hidden layer; default 1024.
	HiddenDim int
	// OutDim is the output width: 128 in stage 1, 2 in stages 2 and 3.
	OutDim int
	// InputSize is the expected height and width of the images (Build
	// rejects other sizes); 0 accepts any size. Default 32.
	InputSize int
	// FreezeBackbone marks every variable but the output layer's as not
	// trainable (t-SimCNE's stage 2). Batch norm keeps normalising with
	// batch statistics and updating its running averages in training graphs.
	FreezeBackbone bool
	// OutputInitStd selects the initialisation of the output layer's
	// weights (the bias always gets PyTorch's default
	// U(-1/sqrt(HiddenDim), 1/sqrt(HiddenDim))):
	//   - 0 (default): as the reference implementation (t-simcne v0.3.12),
	//     N(0, 1) for a layer of width <= 2 (mutate_model draws the new
	//     2-D layer with nn.init.normal_(std=1)), PyTorch's default
	//     U(-1/sqrt(HiddenDim), 1/sqrt(HiddenDim)) otherwise;
	//   - > 0: N(0, OutputInitStd^2);
	//   - < 0: PyTorch's default whatever the width.
	// It only matters when the layer's variables are created.
	OutputInitStd float64
}

// DefaultConfig returns the stage-1 configuration of the paper: ResNet-18,
// hidden width 1024, 128-D output, 32x32 inputs.
func DefaultConfig() Config {
	return Config{
		Backbone:  DefaultBackbone,
		HiddenDim: DefaultHiddenDim,
		OutDim:    DefaultOutDim,
		InputSize: DefaultInputSize,
	}
}

// Stage returns the configuration of t-SimCNE's training stage (1, 2 or 3)
// for the given backbone and output width of stages 2 and 3 (usually 2),
// with the other fields at their defaults.
func Stage(stage int, backbone string, outDim int) (Config, error) {
	cfg := DefaultConfig()
	if backbone != "" {
		cfg.Backbone = backbone
	}
	switch stage {
	case 1:
	case 2, 3:
		cfg.OutDim = outDim
		cfg.FreezeBackbone = stage == 2
	default:
		return Config{}, fmt.Errorf("model.Stage: stage must be 1, 2 or 3, got %d", stage)
	}
	return cfg, cfg.Validate()
}

// withDefaults fills zero fields with defaults.
func (c Config) withDefaults() Config {
	if c.Backbone == "" {
		c.Backbone = DefaultBackbone
	}
	if c.HiddenDim == 0 {
		c.HiddenDim = DefaultHiddenDim
	}
	if c.OutDim == 0 {
		c.OutDim = DefaultOutDim
	}
	if c.OutputInitStd == 0 && c.OutDim <= 2 {
		c.OutputInitStd = DefaultOutputInitStd
	}
	return c
}

// Validate checks the configuration (after filling zero fields with defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := Lookup(c.Backbone); err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	if c.HiddenDim < 0 || c.OutDim < 0 || c.InputSize < 0 {
		return fmt.Errorf("model config: negative HiddenDim (%d), OutDim (%d) or InputSize (%d)",
			c.HiddenDim, c.OutDim, c.InputSize)
	}
	return nil
}

// FeatureDim returns the width of the backbone features of cfg.
func (c Config) FeatureDim() (int, error) {
	b, err := Lookup(c.withDefaults().Backbone)
	if err != nil {
		return 0, err
	}
	return b.FeatureDim, nil
}

// Build builds the network on images [batch, height, width, 3] (float32,
// values as the data pipeline gives them) and returns the head's output
// [batch, OutDim] and the backbone features [batch, FeatureDim] (for kNN
// evaluation and embeddings of the features).
//
// Variables live under ctx's current scope: BackboneScope,
// HeadScope/HiddenScope and HeadScope/OutputScope(OutDim). Build marks them
// trainable or not according to cfg.FreezeBackbone every time it runs (via
// nn.ParamTrainable), so build all graphs of a stage with the same Config.
// It uses ctx.Checked(false): variables that exist are reused and missing
// ones created, so one context serves all stages and evaluation graphs,
// whatever GoMLX's reuse mode of the context passed in.
//
// Training-time behaviour (batch statistics in batch norm) follows
// ctx.IsTraining(g). Like GoMLX layers, Build panics on invalid input
// (wrong image shape, unknown backbone); train.Trainer and context.Exec turn
// the panic into an error.
func Build(ctx *context.Context, cfg Config, images *Node) (out, features *Node) {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.withDefaults()
	bb, _ := Lookup(cfg.Backbone)
	if err := checkImages(images, cfg.InputSize); err != nil {
		panic(err)
	}
	ctx = ctx.Checked(false)
	frozen := cfg.FreezeBackbone

	backboneCtx := ctx.In(BackboneScope)
	backboneCtx.SetParam(nn.ParamTrainable, !frozen)
	features = bb.Build(backboneCtx, images)
	if d := features.Shape().Dimensions; len(d) != 2 || d[1] != bb.FeatureDim {
		panic(fmt.Errorf("model.Build: backbone %q returned features %s, want [batch, %d]",
			cfg.Backbone, features.Shape(), bb.FeatureDim))
	}

	headCtx := ctx.In(HeadScope)
	hiddenCtx := headCtx.In(HiddenScope)
	hiddenCtx.SetParam(nn.ParamTrainable, !frozen)
	h := nn.ReLU(nn.Dense(hiddenCtx, features, cfg.HiddenDim).Done())

	outCtx := headCtx.In(OutputScope(cfg.OutDim))
	outCtx.SetParam(nn.ParamTrainable, true)
	dense := nn.Dense(outCtx, h, cfg.OutDim)
	if cfg.OutputInitStd > 0 {
		dense = dense.WeightInitializer(nn.NormalInitializer(outCtx, cfg.OutputInitStd))
	}
	out = dense.Done()
	return out, features
}

// checkImages verifies images is [batch, size, size, 3] float.
func checkImages(images *Node, size int) error {
	s := images.Shape()
	if s.Rank() != 4 || s.Dimensions[3] != 3 || !s.DType.IsFloat() {
		return fmt.Errorf("model.Build: images must be float [batch, height, width, 3], got %s", s)
	}
	if size > 0 && (s.Dimensions[1] != size || s.Dimensions[2] != size) {
		return fmt.Errorf("model.Build: images are %dx%d, the model is configured for %dx%d (Config.InputSize)",
			s.Dimensions[1], s.Dimensions[2], size, size)
	}
	return nil
}
