package runs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
)

// TestReadInfoFormat: a run.json written by earlier versions of the
// command reads the same (the JSON names are the file format).
func TestReadInfoFormat(t *testing.T) {
	dir := t.TempDir()
	const file = `{
  "preset": "cpu",
  "data": {
    "dataset": "folder:/photos",
    "data_dir": "/data",
    "eval": "holdout",
    "cifar_batches": 5,
    "train_limit": 300,
    "test_limit": 40,
    "holdout": 50,
    "image_size": 16,
    "seed": 7,
    "skip_bad_images": true
  },
  "k": 15,
  "features": true,
  "created": "2026-12-04T12:41:26Z",
  "command": ["train", "-preset", "cpu"]
}
`
	if err := os.WriteFile(filepath.Join(dir, InfoFile), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Preset: "cpu", K: 15, Features: true,
		Created: time.Date(2026, 12, 4, 12, 41, 26, 0, time.UTC), Command: []string{"train", "-preset", "cpu"},
		Data: Data{Dataset: "folder:/photos", DataDir: "/data", Eval: EvalHoldout, CIFARBatches: 5, TrainLimit: 300,
			TestLimit: 40, Holdout: 50, ImageSize: 16, Seed: 7, SkipBadImages: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadInfo:\n got %+v\nwant %+v", got, want)
	}

	// Write and read back; Warn is not part of the file.
	got.Data.Warn = os.Stderr
	other := t.TempDir()
	if err := got.Write(other); err != nil {
		t.Fatal(err)
	}
	back, err := ReadInfo(other)
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %+v, %v", back, err)
	}

	if _, err := ReadInfo(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no run.json: %v, want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(filepath.Join(dir, InfoFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInfo(dir); err == nil || !strings.Contains(err.Error(), InfoFile) {
		t.Errorf("damaged run.json: %v", err)
	}
}

// TestPrepare: a new run removes the config.json that a run killed before
// its first checkpoint left behind; a resumed run keeps it.
func TestPrepare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	info := Info{Preset: "quick", Data: Data{Dataset: CIFAR10, Seed: 1}, K: 5}
	if err := Prepare(dir, info, false); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, CheckpointsDir)); err != nil || !st.IsDir() {
		t.Fatalf("no checkpoint folder: %v", err)
	}
	if got, err := ReadInfo(dir); err != nil || got.K != 5 || got.Data.Dataset != CIFAR10 {
		t.Errorf("run.json: %+v, %v", got, err)
	}
	stale := filepath.Join(dir, CheckpointsDir, tsimcne.ConfigFileName)
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(dir, info, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("resuming removed the checkpoint folder's config.json: %v", err)
	}
	if err := Prepare(dir, info, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new run kept a stale config.json: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	if got := DefaultDir(FolderPrefix+"/home/me/photos", "quick"); got != filepath.Join("runs", "photos-quick") {
		t.Errorf("DefaultDir = %q", got)
	}
}

func TestCurrentMachine(t *testing.T) {
	t.Setenv("TSIMCNE_TEST_VAR", "x")
	m := CurrentMachine(nil)
	if m.NumCPU < 1 || m.GOOS == "" || m.GoVersion == "" || m.Backend == "" || m.Env["TSIMCNE_TEST_VAR"] != "x" {
		t.Errorf("CurrentMachine: %+v", m)
	}
}
