package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

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
  map.png, map.svg, thumbnails.png, outliers.png, outliers_map.png, outliers.csv, map.html
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

// trainRun is one train command: its settings, resolved from the flags (and
// from the run folder when resuming), and what it has made so far.
type trainRun struct {
	out        string // the run folder
	resume     bool
	pretrained string         // the run folder whose pre-training this run continues (-pretrained)
	source     *tsimcne.Model // its model
	pictures   bool
	cfg        tsimcne.Config
	info       runs.Info

	images  *runs.Images
	model   *tsimcne.Model
	history []tsimcne.EpochStats
	timing  runs.Timing
}

func runTrain(e *env, args []string) error {
	r, err := newTrainRun(e, args)
	if err != nil {
		return err
	}
	if err := r.loadImages(e); err != nil {
		return err
	}
	if err := r.prepare(); err != nil {
		return err
	}
	if err := r.train(e); err != nil {
		return err
	}
	return r.writeOutputs(e)
}

// ckptDir is the run's checkpoint folder.
func (r *trainRun) ckptDir() string { return filepath.Join(r.out, runs.CheckpointsDir) }

// newTrainRun parses the command line and resolves the run's settings: the
// saved ones when resuming (flags given must agree), else the preset's with
// the flags' overrides.
func newTrainRun(e *env, args []string) (*trainRun, error) {
	var o trainOptions
	fset := flag.NewFlagSet("train", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return nil, err
	}
	set := flagsSet(fset)
	preset := o.preset.v
	if o.quick {
		if set["preset"] && preset != tsimcne.PresetQuick {
			return nil, usagef("-quick contradicts -preset %s", preset)
		}
		preset = tsimcne.PresetQuick
		set["preset"] = true
	}
	if err := o.checkValues(set); err != nil {
		return nil, err
	}
	dataset, err := runs.NormalizeDataset(o.dataset)
	if err != nil {
		return nil, usagef("-dataset: %v", err)
	}
	r := &trainRun{out: o.out, resume: o.resume, pretrained: o.pretrain, pictures: o.pictures}
	if r.resume && r.pretrained != "" {
		return nil, usagef("-pretrained starts a new run from another run's pre-training; -resume continues a run: give one of them")
	}
	if r.out == "" {
		r.out = runs.DefaultDir(dataset, preset)
	}
	if err := r.checkFolder(); err != nil {
		return nil, err
	}
	switch {
	case r.resume:
		err = o.resumedSettings(e, r, preset, dataset, set, args)
	case r.pretrained != "":
		err = o.branchSettings(e, r, preset, dataset, set, args)
	default:
		err = o.newSettings(r, preset, dataset, set, args)
	}
	if err != nil {
		return nil, err
	}
	if err := o.completeSettings(e, r, set); err != nil {
		return nil, err
	}
	if r.source != nil {
		// Refuse a branch before loading images or writing anything.
		if err := r.source.CheckBranch(r.cfg); err != nil {
			return nil, fmt.Errorf("-pretrained %s: %w", r.pretrained, err)
		}
	}
	return r, nil
}

// checkFolder refuses to start a new run over a checkpoint, and to resume
// without one.
func (r *trainRun) checkFolder() error {
	ckptDir := r.ckptDir()
	has, err := tsimcne.HasCheckpoint(ckptDir)
	if err != nil {
		return fmt.Errorf("run folder %s: %w", r.out, err)
	}
	switch {
	case has && !r.resume:
		return fmt.Errorf("run folder %s already holds a checkpoint (in %s): pass -resume to continue that run, or choose another -out",
			r.out, ckptDir)
	case !has && r.resume:
		return fmt.Errorf("-resume: no checkpoint in %s to continue; leave out -resume to start a new run there", ckptDir)
	}
	return nil
}

// newSettings sets the settings of a new run: the preset's, and the flags'
// data selection.
func (o *trainOptions) newSettings(r *trainRun, preset, dataset string, set map[string]bool, args []string) error {
	cfg, err := tsimcne.Preset(preset)
	if err != nil {
		return usagef("%v", err)
	}
	r.cfg = cfg
	r.info = o.newRunInfo(preset, dataset, cfg.Seed, set, args)
	return nil
}

// resumedSettings sets the settings of a resumed run: those saved in its
// checkpoint folder and run.json, which the flags given must agree with.
func (o *trainOptions) resumedSettings(e *env, r *trainRun, preset, dataset string, set map[string]bool, args []string) error {
	var err error
	if r.cfg, err = tsimcne.LoadConfig(filepath.Join(r.ckptDir(), tsimcne.ConfigFileName)); err != nil {
		return fmt.Errorf("-resume: %w", err)
	}
	r.info, err = runs.ReadInfo(r.out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A checkpoint folder made elsewhere (e.g. in a notebook): the
		// data flags say which images.
		e.printf("note: %s has no %s: the data flags given (or their defaults) select the images\n", r.out, runs.InfoFile)
		r.info = o.newRunInfo(preset, dataset, r.cfg.Seed, set, args)
	case err != nil:
		return fmt.Errorf("-resume: %w", err)
	default:
		if err := o.checkSavedRun("-resume", r.out, &r.info, preset, dataset, set); err != nil {
			return err
		}
	}
	if set["k"] || r.info.K == 0 {
		r.info.K = o.k
	}
	if set["features"] {
		r.info.Features = o.features
	}
	return nil
}

// checkSavedRun checks the flags given against the run.json (info) of the
// run in dir that -resume continues or -pretrained starts from (flag): the
// preset and the data selection must be the run's; -data may say where
// the data are now (they may have moved; the library checks the number of
// images), which info then records for plot and embed. (Without -data,
// newRunInfo's applyData records it for a run without run.json.)
func (o *trainOptions) checkSavedRun(flag, dir string, info *runs.Info, preset, dataset string, set map[string]bool) error {
	if set["preset"] && preset != info.Preset {
		return fmt.Errorf("%s: the run in %s was started with -preset %s, not %s", flag, dir, info.Preset, preset)
	}
	if err := o.checkResumeData(flag, info.Data, dataset, set); err != nil {
		return err
	}
	if set["data"] {
		info.Data.DataDir, _ = filepath.Abs(o.dataDir)
	}
	return nil
}

// branchSettings sets the settings of a run that starts from another run's
// pre-training (-pretrained): that run's model, settings and data
// selection, which the data flags given must agree with; the flags then
// change the map's stages (tsimcne.Model.CheckBranch says which settings
// may differ, once they are applied).
func (o *trainOptions) branchSettings(e *env, r *trainRun, preset, dataset string, set map[string]bool, args []string) error {
	var err error
	if r.info, err = runs.ReadInfo(r.pretrained); err != nil {
		return fmt.Errorf("-pretrained: %s is not a run folder of tsimcne train: %w", r.pretrained, err)
	}
	if err := o.checkSavedRun("-pretrained", r.pretrained, &r.info, preset, dataset, set); err != nil {
		return err
	}
	if r.source, err = tsimcne.Load(r.pretrained, func(c *tsimcne.Config) { c.Log = e.stdout }); err != nil {
		return fmt.Errorf("-pretrained: %w", err)
	}
	r.cfg = r.source.Config()
	r.info.Pretrained, _ = filepath.Abs(r.pretrained)
	r.info.Created = time.Now().UTC().Round(time.Second)
	r.info.Command = append([]string{"train"}, args...)
	r.info.K, r.info.Features = o.k, o.features
	return nil
}

// completeSettings applies the training flags to the run's configuration,
// new or resumed, and checks the result.
func (o *trainOptions) completeSettings(e *env, r *trainRun, set map[string]bool) error {
	if d := &r.info.Data; d.Eval == runs.EvalTest && !runs.HasTestSplit(d.Dataset) {
		if set["eval"] {
			return fmt.Errorf("-eval test: %s has no train/ and test/ sub-folders; use -eval holdout",
				strings.TrimPrefix(d.Dataset, runs.FolderPrefix))
		}
		d.Eval = runs.EvalHoldout
	}
	cfg := &r.cfg
	o.applyConfig(cfg, set)
	for i := range 3 {
		if w, n := cfg.WarmupEpochs[i], cfg.Epochs[i]; n > 0 && w > n {
			if set["warmup"] {
				return usagef("-warmup: stage %d warms up for %d epochs but has %d (-epochs)", i+1, w, n)
			}
			e.printf("note: stage %d's warm-up of %d epochs (the preset's) is longer than its %d epochs: its learning rate never reaches the peak (set -warmup)\n", i+1, w, n)
		}
	}
	cfg.Prefetch = map[string]tsimcne.Prefetch{"auto": tsimcne.PrefetchAuto, "on": tsimcne.PrefetchOn, "off": tsimcne.PrefetchOff}[o.prefetch.v]
	cfg.Devices = o.devices
	cfg.CheckpointDir = r.ckptDir()
	cfg.Log = e.stdout
	cfg.Progress = progressMode(o.progress.v, e.stdout)
	return cfg.Validate()
}

// loadImages loads the run's images, says what they are and checks that
// the batch size and k fit them.
func (r *trainRun) loadImages(e *env) error {
	t0 := time.Now()
	r.info.Data.Warn = e.stderr
	r.info.Data.CacheDir = filepath.Join(r.out, runs.PreparedDir)
	im, err := r.info.Data.Load()
	if err != nil {
		return err
	}
	r.images = im
	r.timing.DataSeconds = time.Since(t0).Seconds()
	for _, n := range im.Notes {
		e.printf("note: %s\n", n)
	}
	e.printf("Data: training on %s (%d images of %dx%d)", im.Fit.Name, im.Fit.N, im.Fit.Height, im.Fit.Width)
	if im.Test != nil {
		e.printf("; kNN %s -> %s (%d -> %d images)", im.Train.Name, im.Test.Name, im.Train.N, im.Test.N)
	}
	e.printf("; loaded in %.1fs\n", r.timing.DataSeconds)
	if r.cfg.BatchSize > im.Fit.N {
		return fmt.Errorf("batch size %d is larger than the %d training images: pass a smaller -batch", r.cfg.BatchSize, im.Fit.N)
	}
	if im.Test != nil && r.info.K > im.Train.N {
		return fmt.Errorf("-k %d is more than the %d kNN reference images", r.info.K, im.Train.N)
	}
	return nil
}

// prepare readies the run folder (run.json) and makes the model, from its
// checkpoint when there is one, with a copy of its settings in the folder.
func (r *trainRun) prepare() error {
	if err := runs.Prepare(r.out, r.info, r.resume); err != nil {
		return err
	}
	m, err := r.newModel()
	if err != nil {
		return err
	}
	r.model = m
	return tsimcne.SaveConfig(m.Config(), filepath.Join(r.out, runs.ConfigFile))
}

// newModel makes the run's model: a new one or the resumed checkpoint's,
// or with -pretrained a branch of the other run's pre-training.
func (r *trainRun) newModel() (*tsimcne.Model, error) {
	if r.source == nil {
		return tsimcne.New(r.cfg)
	}
	m, err := r.source.Branch(r.cfg)
	if err != nil {
		return nil, fmt.Errorf("-pretrained %s: %w", r.pretrained, err)
	}
	return m, nil
}

// train trains the model to the end (nothing when it is complete) and
// writes history.json; an interruption saves a checkpoint, says how to
// resume and ends the command with errInterruptedExit.
func (r *trainRun) train(e *env) error {
	pos := r.model.Position()
	r.printStart(e, pos)
	t0 := time.Now()
	fitErr := fitWithSignals(e, r.model, r.images.Fit)
	r.timing.TrainSeconds = time.Since(t0).Seconds()
	// The library keeps the history of every session in the checkpoint folder.
	r.history = r.model.History()
	if err := runs.WriteHistory(r.out, r.history); err != nil {
		return err
	}
	if errors.Is(fitErr, tsimcne.ErrInterrupted) {
		fmt.Fprintf(e.stderr, "tsimcne train: %v\n", fitErr)
		fmt.Fprintf(e.stderr, "Training stopped after %s; the checkpoint is in %s. Continue with:\n  tsimcne train -out %s -resume\n",
			formatSeconds(r.timing.TrainSeconds), r.ckptDir(), r.out)
		return errInterruptedExit
	}
	if fitErr != nil {
		return fitErr
	}
	if pos.Stage <= 3 {
		e.printf("Training done in %s.\n", formatSeconds(r.timing.TrainSeconds))
	}
	return nil
}

// printStart says what training is about to do from pos.
func (r *trainRun) printStart(e *env, pos tsimcne.Position) {
	c := r.model.Config()
	switch {
	case pos.Stage > 3:
		e.printf("Training is complete (checkpoint in %s): redoing the outputs only.\n", r.ckptDir())
	case r.resume:
		e.printf("Resuming at %s.\n", pos)
		fallthrough
	case r.pretrained != "":
		if !r.resume {
			e.printf("Starting from the pre-training of %s (stage 1, %d epochs): training stages 2 and 3.\n", r.pretrained, c.Epochs[0])
		}
		fallthrough
	default:
		kernel := c.Kernel
		if c.MapKernel != "" && c.MapKernel != c.Kernel {
			kernel += ", in 2-D " + c.MapKernel
		}
		on := r.model.Backend().Name()
		if c.Devices > 0 {
			on += fmt.Sprintf(" (data-parallel over %d devices, global batch %d)", c.Devices, c.BatchSize)
		}
		e.printf("Training t-SimCNE (preset %s): backbone %s, batch %d, epochs %d,%d,%d, lr %.4g, kernel %s, seed %d, backend %s\n",
			r.info.Preset, c.Backbone, c.BatchSize, c.Epochs[0], c.Epochs[1], c.Epochs[2], c.BaseLearningRate(), kernel, c.Seed, on)
		e.printf("Run folder: %s (Ctrl-C stops and saves a checkpoint; continue with -resume)\n", r.out)
	}
}

// writeOutputs evaluates the trained model on the run's images, writes the
// embeddings, metrics.json and the pictures, and prints the summary.
func (r *trainRun) writeOutputs(e *env) error {
	im := r.images
	if im.Test == nil {
		e.printf("Embedding %d images...\n", im.Train.N)
	} else {
		e.printf("Embedding %d + %d images and computing kNN accuracies...\n", im.Train.N, im.Test.N)
	}
	t0 := time.Now()
	res, err := runs.Evaluate(r.model, im, r.info.K, r.info.Features)
	if err != nil {
		return err
	}
	r.timing.EvalSeconds = time.Since(t0).Seconds()
	met, err := runs.WriteOutputs(r.out, r.info, im, res, r.model, r.history, r.timing)
	if err != nil {
		return err
	}
	printSummary(e, r.out, met)
	var picErr error
	if r.pictures {
		t0 := time.Now()
		var files []string
		files, picErr = r.drawPictures(e, res)
		met.Timing.PicturesSeconds = time.Since(t0).Seconds()
		if len(files) > 0 {
			e.printf("Pictures (%s): %s\n", formatSeconds(met.Timing.PicturesSeconds), strings.Join(describeFiles(files), ", "))
		}
		if err := met.Write(r.out); err != nil {
			return err
		}
	}
	e.printf("Run folder: %s\n", r.out)
	return picErr
}

// drawPictures draws the map of the train and test images together, or
// the history alone when the map is not 2-D.
func (r *trainRun) drawPictures(e *env, res *runs.Result) ([]string, error) {
	if res.TrainMap.Dim != 2 {
		e.printf("No map pictures: the map is %d-D (stages 2 and 3 were not trained).\n", res.TrainMap.Dim)
	}
	in, err := runs.RunPictures(r.info.Data.Dataset, r.images, res, r.history)
	if err != nil {
		return nil, err
	}
	return runs.WritePictures(r.out, in)
}

// printSummary prints the kNN accuracies, the wall times and the files
// written to the run folder out.
func printSummary(e *env, out string, met runs.Metrics) {
	if ev := met.KNN; ev != nil {
		how := "train -> test"
		if met.Data.Mode == runs.EvalHoldout {
			how = "held-out"
		}
		e.printf("kNN accuracy (k=%d, %s, %d -> %d images):\n", ev.K, how, ev.NTrain, ev.NTest)
		e.printf("  %d-D map:             %.4f\n", ev.MapDim, ev.MapAccuracy)
		if met.KNNSuperclass != nil {
			e.printf("  %d-D map, superclass: %.4f\n", ev.MapDim, *met.KNNSuperclass)
		}
		if ev.FeatureDim > 0 {
			e.printf("  %d-D features:       %.4f\n", ev.FeatureDim, ev.FeatureAccuracy)
		}
	}
	t := met.Timing
	e.printf("Wall time: data %s, training %s (epochs of all sessions %s), evaluation %s\n",
		formatSeconds(t.DataSeconds), formatSeconds(t.TrainSeconds), formatSeconds(t.TrainSecondsAllSessions), formatSeconds(t.EvalSeconds))
	files := []string{runs.ConfigFile, runs.InfoFile, runs.HistoryFile, runs.MetricsFile}
	for _, n := range []string{runs.TrainEmbedding, runs.TestEmbedding} {
		if _, err := os.Stat(filepath.Join(out, n+".npy")); err == nil {
			files = append(files, n+".npy", n+".csv")
		}
	}
	e.printf("Wrote %s in %s\n", strings.Join(files, ", "), out)
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
