package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
	"github.com/gosimcne/gosimcne/tsimcne/model"
)

// trainOptions are the flags of `tsimcne train`.
type trainOptions struct {
	preset   *choiceValue
	quick    bool
	dataset  string
	dataDir  string
	out      string
	resume   bool
	backbone string
	batch    int
	epochs   stagesValue
	warmup   stagesValue
	stageLR  factorsValue
	hidden   int
	lr       float64
	kernel   string
	mapKern  string
	exagg    float64
	learnDoF bool
	momentum float64
	decay    float64
	schedule *choiceValue
	seed     uint64

	eval         *choiceValue
	trainLimit   limitValue
	testLimit    limitValue
	holdout      int
	cifarBatches int
	imageSize    int
	skipBad      bool

	k        int
	features bool
	pictures bool
	progress *choiceValue
	prefetch *choiceValue
}

func (o *trainOptions) define(fs *flag.FlagSet) {
	o.preset = newChoice(tsimcne.PresetCPU, tsimcne.Presets()...)
	o.eval = newChoice("", evalTest, evalHoldout)
	o.progress = newChoice("auto", "auto", "bar", "lines", "off")
	fs.Var(o.preset, "preset", "settings to start from, a `preset`: paper (ResNet-18, batch 1024, epochs 1000,50,450: needs a GPU), "+
		"cpu (small CNN sized for about an hour on 2 CPU cores), quick (smoke test: cnn-tiny, 4 short epochs on at most 10 000 images, about a minute), "+
		"gpu-short (ResNet-18, batch 1024, epochs 60,5,35: under 8 minutes on an H100 with XLA)")
	fs.BoolVar(&o.quick, "quick", false, "same as -preset quick")
	fs.StringVar(&o.dataset, "dataset", dsCIFAR10, datasetHelp)
	fs.StringVar(&o.dataDir, "data", "", "data `folder` (default $TSIMCNE_DATA, else gosimcne in the user cache folder)")
	fs.StringVar(&o.out, "out", "", "run `folder` for checkpoints, embeddings, metrics and pictures (default runs/<dataset>-<preset>)")
	fs.BoolVar(&o.resume, "resume", false, "continue the run in -out from its checkpoint, with its saved settings")
	fs.StringVar(&o.backbone, "backbone", "", "backbone `name`, overrides the preset: "+strings.Join(model.Backbones(), ", "))
	fs.IntVar(&o.batch, "batch", 0, "batch `size` (images per step; 2x as many views), overrides the preset; the learning rate scales with it unless -lr is given")
	fs.Var(&o.epochs, "epochs", "epochs of the three stages `a,b,c` (128-D pre-training, 2-D output layer only, 2-D fine-tuning), e.g. 1000,50,450")
	fs.Var(&o.warmup, "warmup", "warm-up epochs of the three stages `a,b,c`, e.g. 10,0,10")
	fs.Float64Var(&o.lr, "lr", 0, "base learning `rate` (default: the preset's; paper: 0.03*batch/256, stage 3 at 1/1000 of it; cpu: 0.12, stage 3 at 1/10)")
	o.warmup.zeroOK = true
	fs.Var(&o.stageLR, "stage-lr", "learning-rate factors of the three stages `a,b,c` (paper: 1,1,0.001; e.g. 0,0,1 with -epochs 0,0,N trains in 2-D straight away)")
	fs.IntVar(&o.hidden, "hidden", 0, "`width` of the projection head's hidden layer, overrides the preset (paper: 1024)")
	fs.StringVar(&o.kernel, "kernel", "", "similarity `kernel`: cauchy (t-SimCNE), t:DOF (Student t), gaussian, cosine (SimCLR)")
	fs.StringVar(&o.mapKern, "map-kernel", "", "similarity `kernel` of the 2-D stages (2 and 3) if other than -kernel, e.g. t:0.5 for heavier tails in the map")
	fs.Float64Var(&o.exagg, "exaggeration", 0, "`weight` of the loss's attraction term in the 2-D stages (1 = plain InfoNCE; default the preset's)")
	fs.Float64Var(&o.momentum, "momentum", 0, "SGD `momentum` in [0, 1) (default the preset's, 0.9; 0 turns it off)")
	fs.Float64Var(&o.decay, "weight-decay", 0, "SGD weight `decay` >= 0 (default the preset's, 5e-4; 0 turns it off)")
	fs.BoolVar(&o.learnDoF, "learn-dof", false, "train the Student-t kernel's degrees of freedom with the network, starting from -kernel's (cauchy: 1)")
	o.schedule = newChoice(tsimcne.ScheduleStages, tsimcne.ScheduleNames()...)
	fs.Var(o.schedule, "schedule", "training `scheme`: stages (the paper's three stages) or annealed (one stage whose output width "+
		"goes from 128 to 2 by a cosine, as the reference's release 0.4; without -epochs it trains the preset's stage-1 plus stage-3 epochs)")
	fs.Uint64Var(&o.seed, "seed", 0, "random `seed` for weights, data order, views and data subsets (default: the preset's, 1)")
	fs.Var(o.eval, "eval", "kNN evaluation `mode`: test (train -> official test set; default for quick) or holdout "+
		"(train on train+test, hold out a stratified part; the paper's, default for paper, cpu and for folders without train/ and test/)")
	fs.Var(&o.trainLimit, "train-limit", "use only `N` training images, a stratified random subset (default all)")
	fs.Var(&o.testLimit, "test-limit", "use only `N` test images with -eval test (default all)")
	fs.IntVar(&o.holdout, "holdout", 0, "images held out for -eval holdout (default min(10000, N/6))")
	fs.IntVar(&o.cifarBatches, "cifar-batches", 0, "CIFAR-10 training batches to use, 1-5 (default 1 for quick, 5 for paper and cpu; missing ones are skipped)")
	fs.IntVar(&o.imageSize, "image-size", 32, "side in `pixels` that folder images are resized to")
	fs.BoolVar(&o.skipBad, "skip-bad-images", false, "skip images of a folder that cannot be read (each one is listed on stderr) instead of stopping")
	fs.IntVar(&o.k, "k", knn.DefaultK, "neighbours for the kNN accuracy")
	fs.BoolVar(&o.features, "features", true, "also report the kNN accuracy of the backbone features")
	fs.BoolVar(&o.pictures, "pictures", true, "draw the pictures (history.png, map.png, map.svg, thumbnails.png, outliers.png, outliers_map.png, map.html)")
	fs.Var(o.progress, "progress", "progress display `mode`: auto (a bar on a terminal, else a line per epoch), bar, lines or off")
	o.prefetch = newChoice("auto", "auto", "on", "off")
	fs.Var(o.prefetch, "prefetch", "make the next batch's views while a step runs: `mode` auto (on GPUs), on or off; the batches are the same either way")
}

func trainCommand() *command {
	return &command{
		name:     "train",
		synopsis: "train a map, then write embeddings, kNN metrics and pictures",
		usage:    "tsimcne train [-preset paper|cpu|quick] [-dataset NAME] [-out DIR] [-resume] [flags]",
		help: `Trains t-SimCNE on the training images (three stages: 128-D pre-training, a new
2-D output layer alone, 2-D fine-tuning), then embeds the training and test
images and writes to the run folder (-out):

  checkpoints/                 weights, optimizer state and position after every epoch
  config.json, run.json        the settings and the data selection
  embedding_train.npy/.csv     the map of the training (kNN reference) images: x, y, label, class
  embedding_test.npy/.csv      the map of the test (held-out) images
  metrics.json                 kNN accuracy (k=15 by default) of the 2-D map and of the backbone
                               features, wall times, machine, config, per-epoch history
  history.json                 the per-epoch loss, learning rate and time of all sessions
  history.png                  the training curves: loss and learning rate per epoch
  map.png, map.svg, thumbnails.png, outliers.png, outliers_map.png, map.html
                               the pictures, of the train and test images together (an
                               outlier's index counts the rows of embedding_train, then
                               embedding_test)

Ctrl-C (or SIGTERM) stops after the current step and saves a checkpoint (exit
code 130); run the same command with -resume to continue. Without -resume an
existing checkpoint in -out is an error. -resume on a finished run only redoes
the outputs.

CIFAR-10: the paper and cpu presets follow the paper's protocol: they train on
all 60 000 images (five training batches plus the test batch; no labels are
used in training) and report the kNN accuracy of a stratified held-out 10 000
against the other 50 000. The quick preset trains on data_batch_1 (10 000
images) and evaluates on test_batch; -eval test -cifar-batches 1 gives that
protocol with any preset. Batches not present locally are skipped with a note.`,
		examples: `  tsimcne train -preset quick                        # smoke test on CIFAR-10
  tsimcne train --quick -dataset folder:./photos -out runs/photos
  tsimcne train -preset cpu -epochs 40,4,16 -out runs/c10-long
  tsimcne train -out runs/c10-long -resume           # after Ctrl-C
  tsimcne train -preset paper -dataset cifar100      # on a GPU: GOMLX_BACKEND=xla:cuda, built with -tags xla
  tsimcne train -dataset fashion-mnist -train-limit 10000`,
		flags: func(fs *flag.FlagSet) { new(trainOptions).define(fs) },
		run:   runTrain,
	}
}

// presetData returns the data defaults of a preset: the paper's protocol
// for paper and cpu (train on all 60 000 CIFAR-10 images, kNN of a
// stratified held-out 10 000 against the other 50 000); for quick (a smoke
// test of about a minute on 2 cores) data_batch_1 -> test_batch, and at
// most quickTrainImages training images of any other data set.
func presetData(preset string) (eval string, cifarBatches, trainLimit int) {
	if preset == tsimcne.PresetQuick {
		return evalTest, 1, quickTrainImages
	}
	return evalHoldout, len(data.CIFAR10TrainFiles), 0
}

// quickTrainImages bounds the quick preset's training images (CIFAR-10's
// data_batch_1 holds as many), so that it takes about a minute on any data
// set.
const quickTrainImages = 10000

func runTrain(e *env, args []string) error {
	var o trainOptions
	fset := flag.NewFlagSet("train", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	set := flagsSet(fset)
	preset := o.preset.v
	if o.quick {
		if set["preset"] && preset != tsimcne.PresetQuick {
			return usagef("-quick contradicts -preset %s", preset)
		}
		preset = tsimcne.PresetQuick
		set["preset"] = true
	}
	if err := o.checkValues(set); err != nil {
		return err
	}
	dataset, err := normalizeDataset(o.dataset)
	if err != nil {
		return usagef("-dataset: %v", err)
	}
	out := o.out
	if out == "" {
		out = filepath.Join("runs", datasetShortName(dataset)+"-"+preset)
	}
	ckptDir := filepath.Join(out, checkpointsDir)
	has, err := tsimcne.HasCheckpoint(ckptDir)
	if err != nil {
		return fmt.Errorf("run folder %s: %w", out, err)
	}
	switch {
	case has && !o.resume:
		return fmt.Errorf("run folder %s already holds a checkpoint (in %s): pass -resume to continue that run, or choose another -out",
			out, ckptDir)
	case !has && o.resume:
		return fmt.Errorf("-resume: no checkpoint in %s to continue; leave out -resume to start a new run there", ckptDir)
	}

	// The settings: the saved ones when resuming (flags given must agree),
	// else the preset's with the flags' overrides.
	var (
		cfg  tsimcne.Config
		info runInfo
	)
	if o.resume {
		if cfg, err = tsimcne.LoadConfig(filepath.Join(ckptDir, tsimcne.ConfigFileName)); err != nil {
			return fmt.Errorf("-resume: %w", err)
		}
		info, err = readRunInfo(out)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// A checkpoint folder made elsewhere (e.g. in a notebook):
			// the data flags say which images.
			e.printf("note: %s has no %s: the data flags given (or their defaults) select the images\n", out, runInfoFile)
			info = o.newRunInfo(preset, dataset, cfg.Seed, set, args)
		case err != nil:
			return fmt.Errorf("-resume: %w", err)
		default:
			if set["preset"] && preset != info.Preset {
				return fmt.Errorf("-resume: the run in %s was started with -preset %s, not %s", out, info.Preset, preset)
			}
			if err := o.checkResumeData(info.Data, dataset, set); err != nil {
				return err
			}
		}
		preset = info.Preset
		if set["k"] || info.K == 0 {
			info.K = o.k
		}
		if set["features"] {
			info.Features = o.features
		}
		if set["data"] {
			// The data may have moved: remember where it is now, for plot
			// and embed. (The library checks the number of images.)
			info.Data.DataDir, _ = filepath.Abs(o.dataDir)
		}
	} else {
		if cfg, err = tsimcne.Preset(preset); err != nil {
			return usagef("%v", err)
		}
		info = o.newRunInfo(preset, dataset, cfg.Seed, set, args)
	}
	if info.Data.Eval == evalTest && !hasOfficialTest(info.Data.Dataset) {
		if set["eval"] {
			return fmt.Errorf("-eval test: %s has no train/ and test/ sub-folders; use -eval holdout",
				strings.TrimPrefix(info.Data.Dataset, folderPrefix))
		}
		info.Data.Eval = evalHoldout
	}
	o.applyConfig(&cfg, set)
	for i := range 3 {
		if w, n := cfg.WarmupEpochs[i], cfg.Epochs[i]; n > 0 && w > n {
			if set["warmup"] {
				return usagef("-warmup: stage %d warms up for %d epochs but has %d (-epochs)", i+1, w, n)
			}
			e.printf("note: stage %d's warm-up of %d epochs (the preset's) is longer than its %d epochs: its learning rate never reaches the peak (set -warmup)\n", i+1, w, n)
		}
	}
	cfg.Prefetch = map[string]tsimcne.Prefetch{"auto": tsimcne.PrefetchAuto, "on": tsimcne.PrefetchOn, "off": tsimcne.PrefetchOff}[o.prefetch.v]
	cfg.CheckpointDir = ckptDir
	cfg.Log = e.stdout
	cfg.Progress = progressMode(o.progress.v, e.stdout)
	if err := cfg.Validate(); err != nil {
		return err
	}

	// The images.
	t0 := time.Now()
	info.Data.warn = e.stderr
	rd, err := loadRunData(info.Data)
	if err != nil {
		return err
	}
	dataSeconds := time.Since(t0).Seconds()
	for _, n := range rd.Notes {
		e.printf("note: %s\n", n)
	}
	e.printf("Data: training on %s (%d images of %dx%d)", rd.Fit.Name, rd.Fit.N, rd.Fit.Height, rd.Fit.Width)
	if rd.Test != nil {
		e.printf("; kNN %s -> %s (%d -> %d images)", rd.Train.Name, rd.Test.Name, rd.Train.N, rd.Test.N)
	}
	e.printf("; loaded in %.1fs\n", dataSeconds)
	if cfg.BatchSize > rd.Fit.N {
		return fmt.Errorf("batch size %d is larger than the %d training images: pass a smaller -batch", cfg.BatchSize, rd.Fit.N)
	}
	if rd.Test != nil && info.K > rd.Train.N {
		return fmt.Errorf("-k %d is more than the %d kNN reference images", info.K, rd.Train.N)
	}

	// The run folder.
	if err := os.MkdirAll(ckptDir, 0o755); err != nil {
		return fmt.Errorf("creating the run folder: %w", err)
	}
	if !o.resume {
		// A run that died before its first checkpoint leaves a config.json
		// behind that would block a new run with other settings.
		if err := os.Remove(filepath.Join(ckptDir, tsimcne.ConfigFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := writeRunInfo(out, info); err != nil {
		return err
	}
	m, err := tsimcne.New(cfg)
	if err != nil {
		return err
	}
	if err := tsimcne.SaveConfig(m.Config(), filepath.Join(out, runConfigFile)); err != nil {
		return err
	}
	// Training.
	c := m.Config()
	pos := m.Position()
	switch {
	case pos.Stage > 3:
		e.printf("Training is complete (checkpoint in %s): redoing the outputs only.\n", ckptDir)
	case o.resume:
		e.printf("Resuming at %s.\n", pos)
		fallthrough
	default:
		e.printf("Training t-SimCNE (preset %s): backbone %s, batch %d, epochs %d,%d,%d, lr %.4g, kernel %s, seed %d, backend %s\n",
			preset, c.Backbone, c.BatchSize, c.Epochs[0], c.Epochs[1], c.Epochs[2], c.BaseLearningRate(), c.Kernel, c.Seed, m.Backend().Name())
		e.printf("Run folder: %s (Ctrl-C stops and saves a checkpoint; continue with -resume)\n", out)
	}
	t0 = time.Now()
	fitErr := fitWithSignals(e, m, rd.Fit)
	trainSeconds := time.Since(t0).Seconds()
	// The library keeps the history of every session in the checkpoint folder.
	history := m.History()
	if err := tsimcne.WriteJSON(filepath.Join(out, historyFile), history); err != nil {
		return err
	}
	if errors.Is(fitErr, tsimcne.ErrInterrupted) {
		fmt.Fprintf(e.stderr, "tsimcne train: %v\n", fitErr)
		fmt.Fprintf(e.stderr, "Training stopped after %s; the checkpoint is in %s. Continue with:\n  tsimcne train -out %s -resume\n",
			formatSeconds(trainSeconds), ckptDir, out)
		return errInterruptedExit
	}
	if fitErr != nil {
		return fitErr
	}
	if pos.Stage <= 3 {
		e.printf("Training done in %s.\n", formatSeconds(trainSeconds))
	}

	// Evaluation and outputs.
	res := &trainResult{out: out, preset: preset, info: info, rd: rd, model: m, history: history,
		k: info.K, features: info.Features, timing: timing{DataSeconds: dataSeconds, TrainSeconds: trainSeconds}}
	if err := res.evaluate(e); err != nil {
		return err
	}
	if err := res.writeOutputs(e, o.pictures); err != nil {
		return err
	}
	return nil
}

// newRunInfo returns the run.json of a new run from the preset and the
// flags.
func (o *trainOptions) newRunInfo(preset, dataset string, seed uint64, set map[string]bool, args []string) runInfo {
	eval, batches, limit := presetData(preset)
	info := runInfo{Preset: preset, K: o.k, Features: o.features,
		Created: time.Now().UTC().Round(time.Second), Command: append([]string{"train"}, args...)}
	info.Data = dataSpec{Dataset: dataset, Eval: eval, CIFARBatches: batches, TrainLimit: limit, Holdout: o.holdout, Seed: seed}
	if set["seed"] {
		info.Data.Seed = o.seed
	}
	o.applyData(&info.Data, set)
	if info.Data.DataDir == "" && os.Getenv(data.EnvDataDir) != "" {
		// Remember the folder $TSIMCNE_DATA named, so that plot and embed
		// find the images without it.
		info.Data.DataDir, _ = filepath.Abs(os.Getenv(data.EnvDataDir))
	}
	return info
}

// checkValues rejects flag values that cannot work, as usage errors.
func (o *trainOptions) checkValues(set map[string]bool) error {
	if set["backbone"] {
		if _, err := model.Lookup(o.backbone); err != nil {
			return usagef("-backbone: %v", err)
		}
	}
	if set["kernel"] {
		if _, err := kernels.Parse(o.kernel); err != nil {
			return usagef("-kernel: %v", err)
		}
	}
	if set["map-kernel"] && o.mapKern != "" {
		if _, err := kernels.Parse(o.mapKern); err != nil {
			return usagef("-map-kernel: %v", err)
		}
	}
	if set["momentum"] && !(o.momentum >= 0 && o.momentum < 1) {
		return usagef("-momentum must be in [0, 1), got %v", o.momentum)
	}
	if set["weight-decay"] && !(o.decay >= 0 && !math.IsInf(o.decay, 0)) {
		return usagef("-weight-decay must be a finite number >= 0, got %v", o.decay)
	}
	if set["exaggeration"] && !(o.exagg > 0 && !math.IsInf(o.exagg, 0)) {
		return usagef("-exaggeration must be a positive number, got %v", o.exagg)
	}
	switch {
	case set["batch"] && o.batch < 1:
		return usagef("-batch must be at least 1")
	case !(o.lr >= 0) || math.IsInf(o.lr, 0):
		return usagef("-lr must be a positive number (0 means the default), got %v", o.lr)
	case o.holdout < 0:
		return usagef("-holdout must be >= 0")
	case set["cifar-batches"] && (o.cifarBatches < 1 || o.cifarBatches > 5):
		return usagef("-cifar-batches must be 1 to 5")
	case o.imageSize < 4 || o.imageSize > 1024:
		return usagef("-image-size must be between 4 and 1024")
	case o.k < 1:
		return usagef("-k must be at least 1")
	}
	return nil
}

// applyData sets the data flags given on the command line.
func (o *trainOptions) applyData(d *dataSpec, set map[string]bool) {
	if set["data"] {
		d.DataDir, _ = filepath.Abs(o.dataDir)
	}
	if set["eval"] {
		d.Eval = o.eval.v
	}
	if set["train-limit"] {
		d.TrainLimit = o.trainLimit.n
	}
	if set["test-limit"] {
		d.TestLimit = o.testLimit.n
	}
	if set["holdout"] {
		d.Holdout = o.holdout
	}
	if set["cifar-batches"] {
		d.CIFARBatches = o.cifarBatches
	}
	if strings.HasPrefix(d.Dataset, folderPrefix) {
		d.ImageSize = o.imageSize
	}
	if set["skip-bad-images"] {
		d.SkipBadImages = o.skipBad
	}
}

// checkResumeData makes sure the data flags given with -resume select the
// images the run was trained on. -data may point elsewhere (the data may
// have moved).
func (o *trainOptions) checkResumeData(saved dataSpec, dataset string, set map[string]bool) error {
	given := saved
	if set["dataset"] {
		given.Dataset = dataset
	}
	o.applyData(&given, set)
	if !set["image-size"] {
		given.ImageSize = saved.ImageSize
	}
	if set["seed"] {
		given.Seed = o.seed
	}
	var diffs []string
	diff := func(name string, a, b any) {
		if a != b {
			diffs = append(diffs, fmt.Sprintf("-%s %v (run) vs %v (now)", name, a, b))
		}
	}
	diff("dataset", saved.Dataset, given.Dataset)
	diff("eval", saved.Eval, given.Eval)
	lim := func(n int) string {
		if n == 0 {
			return "all"
		}
		return fmt.Sprint(n)
	}
	diff("train-limit", lim(saved.TrainLimit), lim(given.TrainLimit))
	diff("test-limit", lim(saved.TestLimit), lim(given.TestLimit))
	diff("holdout", saved.Holdout, given.Holdout)
	diff("cifar-batches", saved.CIFARBatches, given.CIFARBatches)
	diff("image-size", saved.ImageSize, given.ImageSize)
	diff("seed", saved.Seed, given.Seed)
	if len(diffs) > 0 {
		return fmt.Errorf("-resume: the run was trained on other data: %s; resume without these flags, or start a new run in another -out",
			strings.Join(diffs, "; "))
	}
	return nil
}

// applyConfig sets the training flags given on the command line.
func (o *trainOptions) applyConfig(c *tsimcne.Config, set map[string]bool) {
	if set["backbone"] {
		c.Backbone = o.backbone
	}
	if set["batch"] {
		if !set["lr"] && c.LearningRate > 0 && c.BatchSize > 0 {
			// A preset's explicit rate is for its batch size: keep the
			// paper's linear scaling (0.03·B/256) for another one.
			c.LearningRate *= float64(o.batch) / float64(c.BatchSize)
		}
		c.BatchSize = o.batch
	}
	if o.epochs.set {
		c.Epochs = o.epochs.v
	}
	if o.warmup.set {
		c.WarmupEpochs = o.warmup.v
	}
	if set["lr"] {
		c.LearningRate = o.lr
	}
	if o.stageLR.set {
		c.StageLRFactors = o.stageLR.v
	}
	if set["hidden"] {
		c.HiddenDim = o.hidden
	}
	if set["kernel"] {
		c.Kernel = o.kernel
	}
	if set["seed"] {
		c.Seed = o.seed
	}
	if set["map-kernel"] {
		c.MapKernel = o.mapKern
	}
	if set["exaggeration"] {
		c.Exaggeration = o.exagg
	}
	if set["learn-dof"] {
		c.LearnDoF = o.learnDoF
	}
	if set["momentum"] {
		c.Momentum = zeroMeansOff(o.momentum)
	}
	if set["weight-decay"] {
		c.WeightDecay = zeroMeansOff(o.decay)
	}
	if set["schedule"] {
		c.Schedule = o.schedule.v
		if c.Annealed() && !o.epochs.set {
			// One stage as long as the preset's two full-network stages.
			c.Epochs = [3]int{c.Epochs[0] + c.Epochs[2], 0, 0}
		}
		if c.Annealed() && !o.warmup.set {
			c.WarmupEpochs = [3]int{c.WarmupEpochs[0], 0, 0}
		}
	}
}

// zeroMeansOff maps a flag's 0 ("off") to Config's off value (negative;
// 0 means the default there).
func zeroMeansOff(v float64) float64 {
	if v == 0 {
		return -1
	}
	return v
}

// fitWithSignals trains m on ds. The first SIGINT or SIGTERM (or e.ctx
// being cancelled) stops training after the current step with a checkpoint;
// a second SIGINT ends the process at once.
func fitWithSignals(e *env, m *tsimcne.Model, ds *data.Dataset) error {
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		select {
		case s := <-sig:
			signal.Stop(sig) // a second Ctrl-C gets Go's default: exit
			fmt.Fprintf(e.stderr, "\n%v received: stopping after the current step and saving a checkpoint (Ctrl-C again quits at once)\n", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	return m.FitContext(ctx, ds)
}

func formatSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond).String()
}

// timing is the wall time of the parts of a train command.
type timing struct {
	DataSeconds float64 `json:"data_seconds"`
	// TrainSeconds is this session's training; TrainSecondsAllSessions
	// sums the epochs of history.json (every session of the run) and
	// their checkpoints.
	TrainSeconds            float64 `json:"train_seconds"`
	TrainSecondsAllSessions float64 `json:"train_seconds_all_sessions"`
	// EvalSeconds covers embedding the train and test images and the kNN
	// evaluations.
	EvalSeconds     float64 `json:"eval_seconds"`
	PicturesSeconds float64 `json:"pictures_seconds"`
}

// metrics is metrics.json.
type metrics struct {
	Dataset string   `json:"dataset"`
	Preset  string   `json:"preset"`
	Data    dataInfo `json:"data"`
	// KNN is the kNN evaluation of the map (and of the backbone features).
	KNN *tsimcne.Evaluation `json:"knn,omitempty"`
	// KNNSuperclass is the map's kNN accuracy on CIFAR-100's 20
	// superclasses.
	KNNSuperclass *float64             `json:"knn_accuracy_map_superclass,omitempty"`
	Timing        timing               `json:"timing"`
	Machine       machineInfo          `json:"machine"`
	Config        tsimcne.Config       `json:"config"`
	History       []tsimcne.EpochStats `json:"history"`
	Created       time.Time            `json:"created"`
}

// dataInfo describes the images in metrics.json.
type dataInfo struct {
	Spec    dataSpec `json:"spec"`
	Mode    string   `json:"eval_mode"`
	Fit     string   `json:"fit"`
	NFit    int      `json:"n_fit"`
	Train   string   `json:"train"`
	NTrain  int      `json:"n_train"`
	Test    string   `json:"test,omitempty"`
	NTest   int      `json:"n_test,omitempty"`
	DataDir string   `json:"data_dir,omitempty"`
}

// trainResult carries a trained run to its outputs.
type trainResult struct {
	out      string
	preset   string
	info     runInfo
	rd       *runData
	model    *tsimcne.Model
	history  []tsimcne.EpochStats
	k        int
	features bool
	timing   timing

	ev                *tsimcne.Evaluation
	superclass        *float64
	trainMap, testMap *embedding.Embedding
}

// evaluate embeds the train and test images and computes the kNN accuracy.
func (r *trainResult) evaluate(e *env) error {
	t0 := time.Now()
	rd := r.rd
	var err error
	if rd.Test == nil {
		e.printf("Embedding %d images...\n", rd.Train.N)
		if r.trainMap, err = r.model.Transform(rd.Train); err != nil {
			return err
		}
	} else {
		e.printf("Embedding %d + %d images and computing kNN accuracies...\n", rd.Train.N, rd.Test.N)
		r.ev, r.trainMap, r.testMap, err = r.model.Evaluate(rd.Train, rd.Test, r.k, r.features)
		if err != nil {
			return err
		}
		if r.trainMap.Dim == 2 {
			if r.superclass, err = superclassAccuracy(r.trainMap, r.testMap, rd.Train, rd.Test, r.k); err != nil {
				return err
			}
		}
	}
	r.timing.EvalSeconds = time.Since(t0).Seconds()
	return nil
}

// writeOutputs writes the embeddings, metrics.json and the pictures, and
// prints the summary.
func (r *trainResult) writeOutputs(e *env, pictures bool) error {
	for _, p := range []struct {
		name string
		emb  *embedding.Embedding
	}{{trainEmbedding, r.trainMap}, {testEmbedding, r.testMap}} {
		if p.emb == nil {
			continue
		}
		for _, ext := range []string{".npy", ".csv"} {
			if err := saveEmbedding(p.emb, filepath.Join(r.out, p.name+ext)); err != nil {
				return err
			}
		}
	}
	if r.rd.Mode == evalHoldout {
		h := struct {
			Seed         uint64 `json:"seed"`
			Note         string `json:"note"`
			TrainIndices []int  `json:"train_indices"`
			TestIndices  []int  `json:"test_indices"`
		}{r.info.Data.Seed, "indices into the training images (" + r.rd.Fit.Name + ") of the rows of embedding_train and embedding_test",
			r.rd.TrainIdx, r.rd.TestIdx}
		// Compact: 60 000 indices on one line each would be 700 KB.
		b, err := json.Marshal(h)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(r.out, holdoutFile), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	for _, st := range r.history {
		r.timing.TrainSecondsAllSessions += st.Seconds + st.CheckpointSeconds
	}
	rd := r.rd
	met := metrics{Dataset: r.info.Data.Dataset, Preset: r.preset, KNN: r.ev, KNNSuperclass: r.superclass,
		Machine: currentMachine(r.model), Config: r.model.Config(), History: r.history,
		Created: time.Now().UTC().Round(time.Second),
		Data: dataInfo{Spec: r.info.Data, Mode: rd.Mode, Fit: rd.Fit.Name, NFit: rd.Fit.N,
			Train: rd.Train.Name, NTrain: rd.Train.N}}
	if met.History == nil {
		met.History = []tsimcne.EpochStats{}
	}
	met.Data.DataDir, _ = dataDirOrDefault(r.info.Data.DataDir)
	if rd.Test != nil {
		met.Data.Test, met.Data.NTest = rd.Test.Name, rd.Test.N
	}
	writeMetrics := func() error {
		met.Timing = r.timing
		return tsimcne.WriteJSON(filepath.Join(r.out, metricsFile), met)
	}
	if err := writeMetrics(); err != nil {
		return err
	}
	r.printSummary(e)

	var picErr error
	if pictures {
		t0 := time.Now()
		var files []string
		files, picErr = r.drawPictures(e)
		r.timing.PicturesSeconds = time.Since(t0).Seconds()
		if len(files) > 0 {
			e.printf("Pictures (%s): %s\n", formatSeconds(r.timing.PicturesSeconds), strings.Join(describeFiles(files), ", "))
		}
		if err := writeMetrics(); err != nil {
			return err
		}
	}
	e.printf("Run folder: %s\n", r.out)
	return picErr
}

func (r *trainResult) printSummary(e *env) {
	rd := r.rd
	if r.ev != nil {
		how := "train -> test"
		if rd.Mode == evalHoldout {
			how = "held-out"
		}
		e.printf("kNN accuracy (k=%d, %s, %d -> %d images):\n", r.ev.K, how, r.ev.NTrain, r.ev.NTest)
		e.printf("  %d-D map:             %.4f\n", r.ev.MapDim, r.ev.MapAccuracy)
		if r.superclass != nil {
			e.printf("  %d-D map, superclass: %.4f\n", r.ev.MapDim, *r.superclass)
		}
		if r.ev.FeatureDim > 0 {
			e.printf("  %d-D features:       %.4f\n", r.ev.FeatureDim, r.ev.FeatureAccuracy)
		}
	}
	t := r.timing
	e.printf("Wall time: data %s, training %s (epochs of all sessions %s), evaluation %s\n",
		formatSeconds(t.DataSeconds), formatSeconds(t.TrainSeconds), formatSeconds(t.TrainSecondsAllSessions), formatSeconds(t.EvalSeconds))
	files := []string{runConfigFile, runInfoFile, historyFile, metricsFile}
	for _, n := range []string{trainEmbedding, testEmbedding} {
		if _, err := os.Stat(filepath.Join(r.out, n+".npy")); err == nil {
			files = append(files, n+".npy", n+".csv")
		}
	}
	e.printf("Wrote %s in %s\n", strings.Join(files, ", "), r.out)
}

// drawPictures draws the map of the train and test images together.
func (r *trainResult) drawPictures(e *env) ([]string, error) {
	if r.trainMap.Dim != 2 {
		e.printf("No map pictures: the map is %d-D (stages 2 and 3 were not trained).\n", r.trainMap.Dim)
		return writePictures(e, r.out, pictureInput{History: r.history})
	}
	m := r.trainMap
	images := r.rd.Train
	if r.testMap != nil {
		both, err := concatMaps(r.trainMap, r.testMap)
		if err != nil {
			return nil, err
		}
		m = both
		if images, err = r.rd.Both(); err != nil {
			return nil, err
		}
	}
	title := fmt.Sprintf("t-SimCNE map of %s (%d images)", datasetTitle(r.info.Data.Dataset), m.N)
	if r.ev != nil {
		title += fmt.Sprintf(", kNN accuracy %.3f", r.ev.MapAccuracy)
	}
	return writePictures(e, r.out, pictureInput{Map: m, Images: images, Title: title, History: r.history})
}

// concatMaps returns the points of a followed by those of b.
func concatMaps(a, b *embedding.Embedding) (*embedding.Embedding, error) {
	if a.Dim != b.Dim {
		return nil, fmt.Errorf("maps of dimension %d and %d", a.Dim, b.Dim)
	}
	out := &embedding.Embedding{N: a.N + b.N, Dim: a.Dim, ClassNames: a.ClassNames,
		Points: append(append([]float32(nil), a.Points...), b.Points...)}
	if len(b.ClassNames) > len(out.ClassNames) {
		out.ClassNames = b.ClassNames
	}
	if a.Labels != nil && b.Labels != nil {
		out.Labels = append(append([]int(nil), a.Labels...), b.Labels...)
	}
	return out, out.Validate()
}

// saveEmbedding saves e (.npy or .csv by the extension) readable by all,
// like the other outputs: embedding.Save writes through os.CreateTemp,
// which leaves the file private (0600).
func saveEmbedding(e *embedding.Embedding, path string) error {
	if err := e.Save(path); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}
