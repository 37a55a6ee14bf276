package tsimcne

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"

	"github.com/gosimcne/gosimcne/tsimcne/history"
)

// Branch starts a new run from this model's pre-training: a model whose
// stage 1 is this one's, whose stages 2 and 3 (the 2-D map) will train
// with cfg's settings, in the new checkpoint folder cfg.CheckpointDir.
// This is how the paper's comparisons of the map's stages (the kernel in
// 2-D, seeds, the stage-3 learning rate) share one pre-training, the
// expensive part, instead of repeating it per map.
//
// The model must have finished stage 1 and not started training its map
// (a run trained with Epochs {n, 0, 0}, or one stopped at the start of
// stage 2), and it must have a checkpoint folder: the branch starts from
// its newest checkpoint there, which Fit wrote at the end of stage 1.
// cfg may differ from the model's settings only in MapKernel,
// Exaggeration, OutDim, Seed and the stage-2 and -3 entries of Epochs,
// WarmupEpochs and StageLRFactors; everything stage 1 depended on (the
// network, Kernel, the stage-1 schedule) must agree, and the data given
// to Fit must be the same images. A Seed other than the model's reseeds
// the random numbers from the start of stage 2 on (the new output layer's
// weights, data order and views); with the model's settings unchanged the
// branch trains exactly as one run of cfg would have. The branch's history
// starts with the model's stage-1 epochs.
func (m *Model) Branch(cfg Config) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	if err := m.CheckBranch(cfg); err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	dir := cfg.CheckpointDir
	if err := copyNewestCheckpoint(m.cfg.CheckpointDir, dir); err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	var pre []EpochStats
	for _, e := range m.history {
		if e.Stage == 1 {
			pre = append(pre, e)
		}
	}
	if err := history.Write(filepath.Join(dir, HistoryFileName), pre); err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	if err := SaveConfig(cfg, filepath.Join(dir, ConfigFileName)); err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	b, err := New(cfg)
	if err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	b.setPosition(Position{Stage: 2})
	if cfg.Seed != m.cfg.Seed {
		if err := b.ctx.SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
			return nil, fmt.Errorf("Branch: seeding: %w", err)
		}
	}
	if err := b.saveCheckpoint(); err != nil {
		return nil, fmt.Errorf("Branch: %w", err)
	}
	return b, nil
}

// CheckBranch reports why Branch(cfg) would fail, without writing
// anything: nil if cfg can start from this model's pre-training.
func (m *Model) CheckBranch(cfg Config) error {
	cfg = cfg.withDefaults()
	if m.ckpt == nil || m.cfg.CheckpointDir == "" {
		return fmt.Errorf("the model has no checkpoint folder to branch from (train it with Config.CheckpointDir, or Load it)")
	}
	if cfg.CheckpointDir == "" {
		return fmt.Errorf("Config.CheckpointDir must name the branch's new checkpoint folder")
	}
	if filepath.Clean(cfg.CheckpointDir) == filepath.Clean(m.cfg.CheckpointDir) {
		return fmt.Errorf("the branch needs its own checkpoint folder, not the pre-training's (%s)", cfg.CheckpointDir)
	}
	if has, err := HasCheckpoint(cfg.CheckpointDir); err != nil || has {
		if err == nil {
			err = fmt.Errorf("%s already holds a checkpoint; choose a new folder", cfg.CheckpointDir)
		}
		return err
	}
	if m.cfg.Annealed() || cfg.Annealed() {
		return fmt.Errorf("the annealed schedule has no separate pre-training to branch from")
	}
	pos := m.Position()
	if m.cfg.Epochs[0] == 0 || pos.Stage < 2 {
		return fmt.Errorf("the model has not finished its pre-training (stage 1; it is at %s)", pos)
	}
	if m.HeadDim() != m.cfg.PretrainDim || (pos.Stage <= 3 && (pos.Epoch > 0 || pos.Batch > 0)) {
		return fmt.Errorf("the model has started training its map (stage 2 or 3); branch from a run that trained stage 1 only (epochs n,0,0)")
	}
	// Everything but the settings of the map's stages (2 and 3) and the
	// seed must be stage 1's.
	want := cfg
	want.MapKernel, want.Exaggeration, want.OutDim, want.Seed = m.cfg.MapKernel, m.cfg.Exaggeration, m.cfg.OutDim, m.cfg.Seed
	for s := 1; s < 3; s++ {
		want.Epochs[s] = m.cfg.Epochs[s]
		want.WarmupEpochs[s] = m.cfg.WarmupEpochs[s]
		want.StageLRFactors[s] = m.cfg.StageLRFactors[s]
	}
	if diff := want.diffTraining(m.cfg); len(diff) > 0 {
		return fmt.Errorf("settings that the pre-training depended on differ (%s); a branch may change only "+
			"the map kernel, exaggeration, output width, seed, and the epochs, warm-up and learning-rate factors of stages 2 and 3",
			strings.ReplaceAll(strings.Join(diff, "; "), "(checkpoint)", "(pre-training)"))
	}
	if cfg.Epochs[1]+cfg.Epochs[2] == 0 {
		return fmt.Errorf("the branch has no epochs in stages 2 and 3 to train")
	}
	return nil
}

// copyNewestCheckpoint copies the newest checkpoint in folder from (its
// index, data and sum files) into folder to, which it makes.
func copyNewestCheckpoint(from, to string) error {
	names, err := checkpointFiles(from)
	if err != nil {
		return fmt.Errorf("reading the pre-training's checkpoints: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("no checkpoint in %s", from)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	newest := names[len(names)-1]
	for _, ext := range []string{checkpoints.JsonNameSuffix, checkpoints.BinDataSuffix, checksumSuffix} {
		if err := copyFile(filepath.Join(from, newest+ext), filepath.Join(to, newest+ext)); err != nil {
			if ext == checksumSuffix && os.IsNotExist(err) {
				continue // checkpoints written before sum files existed
			}
			return fmt.Errorf("copying checkpoint %s: %w", newest, err)
		}
	}
	return nil
}

// copyFile copies the file from to the new file to.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
