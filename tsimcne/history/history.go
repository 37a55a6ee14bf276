// Package history holds the per-epoch training history of a t-SimCNE run:
// the EpochStats records that tsimcne's Fit appends after every epoch and
// keeps in history.json next to the checkpoints (and in a run folder of the
// tsimcne command), how to read and write that file, and the names of the
// three training stages.
//
// It imports only the standard library, so that programs which only read
// or draw a history (the plots package, tools working on run folders) do
// not link GoMLX. Package tsimcne re-exports EpochStats and ReadHistory.
package history

import (
	"encoding/json"
	"fmt"
	"os"
)

// FileName is the name of the history file in a checkpoint folder and in a
// run folder of the tsimcne command.
const FileName = "history.json"

// StageNames describe the three stages of t-SimCNE (stage s is
// StageNames[s-1]), in the progress output of training and in the legend of
// plots.History. The widths are left out: the pre-training width is 128 in
// the paper, 32 in the quick preset, and the map's need not be 2.
var StageNames = [3]string{"pre-training", "new output layer only", "fine-tuning"}

// EpochStats records one training epoch. The JSON field names are those of
// history.json.
type EpochStats struct {
	// Stage (1, 2 or 3) and Epoch (0-based, within the stage).
	Stage int `json:"stage"`
	Epoch int `json:"epoch"`
	// Loss is the mean training loss over the epoch's batches.
	Loss float64 `json:"loss"`
	// LearningRate used in the epoch.
	LearningRate float64 `json:"learning_rate"`
	// Seconds of wall time the epoch took.
	Seconds float64 `json:"seconds"`
	// Steps is the number of batches trained in this epoch by this process
	// (fewer than a full epoch when it was resumed mid-epoch).
	Steps int `json:"steps"`
	// DataSeconds is the part of Seconds the training loop spent waiting
	// for the views of its batches: making them (without prefetch, see
	// tsimcne.Config.Prefetch), or waiting for the goroutine that makes them
	// while the steps run.
	DataSeconds float64 `json:"data_seconds"`
	// CheckpointSeconds is the time saving the checkpoint after the epoch
	// took, not counted in Seconds.
	CheckpointSeconds float64 `json:"checkpoint_seconds,omitempty"`
	// Dim is the output width the loss used (tsimcne.Config.AnnealedDim) in
	// an epoch of the annealed schedule; 0 for the paper's stages.
	Dim int `json:"dim,omitempty"`
	// DoF is the learned degrees of freedom of the kernel at the end of the
	// epoch (tsimcne.Config.LearnDoF); 0 when they are not learned.
	DoF float64 `json:"dof,omitempty"`
}

// Read reads a training history written by Write (history.json). A missing
// file gives an error that matches fs.ErrNotExist (errors.Is).
func Read(path string) ([]EpochStats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading training history: %w", err)
	}
	var h []EpochStats
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("reading training history %s: %w", path, err)
	}
	return h, nil
}

// Write writes epochs to path as indented JSON, through a temporary file
// (path + ".tmp") renamed over path, so that a process killed while writing
// leaves the previous history intact.
func Write(path string, epochs []EpochStats) error {
	if epochs == nil {
		// An empty history is written as [], not null.
		epochs = []EpochStats{}
	}
	b, err := json.MarshalIndent(epochs, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding training history: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing training history: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing training history: %w", err)
	}
	return nil
}
