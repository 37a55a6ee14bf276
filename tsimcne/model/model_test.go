package model

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// buildOnly builds the model on a [batch, size, size, 3] parameter without
// executing anything, so that the variables exist in ctx.
func buildOnly(t *testing.T, ctx *context.Context, cfg Config, batch, size int) (out, features *Node) {
	t.Helper()
	g := NewGraph(testBackend(t), "build")
	images := Parameter(g, "images", shapes.Make(dtypes.Float32, batch, size, size, 3))
	return Build(ctx, cfg, images)
}

// countParams sums the sizes of the variables under scope (a prefix) that
// are trainable, or all of them if onlyTrainable is false.
func countParams(ctx *context.Context, scope string, onlyTrainable bool) int {
	n := 0
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), scope) || (onlyTrainable && !v.Trainable) {
			continue
		}
		n += v.Shape().Size()
	}
	return n
}

// TestResNet18ParameterCount checks the paper's parameter counts. By hand
// (conv weights k*k*in*out, batch norm scale+offset 2*out; running statistics
// excluded, as in PyTorch's count of parameters):
//
//	stem:   3*3*3*64 + 2*64                                         =     1,856
//	layer1: 2 x (2 x 3*3*64*64 + 2 x 2*64)                          =   147,968
//	layer2: 3*3*64*128 + 3*3*128*128 + 2 x 2*128 + 64*128 + 2*128   =   230,144
//	        + 2 x 3*3*128*128 + 2 x 2*128                           =   295,424
//	layer3: 3*3*128*256 + 3*3*256*256 + 2 x 2*256 + 128*256 + 2*256 =   919,040
//	        + 2 x 3*3*256*256 + 2 x 2*256                           = 1,180,672
//	layer4: 3*3*256*512 + 3*3*512*512 + 2 x 2*512 + 256*512 + 2*512 = 3,673,088
//	        + 2 x 3*3*512*512 + 2 x 2*512                           = 4,720,640
//	backbone total                                                  = 11,168,832
//	head: 512*1024 + 1024 + 1024*128 + 128                          =   656,512
//	total with the 128-D head                                       = 11,825,344
func TestResNet18ParameterCount(t *testing.T) {
	ctx := context.New()
	_, features := buildOnly(t, ctx, DefaultConfig(), 2, 32)
	if d := features.Shape().Dimensions; d[1] != 512 {
		t.Fatalf("features %v, want 512 wide", d)
	}
	if got := countParams(ctx, "/"+BackboneScope, true); got != 11_168_832 {
		t.Errorf("resnet18 backbone has %d trainable parameters, want 11,168,832", got)
	}
	if got := countParams(ctx, "/", true); got != 11_825_344 {
		t.Errorf("resnet18 + 128-D head has %d trainable parameters, want 11,825,344", got)
	}
	// Running statistics: 2 per batch-norm channel, not trainable.
	if stats := countParams(ctx, "/"+BackboneScope, false) - 11_168_832; stats != 9_600 {
		t.Errorf("backbone has %d non-trainable values, want 9,600 (running mean and variance)", stats)
	}
}

// TestBackbonesBuildAndTrain builds every registered backbone on tiny
// images, checks the output shapes and that a few SGD steps on a fixed batch
// reduce a simple loss (with -short, the full-width ResNets only build).
func TestBackbonesBuildAndTrain(t *testing.T) {
	be := testBackend(t)
	const batch, size = 4, 8
	images := randomImages(3, batch, size)
	for _, name := range Backbones() {
		t.Run(name, func(t *testing.T) {
			bb, err := Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.New()
			ctx.SetParam(context.ParamInitialSeed, int64(1))
			cfg := Config{Backbone: name, InputSize: size}
			infer := newInference(t, be, ctx, cfg)
			res := infer.MustExec(images)
			if d := res[0].Shape().Dimensions; len(d) != 2 || d[0] != batch || d[1] != DefaultOutDim {
				t.Errorf("output shape %v, want [%d %d]", d, batch, DefaultOutDim)
			}
			if d := res[1].Shape().Dimensions; len(d) != 2 || d[0] != batch || d[1] != bb.FeatureDim {
				t.Errorf("features shape %v, want [%d %d]", d, batch, bb.FeatureDim)
			}
			if testing.Short() && bb.FeatureDim >= 512 {
				return // The full-width ResNets take seconds to train even on 8x8 images.
			}
			step := newTrainStep(t, be, ctx, cfg, 0.05, sumOfSquares)
			var losses []float64
			for range 4 {
				l := tensors.ToScalar[float32](step.MustExec(images)[0])
				if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
					t.Fatalf("loss %g", l)
				}
				losses = append(losses, float64(l))
			}
			if losses[len(losses)-1] >= losses[0] {
				t.Errorf("loss did not decrease over SGD steps: %v", losses)
			}
		})
	}
}

// TestStagesFreezeAndScopes runs the three t-SimCNE stages on one context:
// stage 2 trains only the new 2-D layer (batch norm still updates its
// running averages), both output layers live in the context, and stage 3
// trains everything again.
func TestStagesFreezeAndScopes(t *testing.T) {
	be := testBackend(t)
	const backboneName = "cnn4"
	images := randomImages(4, 6, 16)
	ctx := context.New()
	ctx.SetParam(context.ParamInitialSeed, int64(2))
	stage := func(n int) Config {
		cfg, err := Stage(n, backboneName, 2)
		if err != nil {
			t.Fatal(err)
		}
		cfg.InputSize = 16
		return cfg
	}
	value := func(scope, name string) []float32 {
		v := ctx.GetVariableByScopeAndName(scope, name)
		if v == nil {
			t.Fatalf("variable %s/%s missing", scope, name)
		}
		return tensors.MustCopyFlatData[float32](v.MustValue())
	}
	changed := func(a, b []float32) bool {
		for i := range a {
			if a[i] != b[i] {
				return true
			}
		}
		return false
	}
	const conv1 = "/backbone/conv1"
	const bn1 = "/backbone/bn1"
	const hidden = "/head/hidden"
	const out2 = "/head/out2"

	// Stage 1: the 128-D layer has PyTorch's default initialisation.
	step1 := newTrainStep(t, be, ctx, stage(1), 0, infoNCE) // lr 0: keeps the initial values.
	step1.MustExec(images)
	if ctx.GetVariableByScopeAndName("/head/out128", "weights") == nil {
		t.Fatal("stage 1 did not create /head/out128/weights")
	}
	for _, w := range value("/head/out128", "weights") {
		if math.Abs(float64(w)) > 1/math.Sqrt(DefaultHiddenDim) {
			t.Fatalf("128-D layer weight %g outside PyTorch's default U(±1/32)", w)
		}
	}
	newTrainStep(t, be, ctx, stage(1), 0.05, infoNCE).MustExec(images)

	// Stage 2: only /head/out2 trainable.
	step2 := newTrainStep(t, be, ctx, stage(2), 0.05, infoNCE)
	convBefore, meanBefore, scaleBefore, hiddenBefore := value(conv1, "weights"), value(bn1, "mean"), value(bn1, "scale"), value(hidden, "weights")
	step2.MustExec(images) // Creates and initialises out2, then updates it.
	out2Init := value(out2, "weights")
	step2.MustExec(images)
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), "/backbone") && !strings.HasPrefix(v.Scope(), "/head") ||
			v.Scope() == "/head/out128" { // Not part of the stage-2 graph: optimizers skip it.
			continue
		}
		if want := v.Scope() == out2; v.Trainable != want {
			t.Errorf("stage 2: %s/%s Trainable=%v, want %v", v.Scope(), v.Name(), v.Trainable, want)
		}
	}
	if changed(convBefore, value(conv1, "weights")) || changed(scaleBefore, value(bn1, "scale")) ||
		changed(hiddenBefore, value(hidden, "weights")) {
		t.Error("stage 2 changed frozen weights")
	}
	if !changed(meanBefore, value(bn1, "mean")) {
		t.Error("stage 2 did not update batch norm running mean (BN stays in training mode)")
	}
	if !changed(out2Init, value(out2, "weights")) {
		t.Error("stage 2 did not train /head/out2")
	}
	if ctx.GetVariableByScopeAndName("/head/out128", "weights") == nil {
		t.Error("/head/out128 disappeared")
	}
	// The new 2-D layer's weights are drawn N(0, 1) as in the reference.
	var sq float64
	for _, w := range out2Init {
		sq += float64(w) * float64(w)
	}
	if std := math.Sqrt(sq / float64(len(out2Init))); math.Abs(std-1) > 0.1 {
		t.Errorf("new 2-D layer weights have std %g, want about 1", std)
	}

	// Stage 3: everything trainable again (running statistics excepted).
	convBefore = value(conv1, "weights")
	newTrainStep(t, be, ctx, stage(3), 0.05, infoNCE).MustExec(images)
	for v := range ctx.IterVariables() {
		if !strings.HasPrefix(v.Scope(), "/backbone") && !strings.HasPrefix(v.Scope(), "/head") {
			continue
		}
		statistic := v.Name() == "mean" || v.Name() == "variance"
		if v.Trainable == statistic {
			t.Errorf("stage 3: %s/%s Trainable=%v", v.Scope(), v.Name(), v.Trainable)
		}
	}
	if !changed(convBefore, value(conv1, "weights")) {
		t.Error("stage 3 did not train the backbone")
	}
}

// TestInferenceUsesRunningStatistics checks that outside training an
// image's features do not depend on the rest of the batch.
func TestInferenceUsesRunningStatistics(t *testing.T) {
	be := testBackend(t)
	ctx := context.New()
	cfg := Config{Backbone: "cnn4", InputSize: 8}
	newTrainStep(t, be, ctx, cfg, 0.01, sumOfSquares).MustExec(randomImages(5, 4, 8))
	infer := newInference(t, be, ctx, cfg)
	pair := randomImages(6, 2, 8)
	flat := tensors.MustCopyFlatData[float32](pair)
	single := tensors.FromFlatDataAndDimensions(flat[:8*8*3], 1, 8, 8, 3)
	both := tensors.MustCopyFlatData[float32](infer.MustExec(pair)[1])
	one := tensors.MustCopyFlatData[float32](infer.MustExec(single)[1])
	for i := range one {
		if math.Abs(float64(one[i]-both[i])) > 1e-5*(1+math.Abs(float64(one[i]))) {
			t.Fatalf("feature %d: %g alone vs %g in a batch of 2", i, one[i], both[i])
		}
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		cfg       Config
		dims      []int
		wantInErr string
	}{
		{Config{Backbone: "cnn4", InputSize: 32}, []int{2, 32, 32, 1}, "[batch, height, width, 3]"},
		{Config{Backbone: "cnn4", InputSize: 32}, []int{2, 28, 28, 3}, "InputSize"},
		{Config{Backbone: "no-such-net"}, []int{2, 32, 32, 3}, "unknown backbone"},
		{Config{Backbone: "cnn4", OutDim: -1}, []int{2, 32, 32, 3}, "negative"},
		{Config{Backbone: "cnn4", HiddenDim: -5}, []int{2, 32, 32, 3}, "negative"},
	} {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			g := NewGraph(testBackend(t), "bad")
			Build(context.New(), tc.cfg, Parameter(g, "images", shapes.Make(dtypes.Float32, tc.dims...)))
			return nil
		}()
		if err == nil || !strings.Contains(err.Error(), tc.wantInErr) {
			t.Errorf("Build(%+v, %v): error %v, want one mentioning %q", tc.cfg, tc.dims, err, tc.wantInErr)
		}
	}
}

func TestRegistryAndConfig(t *testing.T) {
	names := Backbones()
	for _, want := range []string{"resnet18", "resnet18-half", "resnet18-quarter", "resnet10", "resnet10-half", "cnn4"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("backbone %q not registered (have %v)", want, names)
		}
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("Lookup of an unknown name succeeded")
	}
	if err := Register(Backbone{Name: "x"}); err == nil {
		t.Error("Register accepted a backbone without Build")
	}
	if _, err := Stage(4, "", 2); err == nil {
		t.Error("Stage(4) succeeded")
	}
	cfg, err := Stage(2, "resnet18-half", 2)
	if err != nil || !cfg.FreezeBackbone || cfg.OutDim != 2 || cfg.Backbone != "resnet18-half" || cfg.withDefaults().OutputInitStd != 1 {
		t.Errorf("Stage(2) = %+v, %v", cfg, err)
	}
	if d, err := cfg.FeatureDim(); err != nil || d != 256 {
		t.Errorf("FeatureDim = %d, %v; want 256", d, err)
	}
}
