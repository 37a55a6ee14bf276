package tsimcne

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"

	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/loss"
)

func TestAnnealedDim(t *testing.T) {
	c := tinyConfig()
	c.Schedule = ScheduleAnnealed
	c.PretrainDim, c.OutDim = 128, 2
	c.Epochs = [3]int{100, 0, 0}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	prev := c.PretrainDim
	for e := range 100 {
		d := c.AnnealedDim(e)
		if d > prev || d < 2 || d > 128 {
			t.Fatalf("epoch %d: dim %d after %d: want a non-increasing width in [2, 128]", e, d, prev)
		}
		prev = d
	}
	// The reference's formula: floor(2 + 63.5·(1 + cos(π(e+1)/E))).
	for e, want := range map[int]int{0: 128, 49: 65, 99: 2, 98: 2, 89: 5} {
		if got := c.AnnealedDim(e); got != want {
			t.Errorf("AnnealedDim(%d) = %d, want %d", e, got, want)
		}
	}
	c.Schedule = ""
	if got := c.AnnealedDim(99); got != 128 {
		t.Errorf("paper schedule: AnnealedDim = %d, want the pre-training width 128", got)
	}
}

func TestAnnealedConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		epochs   [3]int
		want     string
	}{
		{ScheduleAnnealed, [3]int{10, 0, 5}, "epochs must be N,0,0"},
		{ScheduleAnnealed, [3]int{0, 0, 5}, "epochs must be N,0,0"},
		{"anneal", [3]int{10, 0, 0}, "unknown schedule"},
	} {
		c := tinyConfig()
		c.Schedule, c.Epochs = tc.schedule, tc.epochs
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: error %v, want one with %q", tc.schedule, tc.epochs, err, tc.want)
		}
	}
}

// TestFitAnnealed trains the annealed schedule on synthetic classes: the
// loss sees only the annealed width (checked through the mask and the
// history), and the map is the first OutDim outputs of the one head.
func TestFitAnnealed(t *testing.T) {
	cfg := tinyConfig()
	cfg.Schedule = ScheduleAnnealed
	cfg.Epochs = [3]int{4, 0, 0}
	ds := syntheticImages(256, 4)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(ds); err != nil {
		t.Fatal(err)
	}
	h := m.History()
	if len(h) != 4 {
		t.Fatalf("history has %d epochs, want 4", len(h))
	}
	for e, st := range h {
		if want := cfg.AnnealedDim(e); st.Stage != 1 || st.Dim != want {
			t.Errorf("epoch %d: stage %d dim %d, want stage 1 dim %d", e, st.Stage, st.Dim, want)
		}
	}
	// 32 outputs over 4 epochs: floor(2 + 15.5·(1 + cos(π(e+1)/4))) = 28, 17, 6, 2.
	if got := []int{h[0].Dim, h[1].Dim, h[2].Dim, h[3].Dim}; got[0] != 28 || got[1] != 17 || got[2] != 6 || got[3] != cfg.OutDim {
		t.Errorf("widths %v, want [28 17 6 2]", got)
	}
	mask := tensors.MustCopyFlatData[float32](m.ctx.InspectVariable(stateScope, stateDimMask).MustValue())
	for i, v := range mask {
		want := float32(0)
		if i < cfg.OutDim {
			want = 1
		}
		if v != want {
			t.Fatalf("mask[%d] = %v after training, want %v", i, v, want)
		}
	}
	if m.ctx.InspectVariable("/head/"+"out2", "weights") != nil {
		t.Error("the annealed schedule made a separate 2-D output layer")
	}
	emb, feat, err := m.TransformWithFeatures(ds)
	if err != nil {
		t.Fatal(err)
	}
	if emb.Dim != cfg.OutDim || emb.N != ds.N || feat.Dim != 64 {
		t.Fatalf("map %dx%d features %d-D, want %dx%d and 64-D", emb.N, emb.Dim, feat.Dim, ds.N, cfg.OutDim)
	}
	acc, _, err := KNNAccuracy(emb, emb, 5)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.5 {
		t.Errorf("kNN accuracy of the annealed map on 4 colour classes %.3f, want >= 0.5", acc)
	}
}

// TestStageLoss: MapKernel and Exaggeration apply to the map's stages (2
// and 3) only.
func TestStageLoss(t *testing.T) {
	c := tinyConfig()
	c.MapKernel, c.Exaggeration = "t:0.5", 3
	z := tensors.FromFlatDataAndDimensions([]float32{0, 0, 1, 0, 0, 2, 1.5, 1, 0.1, 0.2, 1.2, -0.1, 0.3, 1.8, 1.4, 0.7}, 8, 2)
	lossOf := func(fn losses.LossFn) float64 {
		out := graph.MustExecOnce(backend.MustDefault(), func(z *graph.Node) *graph.Node { return fn(nil, []*graph.Node{z}) }, z)
		return tensors.ToScalar[float64](graph.MustExecOnce(backend.MustDefault(), func(x *graph.Node) *graph.Node {
			return graph.ConvertDType(x, dtypes.Float64)
		}, out))
	}
	want := map[int]float64{
		1: lossOf(loss.LossFn(kernels.Cauchy{})),
		2: lossOf(loss.WeightedLossFn(kernels.StudentT{DoF: 0.5}, 3)),
		3: lossOf(loss.WeightedLossFn(kernels.StudentT{DoF: 0.5}, 3)),
	}
	if math.Abs(want[1]-want[2]) < 1e-3 {
		t.Fatalf("test points do not tell the losses apart: %v", want)
	}
	for stage := 1; stage <= 3; stage++ {
		fn, err := c.stageLoss(stage)
		if err != nil {
			t.Fatal(err)
		}
		if got := lossOf(fn); math.Abs(got-want[stage]) > 1e-6 {
			t.Errorf("stage %d: loss %g, want %g", stage, got, want[stage])
		}
	}
	c.MapKernel = "t:-1"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "map kernel") {
		t.Errorf("bad map kernel: %v", err)
	}
	c.MapKernel, c.Exaggeration = "", math.NaN()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "exaggeration") {
		t.Errorf("NaN exaggeration: %v", err)
	}
}

// TestFitLearnedDoF: with LearnDoF the kernel's degrees of freedom train
// with the network (recorded per epoch), from the kernel's value.
func TestFitLearnedDoF(t *testing.T) {
	cfg := tinyConfig()
	cfg.Epochs = [3]int{2, 1, 1}
	cfg.LearnDoF = true
	cfg.LearningRate = 0.5
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.DoF() != 0 {
		t.Errorf("DoF before training %v, want 0 (not created)", m.DoF())
	}
	if err := m.Fit(syntheticImages(128, 4)); err != nil {
		t.Fatal(err)
	}
	h := m.History()
	var dofs []float64
	for _, st := range h {
		dofs = append(dofs, st.DoF)
		if !(st.DoF > 0) || math.IsInf(st.DoF, 0) {
			t.Fatalf("epoch dofs %v: want positive finite values", dofs)
		}
	}
	t.Logf("learned dof per epoch: %v", dofs)
	if dofs[0] == 1 || dofs[len(dofs)-1] == dofs[0] {
		t.Errorf("dof did not move from 1: %v", dofs)
	}
	if d := m.DoF(); d != dofs[len(dofs)-1] {
		t.Errorf("DoF() %v, last epoch's %v", d, dofs[len(dofs)-1])
	}
	bad := tinyConfig()
	bad.Kernel, bad.LearnDoF = "gaussian", true
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "degrees of freedom") {
		t.Errorf("learned dof with a Gaussian kernel: %v", err)
	}
}

// TestMomentumAndDecayOff: negative Momentum and WeightDecay turn them off
// (0 keeps the paper's defaults); plain SGD keeps no momentum buffers.
func TestMomentumAndDecayOff(t *testing.T) {
	c := tinyConfig()
	if c.sgdMomentum() != 0.9 || c.sgdWeightDecay() != 5e-4 {
		t.Fatalf("defaults: momentum %v decay %v", c.sgdMomentum(), c.sgdWeightDecay())
	}
	c.Momentum, c.WeightDecay = -1, -1
	c.Epochs = [3]int{1, 0, 0}
	if c.sgdMomentum() != 0 || c.sgdWeightDecay() != 0 {
		t.Fatalf("off: momentum %v decay %v", c.sgdMomentum(), c.sgdWeightDecay())
	}
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(syntheticImages(64, 2)); err != nil {
		t.Fatal(err)
	}
	for v := range m.ctx.IterVariables() {
		if strings.HasSuffix(v.Name(), "_momentum") {
			t.Errorf("momentum buffer %s with momentum off", v.ScopeAndName())
		}
	}
	c.Momentum = 1
	if err := c.Validate(); err == nil {
		t.Error("momentum 1 accepted")
	}
}
