// Package tsimcne is t-SimCNE (Böhm, Berens, Kobak, ICLR 2023) in Go on
// GoMLX: it trains a ResNet and a projection head SimCLR-style on two
// augmented views of every image, with the Cauchy similarity 1/(1+|zi-zj|²)
// and a 2-D output, so that the output itself is a map of the image
// collection.
//
// The API follows the Python reference (fit, transform, fit_transform):
//
//	m, err := tsimcne.New(tsimcne.CPUConfig())
//	err = m.Fit(train)                    // three stages: 128-D, 2-D head, 2-D fine-tuning
//	emb, err := m.Transform(test)         // [N, 2] map coordinates
//	ev, trainMap, testMap, err := m.Evaluate(train, test, 15, true) // kNN accuracies and both maps
//
// Training follows the paper exactly (see Config and PaperConfig) and adds
// what a long run needs: a checkpoint at the end of every epoch holding the
// weights, optimizer state and position (stage, epoch, batch), resumption
// from it, a clean stop on SIGINT, and a clear error on a NaN or infinite
// loss that keeps the last good checkpoint.
//
// Sub-packages hold the parts: data (data sets and downloads), augment (the
// random views), model and nn (the network), loss and optim (InfoNCE and
// SGD), knn (evaluation), embedding (outputs), history (the per-epoch
// training history, without GoMLX), backend (GoMLX backend selection),
// runs (what a run of the tsimcne command uses and writes: its images, run
// folder and outputs, so that a notebook reproduces a command's run).
// The kernels live in github.com/gosimcne/gosimcne/kernels.
//
// # Process-wide changes to GoMLX
//
// Importing tsimcne imports tsimcne/nn, whose init replaces GoMLX's
// gradients of DotGeneral, Dot, Slice and Where in graph.VJPRegistration
// for the whole program (faster, and trainable on the pure-Go backend; the
// results agree up to float rounding). Programs that build other GoMLX
// models and want the built-in gradients call nn.RestoreBuiltinGradients
// (and nn.RegisterFastGradients before training t-SimCNE again). On the
// pure-Go backend, tsimcne/backend also installs tsimcne/accel's faster
// executors into simplego, process-wide (TSIMCNE_FAST_KERNELS=0 turns them
// off).
package tsimcne

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/distributed"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/history"
)

// Model is a t-SimCNE model: its configuration, its weights (a GoMLX
// context) and its training position. A Model is not safe for concurrent
// use.
type Model struct {
	cfg     Config
	backend backends.Backend
	ctx     *context.Context
	ckpt    *checkpoints.Handler

	// inputSize is the image side the network was built for (0 = not yet).
	inputSize int

	history []EpochStats
	log     io.Writer

	embedExec map[int]*context.Exec // by head width

	// mesh is the device mesh of data-parallel training (Config.Devices),
	// made once: the variables' sharding specs refer to it, so every
	// stage's executable must use the same one.
	mesh *distributed.DeviceMesh

	// afterStep, if set (tests), is called after every training step with
	// the position of the next step.
	afterStep func(next Position)
}

// EpochStats records one training epoch (see history.EpochStats; the
// type lives in the GoMLX-free package history so that code reading or
// drawing a history need not link GoMLX).
type EpochStats = history.EpochStats

// stageNames describe the stages in progress output.
var stageNames = history.StageNames

// ErrInterrupted is returned (wrapped) by Fit when training stopped because
// its context was cancelled or the process got SIGINT; the checkpoint holds
// everything needed to resume.
var ErrInterrupted = errors.New("training interrupted")

// New returns an untrained model for cfg. If cfg.CheckpointDir holds a
// checkpoint, its weights and position are loaded and Fit resumes from it;
// the checkpoint's config.json must then agree with cfg on every training
// setting (epochs, batch size, learning rates, ...).
func New(cfg Config) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b, err := backend.Default()
	if err != nil {
		return nil, err
	}
	if err := checkDevices(b, cfg.Devices); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, backend: b, log: cfg.Log, embedExec: map[int]*context.Exec{}}
	if m.log == nil {
		m.log = os.Stdout
	}
	m.ctx = context.New()
	if err := m.ctx.SetRNGStateFromSeed(int64(cfg.Seed)); err != nil {
		return nil, fmt.Errorf("tsimcne: seeding: %w", err)
	}
	if cfg.CheckpointDir != "" {
		if err := m.openCheckpoints(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Load returns the model saved in a checkpoint folder (written by a Fit with
// Config.CheckpointDir), for Transform, Evaluate or to continue training.
// dir may also be the run folder of `tsimcne train`, whose checkpoints are
// in its RunCheckpointsDir sub-folder. The settings come from the checkpoint
// folder's config.json; opts may change the settings that do not affect
// training (e.g. Progress, Log).
//
// dir may also be a model file written by Model.Export (see LoadExport).
func Load(dir string, opts ...func(*Config)) (*Model, error) {
	if st, err := os.Stat(dir); err == nil && st.Mode().IsRegular() {
		return LoadExport(dir, opts...)
	}
	dir, has, findErr := CheckpointFolder(dir)
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFileName))
	if err != nil {
		return nil, fmt.Errorf("tsimcne.Load(%q): %w", dir, err)
	}
	cfg.CheckpointDir = dir
	for _, o := range opts {
		o(&cfg)
	}
	if findErr != nil {
		return nil, fmt.Errorf("tsimcne.Load(%q): %w", dir, findErr)
	}
	if !has {
		return nil, fmt.Errorf("tsimcne.Load(%q): no checkpoint in the folder", dir)
	}
	return New(cfg)
}

// Config returns the model's configuration (with defaults filled in).
func (m *Model) Config() Config { return m.cfg }

// Context returns the GoMLX context holding the model's variables.
func (m *Model) Context() *context.Context { return m.ctx }

// Backend returns the GoMLX backend the model computes on.
func (m *Model) Backend() backends.Backend { return m.backend }

// History returns the statistics of every epoch trained so far, including
// earlier sessions of a resumed run (kept in the checkpoint folder's
// history.json).
func (m *Model) History() []EpochStats { return append([]EpochStats(nil), m.history...) }

// Position is where training stands: the next (Stage, Epoch, Batch) to
// train. Stage 4 means training is complete.
type Position struct {
	Stage, Epoch, Batch int
}

// String returns e.g. "stage 1, epoch 3, batch 0".
func (p Position) String() string {
	if p.Stage > 3 {
		return "done"
	}
	return fmt.Sprintf("stage %d, epoch %d, batch %d", p.Stage, p.Epoch, p.Batch)
}

// Scope and names of the variables that hold the training position.
const (
	stateScope     = "/tsimcne_state"
	stateStage     = "stage"
	stateEpoch     = "epoch"
	stateBatch     = "batch"
	stateInputSize = "input_size"
	stateHeadDim   = "head_dim"
	stateDimMask   = "dim_mask"
	stateDataN     = "data_n"
)

// stateVar returns the int64 scalar state variable name, creating it with
// initial value def.
func (m *Model) stateVar(name string, def int64) *context.Variable {
	if v := m.ctx.InspectVariable(stateScope, name); v != nil {
		return v
	}
	v := m.ctx.InAbsPath(stateScope).Checked(false).VariableWithValue(name, def)
	v.Trainable = false
	return v
}

// stateValue returns the state variable name, or def where it cannot be
// read; checkState, run when a checkpoint or model file is loaded, reports
// such a variable as an error first.
func (m *Model) stateValue(name string, def int64) int {
	v, err := m.readState(name, def)
	if err != nil {
		return int(def)
	}
	return v
}

// readState reads the state variable name (creating it with def), which
// must be an int64 scalar.
func (m *Model) readState(name string, def int64) (int, error) {
	t, err := m.stateVar(name, def).Value()
	if err != nil {
		return 0, fmt.Errorf("training state %q: %w", name, err)
	}
	if t.DType() != dtypes.Int64 || t.Shape().Rank() != 0 {
		return 0, fmt.Errorf("training state %q is %s, want an int64 scalar", name, t.Shape())
	}
	return int(tensors.ToScalar[int64](t)), nil
}

// stateNames are the int64 state variables checkState verifies.
var stateNames = []string{stateStage, stateEpoch, stateBatch, stateInputSize, stateHeadDim, stateDataN}

// checkState verifies the training state a checkpoint or model file
// brought: int64 scalars in range (stage 0-4, no negative counts).
func (m *Model) checkState() error {
	for _, name := range stateNames {
		v, err := m.readState(name, 0)
		if err != nil {
			return err
		}
		if v < 0 || (name == stateStage && v > 4) {
			return fmt.Errorf("training state %q is %d: out of range", name, v)
		}
	}
	return nil
}

func (m *Model) setState(name string, value int) {
	_ = m.stateVar(name, 0).SetValue(tensors.FromScalar(int64(value)))
}

// Position returns the training position: the first stage with epochs and
// epoch 0 for a new model, Stage 4 once training is complete.
func (m *Model) Position() Position {
	p := Position{
		Stage: m.stateValue(stateStage, 0),
		Epoch: m.stateValue(stateEpoch, 0),
		Batch: m.stateValue(stateBatch, 0),
	}
	if p.Stage == 0 {
		p = Position{Stage: m.firstStage()}
	}
	return p
}

func (m *Model) setPosition(p Position) {
	m.setState(stateStage, p.Stage)
	m.setState(stateEpoch, p.Epoch)
	m.setState(stateBatch, p.Batch)
}

// firstStage returns the first stage with a positive number of epochs.
func (m *Model) firstStage() int {
	for s := 1; s <= 3; s++ {
		if m.cfg.Epochs[s-1] > 0 {
			return s
		}
	}
	return 4
}

// Trained reports whether training is complete.
func (m *Model) Trained() bool { return m.Position().Stage > 3 }

// HeadDim returns the width of the model's current output: PretrainDim
// while stage 1 trains (or when only stage 1 was trained), OutDim once stage
// 2 or 3 has started, and OutDim for an untrained model (random weights).
func (m *Model) HeadDim() int {
	if d := m.stateValue(stateHeadDim, 0); d > 0 {
		return d
	}
	return m.cfg.OutDim
}

// checkImages verifies a data set can be fed to the network.
func (m *Model) checkImages(ds *data.Dataset, what string) error {
	if ds == nil {
		return fmt.Errorf("%s: no data set", what)
	}
	if err := ds.Validate(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if ds.N == 0 {
		return fmt.Errorf("%s: data set %q is empty", what, ds.Name)
	}
	if ds.Channels != 3 {
		return fmt.Errorf("%s: data set %q has %d channels, want 3 (RGB)", what, ds.Name, ds.Channels)
	}
	size := ds.Height
	if m.cfg.Augment.Size > 0 {
		size = m.cfg.Augment.Size
	} else if ds.Height != ds.Width {
		return fmt.Errorf("%s: data set %q has non-square %dx%d images; resize them or set Augment.Size",
			what, ds.Name, ds.Height, ds.Width)
	}
	if m.inputSize == 0 {
		m.inputSize = m.stateValue(stateInputSize, 0)
	}
	if m.inputSize != 0 && m.inputSize != size {
		return fmt.Errorf("%s: data set %q gives %dx%d inputs, the model was trained on %dx%d",
			what, ds.Name, size, size, m.inputSize, m.inputSize)
	}
	m.inputSize = size
	m.setState(stateInputSize, size)
	return nil
}
