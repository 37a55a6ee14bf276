package tsimcne

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestBranchContinuesAsOneRun checks that a branch from a stage-1-only run
// with the same settings trains exactly as one run of those settings (same
// weights bit for bit), that another seed gives another map, and that the
// branch's history starts with the pre-training's epochs.
func TestBranchContinuesAsOneRun(t *testing.T) {
	ds := syntheticImages(96, 3)
	full := resumeConfig(t.TempDir())
	ref, err := New(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Fit(ds); err != nil {
		t.Fatal(err)
	}
	want := weights(t, ref)

	_, pre := fitStage1(t, t.TempDir(), full.Epochs[0])
	cfg := full
	cfg.CheckpointDir = t.TempDir()
	b, err := pre.Branch(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := b.Position(); p != (Position{Stage: 2}) {
		t.Fatalf("branch starts at %v, want stage 2", p)
	}
	if err := b.Fit(ds); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		// Variables the branch did not use (the 128-D output layer) are
		// still in its checkpoint: InspectVariable loads them from there.
		v := b.ctx.InspectVariable(name[0], name[1])
		if v == nil {
			t.Fatalf("variable %v missing in the branch", name)
		}
		g := tensors.MustCopyFlatData[float32](v.MustValue())
		for j := range w {
			if g[j] != w[j] {
				t.Fatalf("variable %v[%d]: branch %v, one run %v", name, j, g[j], w[j])
			}
		}
	}
	h := b.History()
	if len(h) != 5 || h[0].Stage != 1 || h[2].Stage != 2 || h[4].Stage != 3 {
		t.Errorf("branch history: %+v, want 2 epochs of stage 1, 1 of stage 2, 2 of stage 3", h)
	}

	other := full
	other.Seed = 7
	other.CheckpointDir = t.TempDir()
	b2, err := pre.Branch(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Fit(ds); err != nil {
		t.Fatal(err)
	}
	same := true
	for name, w := range weights(t, b2) {
		if r := want[name]; len(r) == len(w) {
			for j := range w {
				same = same && w[j] == r[j]
			}
		}
	}
	if same {
		t.Error("a branch with seed 7 ended with the weights of seed 1")
	}

	// The branch is an ordinary checkpoint folder: Load finds it trained.
	l, err := Load(cfg.CheckpointDir)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Trained() {
		t.Errorf("loaded branch at %v, want done", l.Position())
	}
}

// TestBranchRefusals checks the errors of branches that cannot share the
// pre-training.
func TestBranchRefusals(t *testing.T) {
	preCfg, pre := fitStage1(t, t.TempDir(), 1)
	ok := preCfg
	ok.Epochs = [3]int{1, 1, 1}
	ok.CheckpointDir = filepath.Join(t.TempDir(), "branch")

	cases := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"kernel", func(c *Config) { c.Kernel = "gaussian" }, "kernel"},
		{"stage-1 epochs", func(c *Config) { c.Epochs[0] = 2 }, "epochs"},
		{"batch", func(c *Config) { c.BatchSize = 16 }, "batch_size"},
		{"same folder", func(c *Config) { c.CheckpointDir = preCfg.CheckpointDir }, "own checkpoint folder"},
		{"no folder", func(c *Config) { c.CheckpointDir = "" }, "CheckpointDir"},
		{"nothing to train", func(c *Config) { c.Epochs = [3]int{1, 0, 0} }, "no epochs"},
	}
	for _, c := range cases {
		cfg := ok
		c.edit(&cfg)
		if _, err := pre.Branch(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error naming %q", c.name, err, c.want)
		}
	}

	// A map kernel, seed and stage-3 schedule of its own are what a branch is for.
	cfg := ok
	cfg.MapKernel, cfg.Seed, cfg.StageLRFactors[2] = "gaussian", 3, 0.5
	b, err := pre.Branch(cfg)
	if err != nil {
		t.Fatalf("branch with a map kernel, seed and stage-3 rate of its own: %v", err)
	}
	if err := b.Fit(syntheticImages(96, 3)); err != nil {
		t.Fatal(err)
	}
	// A model that has trained its map cannot be branched from, nor can a
	// folder be reused.
	cfg2 := ok
	cfg2.CheckpointDir = t.TempDir()
	if _, err := b.Branch(cfg2); err == nil || !strings.Contains(err.Error(), "started training its map") {
		t.Errorf("branch from a trained map: got %v", err)
	}
	if _, err := pre.Branch(cfg); err == nil || !strings.Contains(err.Error(), "already holds a checkpoint") {
		t.Errorf("branch into a used folder: got %v", err)
	}
}
