package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

func baselineCommand() *command {
	return &command{
		name:     "baseline",
		synopsis: "kNN accuracy of raw pixels (the baseline a map should beat)",
		usage:    "tsimcne baseline [-dataset NAME] [-k 15] [-eval test|holdout] [flags]",
		help: `Computes the kNN accuracy (Euclidean, k=15 by default) of the raw pixels
scaled to [0, 1], on the images that train -preset cpu uses: for CIFAR-10
data_batch_1 (10 000 images) -> test_batch (10 000 images), about 0.31.
A t-SimCNE map is useful when its 2-D kNN accuracy is well above this.`,
		examples: `  tsimcne baseline -dataset cifar10
  tsimcne baseline -dataset cifar10 -cifar-batches 5 -k 5
  tsimcne baseline -dataset folder:./photos -eval holdout -json pixels.json`,
		flags: func(fs *flag.FlagSet) { new(baselineOptions).define(fs) },
		run:   runBaseline,
	}
}

type baselineOptions struct {
	dataset      string
	dataDir      string
	eval         *choiceValue
	k            int
	cifarBatches int
	trainLimit   int
	testLimit    int
	holdout      int
	imageSize    int
	skipBad      bool
	seed         uint64
	json         string
}

func (o *baselineOptions) define(fs *flag.FlagSet) {
	o.eval = newChoice("", runs.EvalTest, runs.EvalHoldout)
	fs.StringVar(&o.dataset, "dataset", runs.CIFAR10, datasetHelp)
	fs.StringVar(&o.dataDir, "data", "", "data `folder` (default $TSIMCNE_DATA, else gosimcne in the user cache folder)")
	fs.Var(o.eval, "eval", "evaluation `mode`: test (train -> official test set; the default where there is one) or holdout")
	fs.IntVar(&o.k, "k", knn.DefaultK, "number of neighbours")
	fs.IntVar(&o.cifarBatches, "cifar-batches", 1, "CIFAR-10 training batches to use, 1-5")
	fs.IntVar(&o.trainLimit, "train-limit", 0, "use only `N` training images (0 = all)")
	fs.IntVar(&o.testLimit, "test-limit", 0, "use only `N` test images (0 = all)")
	fs.IntVar(&o.holdout, "holdout", 0, "images held out for -eval holdout (default min(10000, N/6))")
	fs.IntVar(&o.imageSize, "image-size", 32, "side in `pixels` that folder images are resized to")
	fs.BoolVar(&o.skipBad, "skip-bad-images", false, "skip images of a folder that cannot be read (each one is listed on stderr) instead of stopping")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the subsets and the hold-out split")
	fs.StringVar(&o.json, "json", "", "also write the result to this JSON `file`")
}

func runBaseline(e *env, args []string) error {
	var o baselineOptions
	fset := flag.NewFlagSet("baseline", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	switch {
	case o.k < 1:
		return usagef("-k must be at least 1")
	case o.cifarBatches < 1 || o.cifarBatches > 5:
		return usagef("-cifar-batches must be 1 to 5")
	case o.trainLimit < 0 || o.testLimit < 0 || o.holdout < 0:
		return usagef("-train-limit, -test-limit and -holdout must be >= 0")
	}
	dataset, err := runs.NormalizeDataset(o.dataset)
	if err != nil {
		return usagef("-dataset: %v", err)
	}
	spec, err := dataFor("", dataset, o.dataDir, o.imageSize, o.skipBad)
	if err != nil {
		return err
	}
	spec.Eval, spec.CIFARBatches, spec.TrainLimit, spec.TestLimit, spec.Holdout, spec.Seed =
		o.eval.v, o.cifarBatches, o.trainLimit, o.testLimit, o.holdout, o.seed
	t0 := time.Now()
	spec.Warn = e.stderr
	rd, err := spec.Load()
	if err != nil {
		return err
	}
	for _, n := range rd.Notes {
		e.printf("note: %s\n", n)
	}
	if rd.Test == nil {
		return fmt.Errorf("%s has no labels: nothing to classify", rd.Fit.Name)
	}
	if o.k > rd.Train.N {
		return fmt.Errorf("-k %d is more than the %d reference images", o.k, rd.Train.N)
	}
	loadSec := time.Since(t0).Seconds()
	dim := rd.Train.ImageSize()
	e.printf("Pixel kNN: %s (%d images) -> %s (%d images), %d-D, k=%d\n",
		rd.Train.Name, rd.Train.N, rd.Test.Name, rd.Test.N, dim, o.k)
	t0 = time.Now()
	trainPx := &embedding.Embedding{Points: pixels(rd.Train), N: rd.Train.N, Dim: dim}
	testPx := &embedding.Embedding{Points: pixels(rd.Test), N: rd.Test.N, Dim: dim}
	res, err := knn.Accuracy(trainPx.Points, rd.Train.Labels, testPx.Points, rd.Test.Labels, dim, knn.WithK(o.k))
	if err != nil {
		return err
	}
	knnSec := time.Since(t0).Seconds()
	e.printf("pixel kNN accuracy (k=%d): %.4f (%d/%d; balanced %.4f) in %s (data %s)\n",
		o.k, res.Accuracy, res.Correct, res.Total, res.BalancedAccuracy, formatSeconds(knnSec), formatSeconds(loadSec))
	per := make([]tsimcne.ClassAccuracy, 0, len(res.PerClass))
	for _, c := range res.PerClass {
		name := fmt.Sprint(c.Label)
		if c.Label < len(rd.Test.ClassNames) {
			name = rd.Test.ClassNames[c.Label]
		}
		per = append(per, tsimcne.ClassAccuracy{Class: name, Accuracy: c.Accuracy, N: c.Total})
	}
	printPerClass(e, per)
	super, err := runs.SuperclassAccuracy(trainPx, testPx, rd.Train, rd.Test, o.k)
	if err != nil {
		return err
	}
	if super != nil {
		e.printf("pixel kNN accuracy on the %d superclasses: %.4f\n", len(rd.Test.CoarseClassNames), *super)
	}
	if o.json != "" {
		rep := struct {
			Dataset          string                  `json:"dataset"`
			Mode             string                  `json:"mode"`
			Train            string                  `json:"train"`
			Test             string                  `json:"test"`
			NTrain           int                     `json:"n_train"`
			NTest            int                     `json:"n_test"`
			Dim              int                     `json:"dim"`
			K                int                     `json:"k"`
			Accuracy         float64                 `json:"knn_accuracy_pixels"`
			BalancedAccuracy float64                 `json:"balanced_accuracy"`
			Superclass       *float64                `json:"knn_accuracy_pixels_superclass,omitempty"`
			PerClass         []tsimcne.ClassAccuracy `json:"per_class"`
			Seconds          float64                 `json:"knn_seconds"`
		}{dataset, rd.Mode, rd.Train.Name, rd.Test.Name, rd.Train.N, rd.Test.N, dim, o.k,
			res.Accuracy, res.BalancedAccuracy, super, per, knnSec}
		if err := tsimcne.WriteJSON(o.json, rep); err != nil {
			return err
		}
		e.printf("Wrote %s\n", o.json)
	}
	return nil
}

// pixels returns the images of ds as float32 in [0, 1], one row per image.
func pixels(ds *data.Dataset) []float32 {
	out := make([]float32, len(ds.Images))
	for i, p := range ds.Images {
		out[i] = float32(p) / 255
	}
	return out
}
