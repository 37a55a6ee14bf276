package tsimcne

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

func TestExport(t *testing.T) {
	for _, annealed := range []bool{false, true} {
		cfg := tinyConfig()
		cfg.Epochs = [3]int{1, 1, 1}
		if annealed {
			cfg.Schedule, cfg.Epochs = ScheduleAnnealed, [3]int{2, 0, 0}
		}
		ds := syntheticImages(128, 4)
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
		dir := t.TempDir()
		// Exporting a model loaded from a checkpoint: GoMLX hands the
		// checkpoint's values to the context only when a graph uses them.
		ckpt := filepath.Join(dir, "ckpt")
		if err := m.Save(ckpt); err != nil {
			t.Fatal(err)
		}
		loaded, err := Load(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		if err := loaded.Export(filepath.Join(dir, "from-ckpt.gsm"), dtypes.Float32); err != nil {
			t.Fatal(err)
		}
		fromCkpt, err := Load(filepath.Join(dir, "from-ckpt.gsm"))
		if err != nil {
			t.Fatal(err)
		}
		if emb, err := fromCkpt.Transform(ds); err != nil || !slices.Equal(emb.Points, want.Points) {
			t.Errorf("export of a loaded checkpoint: map differs (err %v)", err)
		}
		var scale float64
		for _, p := range want.Points {
			scale = max(scale, math.Abs(float64(p)))
		}
		for _, tc := range []struct {
			dtype dtypes.DType
			tol   float64 // relative to the map's extent
		}{{dtypes.Float32, 0}, {dtypes.Float16, 2e-2}, {dtypes.BFloat16, 1e-1}} {
			path := filepath.Join(dir, tc.dtype.String()+".gsm")
			if err := m.Export(path, tc.dtype); err != nil {
				t.Fatal(err)
			}
			h, err := ReadExportHeader(path)
			if err != nil {
				t.Fatal(err)
			}
			if h.Config.Schedule != cfg.Schedule || h.Config.Backbone != cfg.Backbone {
				t.Errorf("header config %+v", h.Config)
			}
			for _, v := range h.Variables {
				if strings.Contains(v.Scope, "sgd") || strings.Contains(v.Scope, "metrics") {
					t.Errorf("exported optimizer or metrics variable %s/%s", v.Scope, v.Name)
				}
			}
			got, err := Load(path) // Load reads model files too
			if err != nil {
				t.Fatal(err)
			}
			emb, err := got.Transform(ds)
			if err != nil {
				t.Fatal(err)
			}
			if emb.Dim != want.Dim || emb.N != want.N {
				t.Fatalf("%s: map %dx%d, want %dx%d", tc.dtype, emb.N, emb.Dim, want.N, want.Dim)
			}
			var maxDiff float64
			for i := range emb.Points {
				maxDiff = max(maxDiff, math.Abs(float64(emb.Points[i]-want.Points[i])))
			}
			t.Logf("annealed=%v %s: max difference %.3g (map extent %.3g)", annealed, tc.dtype, maxDiff, scale)
			if maxDiff > tc.tol*scale {
				t.Errorf("annealed=%v %s: exported model's map differs by %.3g, more than %.3g", annealed, tc.dtype, maxDiff, tc.tol*scale)
			}
		}
	}
}

func TestExportDamaged(t *testing.T) {
	cfg := tinyConfig()
	cfg.Epochs = [3]int{0, 0, 1}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(syntheticImages(64, 2)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.gsm")
	if err := m.Export(path, dtypes.InvalidDType); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := ReadExportHeader(path); err != nil || h.DType != "float16" {
		t.Fatalf("default dtype: %v %v", h, err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"flipped byte": {append(append([]byte{}, good[:len(good)-10]...), append([]byte{good[len(good)-10] ^ 0xff}, good[len(good)-9:]...)...), "checksum"},
		"truncated":    {good[:len(good)-100], "truncated"},
		"not a model":  {[]byte("hello\n"), "not a gosimcne model"},
		"newer format": {append([]byte("gosimcne-model 2\n"), good[len("gosimcne-model 1\n"):]...), "version 2"},
	} {
		p := filepath.Join(t.TempDir(), "bad.gsm")
		if err := os.WriteFile(p, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadExport(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", name, err, tc.want)
		}
	}
	if err := m.Export(filepath.Join(t.TempDir(), "x.gsm"), dtypes.Int32); err == nil {
		t.Error("Export accepted int32 weights")
	}
}
