package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

func embedCommand() *command {
	return &command{
		name:     "embed",
		synopsis: "embed images with a trained run (map coordinates, optionally backbone features)",
		usage:    "tsimcne embed -run DIR [-dataset NAME] [-split train|test|all] -out FILE.npy|FILE.csv [-features]",
		help: `Embeds images with the network of a trained run, without augmentation, and
writes their map coordinates to -out: .npy (float32, shape (N, 2)) or .csv
(x, y, label, class). With -features it also writes the backbone features to
the same name with "_features" added (e.g. test_features.npy).

The data set defaults to the run's; CIFAR-10 uses every training batch
present.`,
		examples: `  tsimcne embed -run runs/cifar10-cpu -split test -out test.csv
  tsimcne embed -run runs/cifar10-cpu -split all -out all.npy -features
  tsimcne embed -run runs/photos -dataset folder:./more-photos -out more.csv`,
		flags: func(fs *flag.FlagSet) { new(embedOptions).define(fs) },
		run:   runEmbed,
	}
}

type embedOptions struct {
	run       string
	dataset   string
	dataDir   string
	split     splitValue
	out       string
	features  bool
	imageSize int
	skipBad   bool
}

func (o *embedOptions) define(fs *flag.FlagSet) {
	o.split.v = data.All
	fs.StringVar(&o.run, "run", "", "trained run `folder` (train's -out), a checkpoint folder, or a model file written by `tsimcne export`")
	fs.StringVar(&o.dataset, "dataset", "", datasetHelp+" (default: the run's)")
	fs.StringVar(&o.dataDir, "data", "", "data `folder` (default: the run's, else $TSIMCNE_DATA or the user cache folder)")
	fs.Var(&o.split, "split", "which images, a `split`: train, test or all (train followed by test)")
	fs.StringVar(&o.out, "out", "", "output `file`, .npy or .csv")
	fs.BoolVar(&o.features, "features", false, "also write the backbone features to <out>_features.<ext>")
	fs.IntVar(&o.imageSize, "image-size", 0, "side in `pixels` that folder images are resized to (default: the run's, else 32)")
	fs.BoolVar(&o.skipBad, "skip-bad-images", false, "skip images of a folder that cannot be read (each one is listed on stderr) instead of stopping")
}

func runEmbed(e *env, args []string) error {
	var o embedOptions
	fset := flag.NewFlagSet("embed", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	switch {
	case o.run == "":
		return usagef("-run is required")
	case o.out == "":
		return usagef("-out is required")
	}
	if err := checkEmbeddingName(o.out); err != nil {
		return err
	}
	spec, err := dataFor(o.run, o.dataset, o.dataDir, o.imageSize, o.skipBad)
	if err != nil {
		return err
	}
	m, err := loadModel(e, o.run)
	if err != nil {
		return err
	}
	spec.Warn = e.stderr
	ds, notes, err := spec.LoadSplit(o.split.v)
	if err != nil {
		return err
	}
	for _, n := range notes {
		e.printf("note: %s\n", n)
	}
	src := o.run // a model file
	if d := m.Config().CheckpointDir; d != "" {
		src = d
	}
	e.printf("Embedding %s (%d images) with %s...\n", ds.Name, ds.N, src)
	t0 := time.Now()
	out, feats, err := m.TransformWithFeatures(ds)
	if err != nil {
		return err
	}
	e.printf("Embedded in %s: %d-D map", formatSeconds(time.Since(t0).Seconds()), out.Dim)
	if o.features {
		e.printf(", %d-D features", feats.Dim)
	}
	e.printf("\n")
	if err := out.Save(o.out); err != nil {
		return err
	}
	e.printf("Wrote %s\n", o.out)
	if o.features {
		p := strings.TrimSuffix(o.out, filepath.Ext(o.out)) + "_features" + filepath.Ext(o.out)
		if err := feats.Save(p); err != nil {
			return err
		}
		e.printf("Wrote %s\n", p)
	}
	return nil
}

// checkEmbeddingName is the usage error of an -out whose name does not end
// in .npy or .csv, the formats embedding.Save writes.
func checkEmbeddingName(out string) error {
	if ext := strings.ToLower(filepath.Ext(out)); ext != ".npy" && ext != ".csv" {
		return usagef("-out %s: the name must end in .npy or .csv", out)
	}
	return nil
}

// loadModel loads a run's trained model for inference.
func loadModel(e *env, runDir string) (*tsimcne.Model, error) {
	if !tsimcne.IsExport(runDir) { // a model file (tsimcne export): tsimcne.Load reads it
		if _, has, err := tsimcne.CheckpointFolder(runDir); err != nil || !has {
			if err == nil {
				err = fmt.Errorf("no checkpoint in %s: is it a run folder written by `tsimcne train`?", runDir)
			}
			return nil, err
		}
	}
	m, err := tsimcne.Load(runDir, func(c *tsimcne.Config) {
		c.Log = e.stdout
		c.Progress = tsimcne.ProgressOff
	})
	if err != nil {
		return nil, err
	}
	if !m.Trained() {
		fmt.Fprintf(e.stderr, "warning: the run in %s is not finished (next: %s); using its current weights\n", runDir, m.Position())
	}
	return m, nil
}

// dataFor returns the data selection for a command on a run: the run's
// (from run.json), with the flags given replacing its data set, data folder
// and image size (and -skip-bad-images turning skipping on).
func dataFor(runDir, dataset, dataDir string, imageSize int, skipBad bool) (runs.Data, error) {
	var spec runs.Data
	runDataset := "" // the data set run.json names
	if runDir != "" {
		if _, err := os.Stat(runDir); errors.Is(err, fs.ErrNotExist) {
			return spec, fmt.Errorf("-run %s does not exist: pass a run folder written by `tsimcne train` or a model file written by `tsimcne export`", runDir)
		}
	}
	if tsimcne.IsExport(runDir) {
		// An exported model file (tsimcne export) says nothing of images.
		runDir = ""
		if dataset == "" {
			return spec, usagef("a model file has no run folder saying which images it was trained on: pass -dataset")
		}
	}
	if runDir != "" {
		info, err := runs.ReadInfo(runDir)
		switch {
		case err == nil:
			spec = info.Data
			runDataset = info.Data.Dataset
		case errors.Is(err, fs.ErrNotExist):
			if dataset == "" {
				return spec, usagef("%s has no %s saying which images it was trained on: pass -dataset", runDir, runs.InfoFile)
			}
		default:
			return spec, err
		}
	}
	if dataset != "" {
		d, err := runs.NormalizeDataset(dataset)
		if err != nil {
			return spec, usagef("-dataset: %v", err)
		}
		if d != spec.Dataset {
			spec = runs.Data{Dataset: d, DataDir: spec.DataDir, ImageSize: spec.ImageSize}
		}
	}
	if spec.Dataset == "" {
		return spec, usagef("-dataset is required")
	}
	if dataDir != "" {
		spec.DataDir, _ = filepath.Abs(dataDir)
	}
	if imageSize > 0 {
		spec.ImageSize = imageSize
	}
	spec.SkipBadImages = spec.SkipBadImages || skipBad
	if runDataset != "" && spec.Dataset == runDataset {
		// The run's own folder of images, decoded once when it trained.
		spec.CacheDir = filepath.Join(runDir, runs.PreparedDir)
	}
	return spec, nil
}
