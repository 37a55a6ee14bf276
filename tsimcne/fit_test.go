package tsimcne

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/internal/datatest"
	"github.com/gosimcne/gosimcne/tsimcne/augment"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

// tinyConfig is the smallest configuration: a few seconds per epoch on a
// few hundred images.
func tinyConfig() Config {
	c := QuickConfig()
	c.Progress = ProgressOff
	return c
}

// syntheticImages returns n 32x32 images: class c is a solid colour with
// noise, so even a briefly trained network separates the classes.
func syntheticImages(n, classes int) *data.Dataset {
	ds := &data.Dataset{Name: "synthetic", N: n, Height: 32, Width: 32, Channels: 3,
		Images: make([]uint8, n*32*32*3), Labels: make([]int, n)}
	for c := 0; c < classes; c++ {
		ds.ClassNames = append(ds.ClassNames, string(rune('A'+c)))
	}
	seed := uint32(1)
	for i := 0; i < n; i++ {
		c := i % classes
		ds.Labels[i] = c
		img := ds.Image(i)
		for p := 0; p < 32*32; p++ {
			for ch := 0; ch < 3; ch++ {
				seed = seed*1664525 + 1013904223
				base := 40 + 170*((c>>ch)&1)
				img[p*3+ch] = uint8(base + int(seed>>27))
			}
		}
	}
	return ds
}

func realCIFAR(t *testing.T, n int) (train, test *data.Dataset) {
	t.Helper()
	dir := datatest.NeedTestData(t, "cifar-10-batches-bin")
	tr, err := data.LoadCIFAR10Files(filepath.Join(dir, "data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	te, err := data.LoadCIFAR10Files(filepath.Join(dir, "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	return tr.Head(n), te.Head(n)
}

func TestFitSmoke(t *testing.T) {
	cfg := tinyConfig()
	cfg.Epochs = [3]int{1, 1, 1}
	ds := syntheticImages(128, 4)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(ds); err != nil {
		t.Fatal(err)
	}
	if !m.Trained() {
		t.Fatalf("position %v after Fit, want done", m.Position())
	}
	h := m.History()
	if len(h) != 3 {
		t.Fatalf("history has %d epochs, want 3: %+v", len(h), h)
	}
	emb, err := m.Transform(ds)
	if err != nil {
		t.Fatal(err)
	}
	if emb.N != ds.N || emb.Dim != 2 {
		t.Fatalf("map is [%d,%d], want [%d,2]", emb.N, emb.Dim, ds.N)
	}
}

func TestBadInput(t *testing.T) {
	cfg := tinyConfig()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	empty := &data.Dataset{Name: "empty", Height: 32, Width: 32, Channels: 3}
	if err := m.Fit(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty data set: got %v", err)
	}
	small := syntheticImages(10, 2)
	if err := m.Fit(small); err == nil || !strings.Contains(err.Error(), "batch size") {
		t.Errorf("batch larger than data: got %v", err)
	}
	if err := m.Fit(syntheticImages(128, 2)); err != nil {
		t.Fatal(err)
	}
	wrong := &data.Dataset{Name: "big", N: 2, Height: 48, Width: 48, Channels: 3, Images: make([]uint8, 2*48*48*3)}
	if _, err := m.Transform(wrong); err == nil || !strings.Contains(err.Error(), "48x48") {
		t.Errorf("wrong image size: got %v", err)
	}
	if _, err := New(Config{Backbone: "nope"}); err == nil {
		t.Error("unknown backbone accepted")
	}
}

func TestLossFallsAndMapBeatsChance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about a minute")
	}
	train, test := realCIFAR(t, 512)
	cfg := tinyConfig()
	cfg.Epochs = [3]int{8, 1, 3}
	cfg.LearningRate = 0.1
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(train); err != nil {
		t.Fatal(err)
	}
	h := m.History()
	first, last := h[0].Loss, h[cfg.Epochs[0]-1].Loss
	t.Logf("stage-1 loss: first epoch %.4f, last %.4f", first, last)
	if !(last < first-0.05) {
		t.Errorf("stage-1 loss did not fall: %.4f -> %.4f", first, last)
	}
	ev, _, _, err := m.Evaluate(train, test, 15, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2-D kNN accuracy: %.3f", ev.MapAccuracy)
	if ev.MapAccuracy < 0.17 {
		t.Errorf("2-D kNN accuracy %.3f does not beat chance (0.10) clearly", ev.MapAccuracy)
	}
}

func TestNonFiniteLossStops(t *testing.T) {
	cfg := tinyConfig()
	cfg.Epochs = [3]int{2, 0, 0}
	cfg.LearningRate = 1e30 // diverges at once
	cfg.ClipValue = -1
	cfg.CheckpointDir = t.TempDir()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Fit(syntheticImages(128, 2))
	if !errors.Is(err, ErrNonFiniteLoss) {
		t.Fatalf("got %v, want ErrNonFiniteLoss", err)
	}
	if !strings.Contains(err.Error(), "stage 1, epoch") {
		t.Errorf("error does not say where: %v", err)
	}
	_ = math.Inf
	_ = os.Remove
}

func TestFitStageByStage(t *testing.T) {
	cfg := tinyConfig()
	cfg.Epochs = [3]int{1, 1, 1}
	ds := syntheticImages(64, 2)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantDims := []int{cfg.PretrainDim, cfg.OutDim, cfg.OutDim}
	for stage := 1; stage <= 3; stage++ {
		if err := m.FitStage(ds, stage); err != nil {
			t.Fatal(err)
		}
		if got := len(m.History()); got != stage {
			t.Fatalf("after stage %d: %d epochs trained, want %d", stage, got, stage)
		}
		emb, err := m.Transform(ds)
		if err != nil {
			t.Fatal(err)
		}
		if emb.Dim != wantDims[stage-1] {
			t.Errorf("after stage %d the map is %d-D, want %d-D", stage, emb.Dim, wantDims[stage-1])
		}
	}
	if !m.Trained() {
		t.Errorf("not trained after stage 3: %v", m.Position())
	}
	if err := m.FitStage(ds, 2); err != nil || len(m.History()) != 3 {
		t.Errorf("re-running a finished stage trained again (%v, %d epochs)", err, len(m.History()))
	}
}

// TestLoadRunFolder checks that Load reopens a trained model from its
// checkpoint folder and from a `tsimcne train` run folder (checkpoints in
// its RunCheckpointsDir sub-folder), with the same map, and that a folder
// without checkpoints is a clear error.
func TestLoadRunFolder(t *testing.T) {
	run := t.TempDir()
	cfg := tinyConfig()
	cfg.Epochs = [3]int{1, 1, 1}
	cfg.CheckpointDir = filepath.Join(run, RunCheckpointsDir)
	ds := syntheticImages(64, 4)
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(ds); err != nil {
		t.Fatal(err)
	}
	want, err := m.Transform(ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{cfg.CheckpointDir, run} {
		if has, err := HasCheckpoint(dir); err != nil || !has {
			t.Errorf("HasCheckpoint(%s) = %v, %v; want true", dir, has, err)
		}
		loaded, err := Load(dir, func(c *Config) { c.Progress = ProgressOff })
		if err != nil {
			t.Fatalf("Load(%s): %v", dir, err)
		}
		if !loaded.Trained() {
			t.Errorf("Load(%s): position %v, want trained", dir, loaded.Position())
		}
		got, err := loaded.Transform(ds)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Points {
			if got.Points[i] != want.Points[i] {
				t.Fatalf("Load(%s): point value %d is %v, want %v", dir, i, got.Points[i], want.Points[i])
			}
		}
	}
	empty := t.TempDir()
	if has, _ := HasCheckpoint(empty); has {
		t.Errorf("HasCheckpoint of an empty folder is true")
	}
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("Load of an empty folder: error %v, want one naming the folder", err)
	}
}

// TestViewStreamReusesInputs checks that the training stream refills its
// tensors (the loop must not finalize them) with each batch's own views:
// one tensor per batch size without prefetch; with prefetch two, and never
// the tensor of the step before (it may still be in use while the next
// batch is made). Both give the same views, equal to a fresh computation of
// the same batch.
func TestViewStreamReusesInputs(t *testing.T) {
	ds := syntheticImages(10, 2)
	cfg := tinyConfig()
	cfg.BatchSize = 4 // batches of 4, 4 and 2 images
	aug, err := augment.New(cfg.Augment)
	if err != nil {
		t.Fatal(err)
	}
	var firsts [][]float32
	for _, prefetch := range []bool{false, true} {
		cfg.Prefetch = map[bool]Prefetch{false: PrefetchOff, true: PrefetchOn}[prefetch]
		s := newViewStream(ds, aug, cfg, 1, Position{Stage: 1})
		if s.IsOwnershipTransferred() {
			t.Fatal("the stream keeps its tensors: the loop must not finalize them")
		}
		var views [][]float32
		var tensorsSeen []*tensors.Tensor
		for b := range 7 { // batches 3-5 are the next epoch's
			_, in, _, err := s.Yield()
			if err != nil {
				t.Fatal(err)
			}
			wantViews := 4
			if b%3 == 2 {
				wantViews = 2
			}
			if d := in[0].Shape().Dimensions; d[0] != 2*wantViews {
				t.Fatalf("prefetch %v, batch %d: %d views, want %d", prefetch, b, d[0], 2*wantViews)
			}
			views = append(views, tensors.MustCopyFlatData[float32](in[0]))
			tensorsSeen = append(tensorsSeen, in[0])
		}
		if s.pending == nil && prefetch {
			t.Error("prefetch on, but no batch is being made after a Yield")
		}
		if w := s.takeWait(); w <= 0 || s.takeWait() != 0 {
			t.Errorf("prefetch %v: takeWait %v, then not reset", prefetch, w)
		}
		s.release() // with a batch in flight
		if len(s.inputs) != 0 || s.pending != nil {
			t.Errorf("prefetch %v: release left tensors or a pending batch", prefetch)
		}
		distinct := map[*tensors.Tensor]bool{}
		for i, tt := range tensorsSeen {
			distinct[tt] = true
			if i > 0 && tt == tensorsSeen[i-1] && prefetch {
				t.Errorf("prefetch: batch %d reuses the tensor of the step before", i)
			}
		}
		if want := map[bool]int{false: 2, true: 4}[prefetch]; len(distinct) != want {
			t.Errorf("prefetch %v: %d distinct tensors, want %d", prefetch, len(distinct), want)
		}
		if slices.Equal(views[0], views[1]) || slices.Equal(views[0], views[3]) {
			t.Errorf("prefetch %v: a reused tensor kept the previous batch's views", prefetch)
		}
		if firsts == nil {
			firsts = views
			continue
		}
		for b := range views {
			if !slices.Equal(views[b], firsts[b]) {
				t.Errorf("batch %d: prefetch changes the views", b)
			}
		}
	}
	// A fresh stream at epoch 0, batch 1 yields the same views.
	s2 := newViewStream(ds, aug, cfg, 1, Position{Stage: 1, Batch: 1})
	defer s2.release()
	_, in, _, err := s2.Yield()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tensors.MustCopyFlatData[float32](in[0]), firsts[1]) {
		t.Error("views depend on the stream's history, want a function of (seed, stage, epoch, batch)")
	}
}

// TestTransformRejectsCollapsedMap: a network whose weights are all zero
// (as a damaged checkpoint can be) puts every image at one place; Transform
// and Evaluate say so instead of returning a map with kNN at chance.
func TestTransformRejectsCollapsedMap(t *testing.T) {
	m, err := New(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	ds := syntheticImages(40, 2)
	if _, err := m.Transform(ds); err != nil {
		t.Fatalf("untrained model: %v", err)
	}
	for v := range m.ctx.IterVariables() {
		if val := v.MustValue(); val.DType().IsFloat() {
			if err := v.SetValue(tensors.FromShape(val.Shape())); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = m.Transform(ds)
	if !errors.Is(err, embedding.ErrCollapsed) {
		t.Fatalf("Transform with zero weights: %v, want ErrCollapsed", err)
	}
	_, _, _, err = m.Evaluate(ds, ds, 3, false)
	if !errors.Is(err, embedding.ErrCollapsed) {
		t.Fatalf("Evaluate with zero weights: %v, want ErrCollapsed", err)
	}
}

// TestSameSeedSameMap: two runs with the cpu preset's network (cnn4:
// Winograd convolutions, fused batch norm, the multi-threaded GEMM) and the
// same seed give the same map, bit for bit; another seed another one.
func TestSameSeedSameMap(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains three small cnn4 models")
	}
	ds := syntheticImages(96, 3)
	run := func(seed uint64) []float32 {
		c := CPUConfig()
		c.Progress = ProgressOff
		c.BatchSize = 32
		c.Epochs = [3]int{1, 1, 1}
		c.WarmupEpochs = [3]int{0, 0, 0}
		c.Seed = seed
		m, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.FitTransform(ds)
		if err != nil {
			t.Fatal(err)
		}
		return out.Points
	}
	a, b, other := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("same seed, different maps: coordinate %d is %v and %v", i, a[i], b[i])
			}
		}
	}
	if slices.Equal(a, other) {
		t.Error("seeds 7 and 8 gave the same map")
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{{1, "epoch", "1 epoch"}, {2, "epoch", "2 epochs"}, {1, "batch", "1 batch"}, {157, "batch", "157 batches"}, {0, "epoch", "0 epochs"}} {
		if got := count(tc.n, tc.noun); got != tc.want {
			t.Errorf("count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
