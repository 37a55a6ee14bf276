package history

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReadFormat reads a history.json as Fit has always written it: the
// JSON field names are the file format and must not change.
func TestReadFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	const file = `[
  {"stage": 1, "epoch": 0, "loss": 6.5, "learning_rate": 0.03, "seconds": 3.25, "steps": 47,
   "data_seconds": 0.5, "checkpoint_seconds": 0.125, "dim": 128, "dof": 0.75},
  {"stage": 3, "epoch": 4, "loss": 5, "learning_rate": 3e-05, "seconds": 2, "steps": 10, "data_seconds": 0}
]
`
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []EpochStats{
		{Stage: 1, Epoch: 0, Loss: 6.5, LearningRate: 0.03, Seconds: 3.25, Steps: 47, DataSeconds: 0.5,
			CheckpointSeconds: 0.125, Dim: 128, DoF: 0.75},
		{Stage: 3, Epoch: 4, Loss: 5, LearningRate: 3e-5, Seconds: 2, Steps: 10},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read:\n got %+v\nwant %+v", got, want)
	}
}

// TestWriteRead: Write then Read gives the epochs back; the file is
// replaced whole, leaves no temporary file, and omits the optional fields
// when zero.
func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	epochs := []EpochStats{
		{Stage: 1, Epoch: 0, Loss: 6.25, LearningRate: 0.03, Seconds: 3, Steps: 47, DataSeconds: 0.5, Dim: 40, DoF: 1.5},
		{Stage: 2, Epoch: 0, Loss: 5.5, LearningRate: 0.03, Seconds: 2, Steps: 47, CheckpointSeconds: 0.25},
	}
	if err := Write(path, epochs[:1]); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, epochs); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, epochs) {
		t.Errorf("read back %+v, want %+v", got, epochs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"stage"`, `"learning_rate"`, `"data_seconds"`, `"checkpoint_seconds"`, `"dim"`, `"dof"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("history file lacks the key %s:\n%s", key, b)
		}
	}
	if n := strings.Count(string(b), `"dim"`); n != 1 {
		t.Errorf("%d epochs with a \"dim\" key, want 1 (omitted when 0)", n)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after Write, want only %s", len(entries), FileName)
	}

	if err := Write(path, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(path); err != nil || len(got) != 0 {
		t.Errorf("empty history read back as %v, %v", got, err)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: error %v, want one matching fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"stage": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("not a JSON list: error %v, want one naming the file", err)
	}
	if err := Write(filepath.Join(dir, "no-such-folder", FileName), nil); err == nil {
		t.Error("Write into a missing folder: no error")
	}
}
