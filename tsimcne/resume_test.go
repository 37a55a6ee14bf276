package tsimcne

import (
	stdctx "context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
)

// weights returns every float variable of the model, as float32 copies,
// keyed by [scope, name].
func weights(t *testing.T, m *Model) map[[2]string][]float32 {
	t.Helper()
	out := map[[2]string][]float32{}
	m.ctx.EnumerateVariables(func(v *context.Variable) {
		val := v.MustValue()
		// GoMLX's training metrics live under per-process scopes.
		if val.DType().IsFloat() && !strings.HasPrefix(v.Scope(), "/metrics") {
			out[[2]string{v.Scope(), v.Name()}] = tensors.MustCopyFlatData[float32](val)
		}
	})
	return out
}

func resumeConfig(dir string) Config {
	c := tinyConfig()
	c.BatchSize = 32
	c.Epochs = [3]int{2, 1, 2}
	c.WarmupEpochs = [3]int{1, 0, 1}
	c.CheckpointDir = dir
	return c
}

// TestResumeGivesSameWeights interrupts a run in each stage, resumes it
// from its checkpoint each time, and checks that it ends with exactly the
// weights of a run that was never stopped; with the views made while the
// steps run (prefetch, the default on GPUs) too, interrupted with a batch in
// flight, against a reference without.
func TestResumeGivesSameWeights(t *testing.T) {
	for _, p := range []Prefetch{PrefetchOff, PrefetchOn} {
		t.Run(map[Prefetch]string{PrefetchOff: "prefetch=off", PrefetchOn: "prefetch=on"}[p], func(t *testing.T) {
			testResume(t, p)
		})
	}
}

func testResume(t *testing.T, prefetch Prefetch) {
	ds := syntheticImages(96, 3) // 3 batches per epoch
	refCfg := resumeConfig(t.TempDir())
	refCfg.Prefetch = PrefetchOff
	ref, err := New(refCfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Fit(ds); err != nil {
		t.Fatal(err)
	}
	want := weights(t, ref)

	dir := t.TempDir()
	stops := []Position{{1, 1, 1}, {2, 0, 2}, {3, 1, 0}}
	for i := 0; ; i++ {
		cfg := resumeConfig(dir)
		cfg.Prefetch = prefetch
		m, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && m.Position() != stops[i-1] {
			t.Fatalf("resumed at %v, want %v", m.Position(), stops[i-1])
		}
		ctx, cancel := stdctx.WithCancel(stdctx.Background())
		if i < len(stops) {
			stop := stops[i]
			m.afterStep = func(next Position) {
				if next == stop {
					cancel()
				}
			}
		}
		err = m.FitContext(ctx, ds)
		cancel()
		if i == len(stops) {
			if err != nil {
				t.Fatal(err)
			}
			if h := m.History(); len(h) != 5 {
				t.Errorf("history after resuming has %d epochs, want 5: %+v", len(h), h)
			}
			// Variables not used since the last resume (e.g. the 128-D
			// output layer) are still in the checkpoint: InspectVariable
			// loads them from there.
			for name, w := range want {
				v := m.ctx.InspectVariable(name[0], name[1])
				if v == nil {
					t.Fatalf("variable %v missing after resuming", name)
				}
				g := tensors.MustCopyFlatData[float32](v.MustValue())
				for j := range w {
					if g[j] != w[j] {
						t.Fatalf("variable %s[%d]: resumed %v, uninterrupted %v", name, j, g[j], w[j])
					}
				}
			}
			return
		}
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("run %d: got %v, want ErrInterrupted", i, err)
		}
	}
}

// fitStage1 trains a model with checkpoints in dir for the given epochs of
// stage 1 and returns its config and the model.
func fitStage1(t *testing.T, dir string, epochs int) (Config, *Model) {
	t.Helper()
	cfg := resumeConfig(dir)
	cfg.Epochs = [3]int{epochs, 0, 0}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(syntheticImages(96, 3)); err != nil {
		t.Fatal(err)
	}
	return cfg, m
}

// TestDamagedCheckpointFallsBack truncates the newest checkpoint, as a run
// killed while saving would leave it, and checks that the previous one is
// loaded instead.
func TestDamagedCheckpointFallsBack(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := fitStage1(t, dir, 2)
	names, err := checkpointFiles(dir)
	if err != nil || len(names) != 2 {
		t.Fatalf("want 2 checkpoints kept, got %v (%v)", names, err)
	}
	newest := filepath.Join(dir, names[1])
	if err := os.Truncate(newest+".bin", 100); err != nil {
		t.Fatal(err)
	}
	m2, err := New(cfg)
	if err != nil {
		t.Fatalf("damaged newest checkpoint: %v", err)
	}
	if p := m2.Position(); p != (Position{Stage: 1, Epoch: 2}) && p.Stage != 4 {
		t.Errorf("fell back to position %v", p)
	}
	if _, err := os.Stat(newest + ".bin.damaged"); err != nil {
		t.Errorf("damaged checkpoint not moved aside: %v", err)
	}
}

func TestResumeWithOtherSettingsFails(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := fitStage1(t, dir, 1)
	cfg.BatchSize = 16
	if _, err := New(cfg); err == nil {
		t.Fatal("resuming with another batch size was accepted")
	}
}

// TestCheckpointFormat checks that checkpoints are written uncompressed (the
// gzip default of GoMLX cost as long as a GPU epoch per save), that one
// written compressed by an earlier version still loads, and that the
// history records the time spent waiting for views and saving checkpoints.
func TestCheckpointFormat(t *testing.T) {
	dir := t.TempDir()
	cfg, m := fitStage1(t, dir, 1)
	for _, e := range m.History() {
		if e.DataSeconds <= 0 || e.DataSeconds > e.Seconds || e.CheckpointSeconds <= 0 {
			t.Errorf("epoch %+v: want 0 < data_seconds <= seconds and checkpoint_seconds > 0", e)
		}
	}
	names, err := checkpointFiles(dir)
	if err != nil || len(names) == 0 {
		t.Fatalf("no checkpoint written: %v", err)
	}
	meta, err := os.ReadFile(filepath.Join(dir, names[len(names)-1]+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(meta), `"BinFormat": "uncompressed"`) {
		t.Errorf("checkpoint metadata does not say uncompressed:\n%.300s", meta)
	}
	want := weights(t, m)

	// The same model saved with GoMLX's default (gzip) in a new folder.
	gzDir := t.TempDir()
	h, err := checkpoints.Build(m.ctx).Dir(gzDir).Keep(2).Done()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	cfgJSON, err := os.ReadFile(filepath.Join(dir, ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gzDir, ConfigFileName), cfgJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	gzNames, _ := checkpointFiles(gzDir)
	gzMeta, _ := os.ReadFile(filepath.Join(gzDir, gzNames[0]+".json"))
	if !strings.Contains(string(gzMeta), `"BinFormat": "gzip"`) {
		t.Fatalf("GoMLX's default checkpoint is not gzip any more:\n%.300s", gzMeta)
	}
	cfg.CheckpointDir = gzDir
	m2, err := New(cfg)
	if err != nil {
		t.Fatalf("loading a gzip checkpoint: %v", err)
	}
	for name, w := range want {
		v := m2.ctx.InspectVariable(name[0], name[1])
		if v == nil {
			t.Fatalf("variable %v missing after loading the gzip checkpoint", name)
		}
		g := tensors.MustCopyFlatData[float32](v.MustValue())
		if len(g) != len(w) {
			t.Fatalf("variable %v: %d values after loading, want %d", name, len(g), len(w))
		}
		for j := range w {
			if g[j] != w[j] {
				t.Fatalf("variable %v[%d]: loaded %v, saved %v", name, j, g[j], w[j])
			}
		}
	}
}

// TestCheckpointChecksum overwrites bytes inside the newest checkpoint's
// data file, keeping its size (what GoMLX alone cannot notice: such a
// checkpoint loaded and gave a collapsed map), and checks that the sum
// file catches it and the previous checkpoint is loaded.
func TestCheckpointChecksum(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := fitStage1(t, dir, 2)
	names, err := checkpointFiles(dir)
	if err != nil || len(names) != 2 {
		t.Fatalf("want 2 checkpoints, got %v (%v)", names, err)
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n+checksumSuffix)); err != nil {
			t.Fatalf("no sum file for %s: %v", n, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	sums := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), checksumSuffix) {
			sums++
		}
	}
	if sums != 2 {
		t.Errorf("%d sum files for 2 checkpoints: old ones not cleaned up", sums)
	}
	// An intact folder loads without complaint.
	var quiet strings.Builder
	cfg.Log, cfg.Progress = &quiet, ProgressLines
	if _, err := New(cfg); err != nil || strings.Contains(quiet.String(), "damaged") {
		t.Fatalf("intact checkpoints: %v %q", err, quiet.String())
	}

	newest := filepath.Join(dir, names[1])
	f, err := os.OpenFile(newest+".bin", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	if _, err := f.WriteAt(make([]byte, 400), st.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var log strings.Builder
	cfg.Log, cfg.Progress = &log, ProgressLines
	if _, err := New(cfg); err != nil {
		t.Fatalf("damaged newest checkpoint: %v", err)
	}
	if !strings.Contains(log.String(), "differs from the checksum") {
		t.Errorf("no message about the damage: %q", log.String())
	}
	for _, ext := range []string{".bin", ".json", checksumSuffix} {
		if _, err := os.Stat(newest + ext + ".damaged"); err != nil {
			t.Errorf("%s not moved aside: %v", ext, err)
		}
	}
}

// TestCheckpointReadErrorTouchesNothing: a checkpoint that cannot be read
// (here its sum file is a folder) is no evidence of damage: New stops with
// the error and renames nothing, however often it is called.
func TestCheckpointReadErrorTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg, _ := fitStage1(t, dir, 2)
	names, _ := checkpointFiles(dir)
	newest := filepath.Join(dir, names[len(names)-1])
	if err := os.Remove(newest + checksumSuffix); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(newest+checksumSuffix, 0o755); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "reading checkpoint") {
			t.Fatalf("unreadable checkpoint: error %v", err)
		}
	}
	after, _ := checkpointFiles(dir)
	if !slices.Equal(after, names) {
		t.Errorf("checkpoints %v became %v", names, after)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".damaged") {
			t.Errorf("%s moved aside for a read error", e.Name())
		}
	}
}
