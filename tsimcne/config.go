package tsimcne

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gosimcne/gosimcne/kernels"

	"github.com/gosimcne/gosimcne/tsimcne/augment"
	"github.com/gosimcne/gosimcne/tsimcne/loss"
	"github.com/gosimcne/gosimcne/tsimcne/model"
	"github.com/gosimcne/gosimcne/tsimcne/optim"
)

// Config holds every setting of a t-SimCNE run. Start from a preset
// (PaperConfig, CPUConfig, QuickConfig or Preset(name)) and change fields;
// zero numeric fields take the documented defaults.
//
// A Config is saved as JSON next to the checkpoints (config.json), so a run
// can be resumed and a trained model loaded without repeating the settings.
type Config struct {
	// Backbone is the registered backbone (model.Backbones): "resnet18" is
	// the paper's CIFAR ResNet-18.
	Backbone string `json:"backbone"`
	// HiddenDim is the width of the projection head's hidden layer (1024).
	HiddenDim int `json:"hidden_dim"`
	// PretrainDim is the output width of stage 1 (128).
	PretrainDim int `json:"pretrain_dim"`
	// OutDim is the output width of stages 2 and 3: the map's dimension (2).
	OutDim int `json:"out_dim"`
	// Kernel is the similarity kernel in kernels.Parse syntax: "cauchy"
	// (t-SimCNE), "t:0.5" (Student-t with 0.5 degrees of freedom),
	// "gaussian", "cosine" (SimCLR).
	Kernel string `json:"kernel"`
	// MapKernel, if set, replaces Kernel in the stages that train the
	// OutDim-wide map (stages 2 and 3; the last, OutDim-wide epochs of
	// ScheduleAnnealed are not affected): e.g. "t:0.5" for heavier tails in
	// 2-D only.
	MapKernel string `json:"map_kernel,omitempty"`
	// Exaggeration weighs the attraction term of the loss in the stages
	// that train the map (2 and 3): loss = ρ·attraction + repulsion with
	// ρ = Exaggeration, as t-SNE's exaggeration (ρ > 1 draws each image's
	// views together harder than the repulsion spreads the images); 0 or
	// 1 is the plain InfoNCE loss.
	Exaggeration float64 `json:"exaggeration,omitempty"`
	// LearnDoF makes the degrees of freedom ν of the Student-t kernel a
	// trained parameter, starting from the kernel's (1 for "cauchy"), as
	// the reference's release 0.4 intends (there the parameter is logged but,
	// in 0.4.24, never enters the loss). It is trained as log ν (positive
	// by construction) at the weights' learning rate: the reference gives its
	// ν lr/100 over 1 000 epochs, which would hardly move it in a schedule of
	// tens of epochs. Needs a Cauchy or Student-t Kernel (and MapKernel).
	LearnDoF bool `json:"learn_dof,omitempty"`

	// BatchSize is the number of images per step (2·BatchSize views).
	BatchSize int `json:"batch_size"`
	// Schedule selects how training goes from PretrainDim to OutDim:
	// ScheduleStages (the paper's three stages; "" means it) or
	// ScheduleAnnealed (one stage whose output width is annealed).
	Schedule string `json:"schedule,omitempty"`
	// Epochs per stage: [128-D pre-training, 2-D output layer only, 2-D
	// fine-tuning]. A stage with 0 epochs is skipped; {0, 0, n} trains in
	// 2-D straight away. With ScheduleAnnealed, Epochs[0] is the length of
	// the single annealed stage and the others must be 0.
	Epochs [3]int `json:"epochs"`
	// WarmupEpochs per stage ([10, 0, 10] in the paper).
	WarmupEpochs [3]int `json:"warmup_epochs"`
	// LearningRate is the base rate; 0 means the paper's 0.03·BatchSize/256.
	LearningRate float64 `json:"learning_rate"`
	// StageLRFactors multiply LearningRate per stage ([1, 1, 0.001]).
	StageLRFactors [3]float64 `json:"stage_lr_factors"`
	// Warmup selects the warm-up formula (optim.WarmupReference reproduces
	// the reference, whose first warm-up epoch trains at rate 0).
	Warmup optim.WarmupMode `json:"warmup"`
	// Momentum (0.9) and WeightDecay (5e-4) of SGD; 0 means the default,
	// a negative value turns them off (plain SGD, no decay), as ClipValue.
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	// ClipValue clips gradients by value (the reference uses 4); negative
	// turns clipping off.
	ClipValue float64 `json:"clip_value"`
	// DropLast drops the last, partial batch of each epoch (the reference
	// keeps it).
	DropLast bool `json:"drop_last"`

	// Augment configures the random views (augment.DefaultConfig is the
	// paper's). Augment.Seed is ignored: Seed below seeds everything.
	Augment augment.Config `json:"augment"`

	// Seed makes a run reproducible: weights, data order and views.
	Seed uint64 `json:"seed"`

	// CheckpointDir, if set, holds config.json and a checkpoint written at
	// the end of every epoch (and on interruption); Fit resumes from it.
	CheckpointDir string `json:"-"`
	// KeepCheckpoints is how many checkpoints to keep (default 2: the newest
	// and one to fall back on if the newest is damaged).
	KeepCheckpoints int `json:"-"`
	// Progress selects how training reports progress (default ProgressAuto).
	Progress Progress `json:"-"`
	// Prefetch selects whether the next batch's views are made while a
	// training step runs (default PrefetchAuto). The batches are the same
	// either way.
	Prefetch Prefetch `json:"-"`
	// Devices, if above 0, trains data-parallel over that many devices of
	// the backend (XLA; the pure-Go backend has one device and no sharded
	// execution): a device mesh with one axis (BatchAxis), each step's
	// 2·BatchSize views split along it into equal contiguous blocks, one
	// per device, and the step compiled once for the whole batch with
	// GoMLX's AutoSharding (XLA's SPMD partitioner). BatchSize is the
	// global batch, and everything is defined on it as on one device: the
	// InfoNCE denominator of each view runs over the other 2·BatchSize-1
	// views of all devices; batch norm's statistics are those of the whole
	// batch (synchronised across devices, as SimCLR's, rather than per
	// device, which would let the devices' batches leak through their
	// statistics); the learning rate rule is the paper's for the global
	// batch, 0.03·BatchSize/256, whatever the number of devices. Weights
	// and optimizer state are replicated. 1 runs this sharded program on
	// one device (a check that it trains as the plain one, which 0, the
	// default, runs). BatchSize must be a multiple of Devices; an epoch's
	// last, smaller batch is dropped when its views do not split evenly.
	// Transform runs on one device.
	Devices int `json:"-"`
	// Log receives progress lines and messages; nil means os.Stdout.
	Log io.Writer `json:"-"`
	// EmbedBatchSize is the number of images Transform embeds per step
	// (default: DefaultEmbedPixels' worth, 500 images of 32x32).
	EmbedBatchSize int `json:"-"`
	// OnEpoch, if set, is called after every epoch, once its checkpoint
	// and history are written, with the model and the epoch's statistics:
	// e.g. a notebook's live view of the loss and the current map
	// (Model.Transform may be called; Model.HeadDim says whether the map
	// is 2-D yet). An error stops training (Fit returns it); the epoch is
	// saved, so the run resumes after it.
	OnEpoch func(m *Model, e EpochStats) error `json:"-"`
}

// Progress selects how Fit reports progress.
type Progress int

const (
	// ProgressAuto shows a progress bar on a terminal and in notebooks, and
	// one line per epoch elsewhere (logs, CI).
	ProgressAuto Progress = iota
	// ProgressBar uses GoMLX's progress bar, which writes to os.Stdout: with
	// a Config.Log other than os.Stdout, lines go to Log instead.
	ProgressBar
	// ProgressLines prints one line per epoch.
	ProgressLines
	// ProgressOff prints nothing.
	ProgressOff
)

// Prefetch selects when Fit makes each batch's views.
type Prefetch int

const (
	// PrefetchAuto prefetches on backends that compute away from the host
	// memory (XLA on a GPU), where the views are made and copied to the
	// device while the GPU runs the step. On the pure-Go backend the views
	// take about 2% of a step and making them alongside the step, which
	// uses all cores, was no faster (measured with the cpu preset).
	PrefetchAuto Prefetch = iota
	// PrefetchOn makes the next batch's views while a step runs.
	PrefetchOn
	// PrefetchOff makes each batch's views when the training loop asks for
	// them.
	PrefetchOff
)

// on reports whether to prefetch on a backend that does (accelerator) or
// does not compute away from host memory.
func (p Prefetch) on(accelerator bool) bool {
	return p == PrefetchOn || (p == PrefetchAuto && accelerator)
}

// Training schedules (Config.Schedule).
const (
	// ScheduleStages is the paper's scheme (reference v0.3.12): stage 1
	// trains everything with a PretrainDim-wide output, stage 2 a new
	// OutDim-wide output layer alone, stage 3 everything in OutDim.
	ScheduleStages = "stages"
	// ScheduleAnnealed is the reference's later scheme (release 0.4): one
	// stage of Epochs[0] epochs in which everything trains, the head keeps
	// its PretrainDim outputs, and the loss of epoch e uses only the first
	// AnnealedDim(e) of them, a width annealed by a cosine from PretrainDim
	// down to OutDim. The map is the first OutDim outputs.
	ScheduleAnnealed = "annealed"
)

// ScheduleNames lists the accepted Config.Schedule values.
func ScheduleNames() []string { return []string{ScheduleStages, ScheduleAnnealed} }

// Annealed reports whether c uses ScheduleAnnealed.
func (c Config) Annealed() bool { return c.Schedule == ScheduleAnnealed }

// AnnealedDim returns the output width the loss uses in epoch e (0-based)
// of the annealed stage: floor(OutDim + (PretrainDim+1-OutDim)/2 ·
// (1 + cos(π(e+1)/E))) for E = Epochs[0], kept within [OutDim,
// PretrainDim] (the reference's "cos_annealing" of its output dimension:
// PretrainDim at the start, OutDim in the last epoch). For the paper's
// schedule it returns PretrainDim in stage 1's epochs.
func (c Config) AnnealedDim(e int) int {
	c = c.withDefaults()
	E := c.Epochs[0]
	if !c.Annealed() || E <= 0 {
		return c.PretrainDim
	}
	hi, lo := float64(c.PretrainDim), float64(c.OutDim)
	d := int(math.Floor(lo + 0.5*(hi+1-lo)*(1+math.Cos(math.Pi*float64(e+1)/float64(E)))))
	return max(c.OutDim, min(c.PretrainDim, d))
}

// Preset names.
const (
	PresetPaper = "paper"
	PresetCPU   = "cpu"
	PresetQuick = "quick"
	// PresetGPUShort is the paper's network and batch with a schedule
	// that fits a few minutes of one H100/H200.
	PresetGPUShort = "gpu-short"
)

// PaperConfig returns the paper's settings: ResNet-18, batch 1024, epochs
// [1000, 50, 450], Cauchy kernel, SGD with momentum, the paper's
// augmentations. It needs a GPU (XLA backend) to finish in reasonable time.
func PaperConfig() Config {
	return Config{
		Backbone:       "resnet18",
		HiddenDim:      model.DefaultHiddenDim,
		PretrainDim:    128,
		OutDim:         2,
		Kernel:         kernels.NameCauchy,
		BatchSize:      1024,
		Epochs:         [3]int{1000, 50, 450},
		WarmupEpochs:   [3]int{10, 0, 10},
		StageLRFactors: [3]float64{1, 1, 1.0 / 1000},
		Momentum:       optim.DefaultMomentum,
		WeightDecay:    optim.DefaultWeightDecay,
		ClipValue:      optim.DefaultClipValue,
		Augment:        augment.DefaultConfig(),
		Seed:           1,
	}
}

// CPUConfig returns the settings sized for a CPU with the pure-Go backend:
// the paper's method and augmentations with a small backbone (cnn4), a
// smaller batch and fewer epochs, chosen by measurement to train a map of
// all 60 000 CIFAR-10 images in under an hour on 2 cores (see
// BENCHMARKS.md, "Maps with islands").
//
// Measured at this scale: a 4x higher base rate than the paper's
// 0.03·B/256 and a stage-3 factor of 1/10 instead of 1/1000 gave better
// maps (1/10 also beat 3/10 and 3/100 after a 35-epoch stage 1), because
// with tens instead of hundreds of epochs the 2-D stage has far fewer steps
// to move the points. The rate is set explicitly, so it does not follow
// BatchSize: with another batch size scale it too (0.12·B/256).
func CPUConfig() Config {
	c := PaperConfig()
	c.Backbone = "cnn4"
	c.HiddenDim = 512
	c.BatchSize = 256
	c.Epochs = [3]int{46, 2, 26}
	c.WarmupEpochs = [3]int{2, 0, 1}
	c.LearningRate = 0.12
	c.StageLRFactors = [3]float64{1, 1, 0.1}
	c.Warmup = optim.WarmupLinear
	return c
}

// QuickConfig returns a smoke-test size: the smallest backbone and a few
// short epochs, to check that everything runs (minutes on a CPU); its map
// is not meant to be good.
func QuickConfig() Config {
	c := CPUConfig()
	c.Backbone = "cnn-tiny"
	c.HiddenDim = 128
	c.PretrainDim = 32
	c.BatchSize = 64
	c.Epochs = [3]int{2, 1, 1}
	c.WarmupEpochs = [3]int{0, 0, 0}
	c.LearningRate = 0 // the paper's rule: 0.03·B/256
	c.StageLRFactors = PaperConfig().StageLRFactors
	return c
}

// GPUShortConfig returns the paper's network, batch and augmentations with
// a short schedule, sized to train a CIFAR-10 map on all 60 000 images in
// under 8 minutes of one H100 or H200 with the XLA backend, compilation
// included: epochs [60, 5, 35] (the measured 3.2 s per H100 epoch gives
// about 5.3 minutes of steps) with the cpu preset's short-schedule
// learning rates for the 2-D stage, and DropLast so that each stage
// compiles one training graph (a last, smaller batch cost a second XLA
// compilation of about a minute per stage; the reference keeps that batch).
func GPUShortConfig() Config {
	c := PaperConfig()
	c.Epochs = [3]int{60, 5, 35}
	c.WarmupEpochs = [3]int{5, 0, 2}
	c.StageLRFactors = [3]float64{1, 1, 0.1}
	c.Warmup = optim.WarmupLinear
	c.DropLast = true
	return c
}

// Presets returns the preset names.
func Presets() []string { return []string{PresetPaper, PresetCPU, PresetQuick, PresetGPUShort} }

// Preset returns the named preset's Config.
func Preset(name string) (Config, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case PresetPaper:
		return PaperConfig(), nil
	case PresetCPU:
		return CPUConfig(), nil
	case PresetQuick:
		return QuickConfig(), nil
	case PresetGPUShort:
		return GPUShortConfig(), nil
	}
	return Config{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(Presets(), ", "))
}

// withDefaults fills zero fields with the paper's defaults.
func (c Config) withDefaults() Config {
	p := PaperConfig()
	if c.Backbone == "" {
		c.Backbone = p.Backbone
	}
	if c.HiddenDim == 0 {
		c.HiddenDim = p.HiddenDim
	}
	if c.PretrainDim == 0 {
		c.PretrainDim = p.PretrainDim
	}
	if c.OutDim == 0 {
		c.OutDim = p.OutDim
	}
	if c.Kernel == "" {
		c.Kernel = p.Kernel
	}
	if c.BatchSize == 0 {
		c.BatchSize = p.BatchSize
	}
	if c.StageLRFactors == [3]float64{} {
		c.StageLRFactors = p.StageLRFactors
	}
	if c.Momentum == 0 {
		c.Momentum = p.Momentum
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = p.WeightDecay
	}
	if c.ClipValue == 0 {
		c.ClipValue = p.ClipValue
	}
	if c.KeepCheckpoints == 0 {
		c.KeepCheckpoints = 2
	}
	return c
}

// DefaultEmbedPixels is the number of pixels Transform embeds per step when
// Config.EmbedBatchSize is 0: 500 images of 32x32, 125 of 64x64, 55 of
// 96x96, so that the memory of an embedding step does not grow with the
// image size (ResNet-18 at 96 px took 8.5 GiB at 500 images a step).
const DefaultEmbedPixels = 500 * 32 * 32

// embedBatchSize returns the images per embedding step for images of h×w
// pixels: Config.EmbedBatchSize, or DefaultEmbedPixels' worth (at least 8).
func (c Config) embedBatchSize(h, w int) int {
	if c.EmbedBatchSize > 0 {
		return c.EmbedBatchSize
	}
	return max(8, DefaultEmbedPixels/max(1, h*w))
}

// BaseLearningRate returns the base learning rate in effect:
// LearningRate, or 0.03·BatchSize/256.
func (c Config) BaseLearningRate() float64 {
	c = c.withDefaults()
	if c.LearningRate > 0 {
		return c.LearningRate
	}
	return optim.BaseLearningRate(c.BatchSize)
}

// Schedules returns the learning-rate schedule of each stage.
func (c Config) Schedules() [3]optim.Schedule {
	c = c.withDefaults()
	lr := c.BaseLearningRate()
	var s [3]optim.Schedule
	for i := range s {
		s[i] = optim.Schedule{
			PeakLR:       lr * c.StageLRFactors[i],
			Epochs:       c.Epochs[i],
			WarmupEpochs: c.WarmupEpochs[i],
			Warmup:       c.Warmup,
		}
	}
	return s
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := model.Lookup(c.Backbone); err != nil {
		return fmt.Errorf("tsimcne config: %w", err)
	}
	if _, err := kernels.Parse(c.Kernel); err != nil {
		return fmt.Errorf("tsimcne config: kernel: %w", err)
	}
	if c.MapKernel != "" {
		if _, err := kernels.Parse(c.MapKernel); err != nil {
			return fmt.Errorf("tsimcne config: map kernel: %w", err)
		}
	}
	if c.LearnDoF {
		for _, spec := range []string{c.Kernel, c.MapKernel} {
			if _, err := initialDoF(spec); spec != "" && err != nil {
				return fmt.Errorf("tsimcne config: learned degrees of freedom: %w", err)
			}
		}
	}
	if c.Exaggeration < 0 || math.IsNaN(c.Exaggeration) || math.IsInf(c.Exaggeration, 0) {
		return fmt.Errorf("tsimcne config: exaggeration must be a finite number >= 0, got %v", c.Exaggeration)
	}
	switch {
	case c.BatchSize < 1:
		return fmt.Errorf("tsimcne config: batch size must be >= 1, got %d", c.BatchSize)
	case c.Devices < 0:
		return fmt.Errorf("tsimcne config: devices must be >= 0, got %d", c.Devices)
	case c.Devices > 0 && c.BatchSize%c.Devices != 0:
		return fmt.Errorf("tsimcne config: batch size %d does not split over %d devices (make it a multiple)", c.BatchSize, c.Devices)
	case c.HiddenDim < 1 || c.PretrainDim < 1 || c.OutDim < 1:
		return fmt.Errorf("tsimcne config: widths must be positive (hidden %d, pretrain %d, out %d)",
			c.HiddenDim, c.PretrainDim, c.OutDim)
	case c.Epochs[0] < 0 || c.Epochs[1] < 0 || c.Epochs[2] < 0:
		return fmt.Errorf("tsimcne config: negative epochs %v", c.Epochs)
	case c.Epochs == [3]int{}:
		return fmt.Errorf("tsimcne config: all stages have 0 epochs")
	case c.Schedule != "" && c.Schedule != ScheduleStages && c.Schedule != ScheduleAnnealed:
		return fmt.Errorf("tsimcne config: unknown schedule %q (known: %s)", c.Schedule, strings.Join(ScheduleNames(), ", "))
	case c.Annealed() && (c.Epochs[0] == 0 || c.Epochs[1] != 0 || c.Epochs[2] != 0):
		return fmt.Errorf("tsimcne config: the annealed schedule trains one stage: epochs must be N,0,0 with N > 0, got %v", c.Epochs)
	case c.Annealed() && c.OutDim > c.PretrainDim:
		return fmt.Errorf("tsimcne config: the annealed schedule needs out dim %d <= pretrain dim %d", c.OutDim, c.PretrainDim)
	case !(c.LearningRate >= 0) || math.IsInf(c.LearningRate, 0) || !(c.Momentum < 1) || math.IsNaN(c.WeightDecay) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("tsimcne config: invalid learning rate %g, momentum %g or weight decay %g",
			c.LearningRate, c.Momentum, c.WeightDecay)
	}
	for i, s := range c.Schedules() {
		if s.Epochs == 0 {
			continue
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("tsimcne config: stage %d: %w", i+1, err)
		}
	}
	aug := c.Augment
	if err := aug.Validate(); err != nil {
		return fmt.Errorf("tsimcne config: augmentations: %w", err)
	}
	return nil
}

// sgdMomentum and sgdWeightDecay return the optimizer's values: negative
// fields mean off.
func (c Config) sgdMomentum() float64    { return max(c.withDefaults().Momentum, 0) }
func (c Config) sgdWeightDecay() float64 { return max(c.withDefaults().WeightDecay, 0) }

// stageLoss returns the loss function of a stage (1, 2 or 3): InfoNCE under
// Kernel, or in the map's stages (2 and 3) under MapKernel with the
// attraction weighted by Exaggeration.
func (c Config) stageLoss(stage int) (losses.LossFn, error) {
	rho := 1.0
	if stage > 1 && c.Exaggeration > 0 {
		rho = c.Exaggeration
	}
	k, err := kernels.Parse(c.stageKernel(stage))
	if err != nil {
		return nil, fmt.Errorf("stage %d kernel: %w", stage, err)
	}
	if c.LearnDoF {
		return loss.StudentTLossFn(rho), nil
	}
	return loss.WeightedLossFn(k, rho), nil
}

// stageKernel returns the kernel spec of a stage: MapKernel, if set, in
// the map's stages (2 and 3), else Kernel.
func (c Config) stageKernel(stage int) string {
	if stage > 1 && c.MapKernel != "" {
		return c.MapKernel
	}
	return c.Kernel
}

// initialDoF returns the degrees of freedom a learned ν starts from: the
// kernel's (Cauchy: 1).
func initialDoF(spec string) (float64, error) {
	k, err := kernels.Parse(spec)
	if err != nil {
		return 0, err
	}
	switch k := k.(type) {
	case kernels.Cauchy:
		return 1, nil
	case kernels.StudentT:
		if k.DoF == 0 {
			return 1, nil
		}
		return k.DoF, nil
	}
	return 0, fmt.Errorf("kernel %s has no degrees of freedom (use cauchy or t:DOF)", k)
}

// modelConfig returns the network configuration of a stage (1, 2 or 3).
func (c Config) modelConfig(stage, inputSize int) model.Config {
	c = c.withDefaults()
	m := model.Config{
		Backbone:  c.Backbone,
		HiddenDim: c.HiddenDim,
		OutDim:    c.OutDim,
		InputSize: inputSize,
	}
	switch stage {
	case 1:
		m.OutDim = c.PretrainDim
	case 2:
		m.FreezeBackbone = true
		fallthrough
	default:
		if c.OutDim <= 2 {
			m.OutputInitStd = model.DefaultOutputInitStd
		}
	}
	return m
}

// trainingFields returns the settings that must not change when a run is
// resumed, by JSON name.
func (c Config) trainingFields() map[string]string {
	b, _ := json.Marshal(c.withDefaults())
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// diffTraining lists the training settings that differ between c and other.
func (c Config) diffTraining(other Config) []string {
	a, b := c.trainingFields(), other.trainingFields()
	var diff []string
	for k, v := range a {
		if b[k] != v {
			diff = append(diff, fmt.Sprintf("%s: %s (checkpoint) vs %s (now)", k, b[k], v))
		}
	}
	sort.Strings(diff)
	return diff
}

// ConfigFileName is the name of the saved Config next to the checkpoints.
const ConfigFileName = "config.json"

// SaveConfig writes c as indented JSON to path (atomically).
func SaveConfig(c Config, path string) error {
	b, err := json.MarshalIndent(c.withDefaults(), "", "  ")
	if err != nil {
		return fmt.Errorf("saving config: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving config: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("saving config: %w", err)
	}
	return nil
}

// LoadConfig reads a Config written by SaveConfig.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("loading config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("loading config %s: %w", path, err)
	}
	return c, nil
}
