package main

import (
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
	"github.com/gosimcne/gosimcne/tsimcne/model"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

// trainOptions are the flags of `tsimcne train`.
type trainOptions struct {
	preset   *choiceValue
	quick    bool
	dataset  string
	dataDir  string
	out      string
	resume   bool
	pretrain string
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
	devices  int
}

func (o *trainOptions) define(fs *flag.FlagSet) {
	o.preset = newChoice(tsimcne.PresetCPU, tsimcne.Presets()...)
	o.eval = newChoice("", runs.EvalTest, runs.EvalHoldout)
	o.progress = newChoice("auto", "auto", "bar", "lines", "off")
	fs.Var(o.preset, "preset", "settings to start from, a `preset`: paper (ResNet-18, batch 1024, epochs 1000,50,450: needs a GPU), "+
		"cpu (small CNN sized for about an hour on 2 CPU cores), quick (smoke test: cnn-tiny, 4 short epochs on at most 10 000 images, about a minute), "+
		"gpu-short (ResNet-18, batch 1024, epochs 60,5,35: under 8 minutes on an H100 with XLA)")
	fs.BoolVar(&o.quick, "quick", false, "same as -preset quick")
	fs.StringVar(&o.dataset, "dataset", runs.CIFAR10, datasetHelp)
	fs.StringVar(&o.dataDir, "data", "", "data `folder` (default $TSIMCNE_DATA, else gosimcne in the user cache folder)")
	fs.StringVar(&o.out, "out", "", "run `folder` for checkpoints, embeddings, metrics and pictures (default runs/<dataset>-<preset>)")
	fs.BoolVar(&o.resume, "resume", false, "continue the run in -out from its checkpoint, with its saved settings")
	fs.StringVar(&o.pretrain, "pretrained", "", "start from the pre-training (stage 1) of the run in `folder` (one trained with -epochs N,0,0) "+
		"and train only the map's stages with this run's -epochs (their stage-2 and -3 entries), -warmup, -stage-lr, -map-kernel, -exaggeration and -seed; "+
		"the data and every other setting are that run's")
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
	fs.BoolVar(&o.pictures, "pictures", true, "draw the pictures (history.png, map.png, map.svg, thumbnails.png, outliers.png, outliers_map.png, outliers.csv, map.html)")
	fs.Var(o.progress, "progress", "progress display `mode`: auto (a bar on a terminal, else a line per epoch), bar, lines or off")
	o.prefetch = newChoice("auto", "auto", "on", "off")
	fs.Var(o.prefetch, "prefetch", "make the next batch's views while a step runs: `mode` auto (on GPUs), on or off; the batches are the same either way")
	fs.IntVar(&o.devices, "devices", 0, "train data-parallel over `N` devices (XLA only, e.g. GPUs): each step's batch is split over them, "+
		"-batch stays the global batch and the loss and batch norm see all of it; 0 (default) uses one device the plain way")
}

// newRunInfo returns the run.json of a new run from the preset and the
// flags.
func (o *trainOptions) newRunInfo(preset, dataset string, seed uint64, set map[string]bool, args []string) runs.Info {
	if set["seed"] {
		seed = o.seed
	}
	info := runs.Info{Preset: preset, Data: runs.NewData(preset, dataset, seed), K: o.k, Features: o.features,
		Created: time.Now().UTC().Round(time.Second), Command: append([]string{"train"}, args...)}
	info.Data.Holdout = o.holdout
	o.applyData(&info.Data, set)
	return info
}

// checkValues rejects flag values that cannot work, as usage errors.
func (o *trainOptions) checkValues(set map[string]bool) error {
	if set["backbone"] {
		if _, err := model.Lookup(o.backbone); err != nil {
			return usagef("-backbone: %v", err)
		}
	}
	if set["devices"] {
		if o.devices < 0 {
			return usagef("-devices: %d devices", o.devices)
		}
		if err := tsimcne.CheckDevices(o.devices); err != nil {
			return fmt.Errorf("-devices: %w", err)
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
func (o *trainOptions) applyData(d *runs.Data, set map[string]bool) {
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
	if strings.HasPrefix(d.Dataset, runs.FolderPrefix) {
		d.ImageSize = o.imageSize
	}
	if set["skip-bad-images"] {
		d.SkipBadImages = o.skipBad
	}
}

// checkResumeData makes sure the data flags given with -resume (or
// -pretrained: flag names it) select the images the run was trained on.
// -data may point elsewhere (the data may have moved).
func (o *trainOptions) checkResumeData(flag string, saved runs.Data, dataset string, set map[string]bool) error {
	given := saved
	if set["dataset"] {
		given.Dataset = dataset
	}
	o.applyData(&given, set)
	if !set["image-size"] {
		given.ImageSize = saved.ImageSize
	}
	if set["seed"] && flag == "-resume" {
		given.Seed = o.seed // a branch's seed is its training's, not its data's
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
		return fmt.Errorf("%s: the run was trained on other data: %s; leave out these flags, or start a new run in another -out",
			flag, strings.Join(diffs, "; "))
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
