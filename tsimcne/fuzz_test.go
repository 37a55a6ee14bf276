package tsimcne

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
)

// savedCheckpoint saves an untrained tiny model and returns its folder and
// the bytes of its checkpoint's JSON index and data file.
func savedCheckpoint(f *testing.F) (dir string, index, bin []byte) {
	f.Helper()
	m, err := New(tinyConfig())
	if err != nil {
		f.Fatal(err)
	}
	if _, err := m.Transform(syntheticImages(8, 2)); err != nil { // creates the weights
		f.Fatal(err)
	}
	dir = f.TempDir()
	if err := m.Save(dir); err != nil {
		f.Fatal(err)
	}
	names, err := checkpointFiles(dir)
	if err != nil || len(names) != 1 {
		f.Fatalf("checkpoint files %v: %v", names, err)
	}
	base := filepath.Join(dir, names[0])
	if index, err = os.ReadFile(base + checkpoints.JsonNameSuffix); err != nil {
		f.Fatal(err)
	}
	if bin, err = os.ReadFile(base + checkpoints.BinDataSuffix); err != nil {
		f.Fatal(err)
	}
	return dir, index, bin
}

// FuzzCheckpointReader: a checkpoint whose index or data file holds any
// bytes (and no sum file, so that GoMLX's reader sees them) loads or fails
// with an error; it never panics, and a loaded model reports a valid
// position. Seeds: the real files, and each cut short or with bytes
// overwritten. Run longer with
//
//	go test ./tsimcne -run '^$' -fuzz FuzzCheckpointReader -fuzztime 60s
func FuzzCheckpointReader(f *testing.F) {
	saved, index, bin := savedCheckpoint(f)
	config, err := os.ReadFile(filepath.Join(saved, ConfigFileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(index, bin)
	f.Add(index[:len(index)/2], bin)
	f.Add(index, bin[:len(bin)/2])
	flipped := append([]byte(nil), bin...)
	for i := range min(400, len(flipped)/3) {
		flipped[len(flipped)/3+i] ^= 0xa5
	}
	f.Add(index, flipped)
	f.Add([]byte(`{"Variables":[{"ParameterName":"var:/tsimcne_state/stage","DType":"Float32","Dimensions":null,"Pos":0,"Length":4}],"BinFormat":"uncompressed"}`), []byte{0, 0, 0x80, 0x7f})
	// An index announcing a 40 GB variable: GoMLX's reader would allocate
	// it (the process ran out of memory before checkpointIndex.check).
	f.Add([]byte(`{"Variables":[{"ParameterName":"var:/tsimcne_state/stage","DType":"Float32","Dimensions":[100000,100000],"Pos":0,"Length":4}],"BinFormat":"uncompressed"}`), []byte{0, 0, 0x80, 0x7f})
	f.Add([]byte(`{"Variables":[{"ParameterName":"var:/x","DType":"Float32","Dimensions":[100000,100000],"Pos":0,"Length":4}],"BinFormat":"gzip"}`), []byte{0, 0, 0x80, 0x7f})
	f.Fuzz(func(t *testing.T, index, bin []byte) {
		dir := t.TempDir()
		base := filepath.Join(dir, "checkpoint-n0000001-20261204-000000-initial")
		for path, b := range map[string][]byte{
			filepath.Join(dir, ConfigFileName): config,
			base + checkpoints.JsonNameSuffix:  index,
			base + checkpoints.BinDataSuffix:   bin,
		} {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m, err := Load(dir, func(c *Config) { c.Log = io.Discard })
		if err != nil {
			return
		}
		if p := m.Position(); p.Stage < 1 || p.Stage > 4 || p.Epoch < 0 || p.Batch < 0 {
			t.Fatalf("loaded a checkpoint with position %+v", p)
		}
	})
}

// FuzzLoadExport: a model file with any bytes loads or fails with an error,
// never a panic. Seeds: a real export, cut short and with bytes changed.
func FuzzLoadExport(f *testing.F) {
	m, err := New(tinyConfig())
	if err != nil {
		f.Fatal(err)
	}
	if _, err := m.Transform(syntheticImages(8, 2)); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "model.gsm")
	if err := m.Export(path, dtypes.Float16); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add(b[:200])
	changed := append([]byte(nil), b...)
	changed[len(changed)-100] ^= 0xff
	f.Add(changed)
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "model.gsm")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = LoadExport(path, func(c *Config) { c.Log = io.Discard })
	})
}
