package model

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/nn"
)

// BackboneFn builds a backbone's graph: images [batch, height, width, 3] to
// features [batch, Backbone.FeatureDim]. It creates its variables in ctx's
// current scope.
type BackboneFn func(ctx *context.Context, images *Node) *Node

// Backbone describes a registered feature extractor.
type Backbone struct {
	// Name is the registry key, e.g. "resnet18".
	Name string
	// Description says what the network is, in one line.
	Description string
	// FeatureDim is the width of the features the backbone outputs.
	FeatureDim int
	// Build builds the graph.
	Build BackboneFn
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Backbone{}
)

// Register adds (or replaces) a backbone in the registry, so that
// Config.Backbone can name it. It returns an error for an empty name, a nil
// Build or a non-positive FeatureDim.
func Register(b Backbone) error {
	if b.Name == "" || b.Build == nil || b.FeatureDim <= 0 {
		return fmt.Errorf("model.Register: backbone needs a name, a Build function and a positive FeatureDim, got %+v", b)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[b.Name] = b
	return nil
}

// Lookup returns the registered backbone with the given name.
func Lookup(name string) (Backbone, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	b, ok := registry[name]
	if !ok {
		return Backbone{}, fmt.Errorf("unknown backbone %q (registered: %v)", name, namesLocked())
	}
	return b, nil
}

// Backbones returns the names of the registered backbones, sorted.
func Backbones() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	names := make([]string, 0, len(registry))
	for name := range registry {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ResNetSpec describes a CIFAR-style ResNet with BasicBlocks: a 3x3
// stride-1 stem convolution (no max-pool), four stages of BasicBlocks with
// strides 1, 2, 2, 2, and global average pooling.
type ResNetSpec struct {
	// Widths are the channels of the stem (= Widths[0]) and of the four stages.
	Widths [4]int
	// Blocks is the number of BasicBlocks per stage.
	Blocks [4]int
}

// ResNet returns the BackboneFn of a CIFAR-style ResNet (the t-SimCNE and
// SimCLR CIFAR variant of ResNet-18 for Widths 64/128/256/512 and Blocks
// 2/2/2/2). Scopes: "stem/conv", "stem/bn", "layer<stage>/block<i>/{conv1,
// bn1,conv2,bn2,shortcut_conv,shortcut_bn}" (stages and blocks counted from 1
// and 0 as in PyTorch's state dicts). Features are Widths[3] wide.
func ResNet(spec ResNetSpec) BackboneFn {
	return func(ctx *context.Context, images *Node) *Node {
		x := nn.Conv2D(ctx.In("stem").In("conv"), images, spec.Widths[0], 3).Done()
		x = nn.ReLU(nn.BatchNorm(ctx.In("stem").In("bn"), x).Done())
		for stage := range 4 {
			stageCtx := ctx.In(fmt.Sprintf("layer%d", stage+1))
			for block := range spec.Blocks[stage] {
				stride := 1
				if stage > 0 && block == 0 {
					stride = 2
				}
				x = basicBlock(stageCtx.In(fmt.Sprintf("block%d", block)), x, spec.Widths[stage], stride)
			}
		}
		return nn.GlobalAvgPool(x)
	}
}

// basicBlock is ResNet's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) +
// shortcut(x)), with a 1x1 convolution + batch norm shortcut where the shape
// changes.
func basicBlock(ctx *context.Context, x *Node, width, stride int) *Node {
	out := nn.Conv2D(ctx.In("conv1"), x, width, 3).Stride(stride).Done()
	out = nn.ReLU(nn.BatchNorm(ctx.In("bn1"), out).Done())
	out = nn.Conv2D(ctx.In("conv2"), out, width, 3).Done()
	out = nn.BatchNorm(ctx.In("bn2"), out).Done()
	shortcut := x
	if stride != 1 || x.Shape().Dimensions[3] != width {
		shortcut = nn.Conv2D(ctx.In("shortcut_conv"), x, width, 1).Stride(stride).Done()
		shortcut = nn.BatchNorm(ctx.In("shortcut_bn"), shortcut).Done()
	}
	return nn.ReLU(Add(out, shortcut))
}

// PlainCNN returns the BackboneFn of a plain CNN: for each width a 3x3
// convolution, batch norm and ReLU, with a 2x2 max-pool after every layer
// but the last (when the spatial size is still even; computed before the
// ReLU, which gives the same result), then global average pooling.
// Scopes: "conv<i>", "bn<i>" (from 1). Features are the last width.
func PlainCNN(widths ...int) BackboneFn {
	widths = slices.Clone(widths)
	return func(ctx *context.Context, images *Node) *Node {
		x := images
		for i, w := range widths {
			x = nn.Conv2D(ctx.In(fmt.Sprintf("conv%d", i+1)), x, w, 3).Done()
			x = nn.BatchNorm(ctx.In(fmt.Sprintf("bn%d", i+1)), x).Done()
			d := x.Shape().Dimensions
			if i < len(widths)-1 && d[1]%2 == 0 && d[2]%2 == 0 {
				// Max-pool, then ReLU: the same values and gradients as ReLU
				// then max-pool (ReLU is monotonic, and both orders send a
				// window's gradient to its first maximum, or nowhere when it
				// is <= 0), with the ReLU on a 4x smaller tensor.
				x = nn.MaxPool2x2(x)
			}
			x = nn.ReLU(x)
		}
		return nn.GlobalAvgPool(x)
	}
}

func mustRegister(b Backbone) {
	if err := Register(b); err != nil {
		panic(err)
	}
}

func init() {
	resnets := []struct {
		name, desc string
		spec       ResNetSpec
	}{
		{"resnet18", "CIFAR ResNet-18 as in t-SimCNE/SimCLR: 3x3 stem, BasicBlocks 2/2/2/2, widths 64/128/256/512 (11.17 M parameters)",
			ResNetSpec{Widths: [4]int{64, 128, 256, 512}, Blocks: [4]int{2, 2, 2, 2}}},
		{"resnet18-half", "CIFAR ResNet-18 at half width: 32/64/128/256 (2.8 M parameters)",
			ResNetSpec{Widths: [4]int{32, 64, 128, 256}, Blocks: [4]int{2, 2, 2, 2}}},
		{"resnet18-quarter", "CIFAR ResNet-18 at quarter width: 16/32/64/128 (0.7 M parameters)",
			ResNetSpec{Widths: [4]int{16, 32, 64, 128}, Blocks: [4]int{2, 2, 2, 2}}},
		{"resnet10", "CIFAR ResNet with one BasicBlock per stage, widths 64/128/256/512 (4.9 M parameters)",
			ResNetSpec{Widths: [4]int{64, 128, 256, 512}, Blocks: [4]int{1, 1, 1, 1}}},
		{"resnet10-half", "CIFAR ResNet with one BasicBlock per stage at half width: 32/64/128/256 (1.2 M parameters)",
			ResNetSpec{Widths: [4]int{32, 64, 128, 256}, Blocks: [4]int{1, 1, 1, 1}}},
	}
	for _, r := range resnets {
		mustRegister(Backbone{Name: r.name, Description: r.desc, FeatureDim: r.spec.Widths[3], Build: ResNet(r.spec)})
	}
	mustRegister(Backbone{
		Name:        "cnn4",
		Description: "plain CNN: 4 conv3x3+BN+ReLU layers 32/64/128/256 with 2x2 max-pools, global average pool (0.39 M parameters)",
		FeatureDim:  256,
		Build:       PlainCNN(32, 64, 128, 256),
	})
	mustRegister(Backbone{
		Name:        "cnn-tiny",
		Description: "plain CNN 8/16/32/64 (cnn4 at quarter width, 25 K parameters): smoke tests and quick demos",
		FeatureDim:  64,
		Build:       PlainCNN(8, 16, 32, 64),
	})
}
