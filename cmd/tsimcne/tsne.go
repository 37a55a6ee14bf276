package main

import (
	"flag"
	"fmt"

	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
	"github.com/gosimcne/gosimcne/tsimcne/tsne"
)

func tsneCommand() *command {
	return &command{
		name:     "tsne",
		synopsis: "t-SNE map of any embedding, feature file or raw pixels (the paper's comparison)",
		usage:    "tsimcne tsne (-run DIR | -embedding FILE [-labels FILE] | -dataset NAME [-split all]) -out FILE.npy|FILE.csv",
		help: `Computes a 2-D t-SNE map (tsimcne/tsne: perplexity-calibrated affinities on
exact nearest neighbours after PCA to 50 dimensions, early exaggeration, FIt-SNE's
FFT-interpolated repulsion, PCA initialisation, learning rate max(200, N/12))
of the backbone features of a trained run's images (-run: the run's kNN
reference images followed by its query images, the order of its
embedding_train and embedding_test files, scored with the run's own split),
of the points of -embedding (.npy or .csv, e.g. the backbone features written
by "embed -features"), or of the raw pixels of -dataset's images, and writes
it to -out (.npy, or .csv with the labels). Where the points have labels, it
prints the map's kNN accuracy: with -run by the run's split, else with a
stratified hold-out (-holdout, default min(10000, N/6); seed -seed), the
protocol of "eval -holdout", so that it compares with a t-SimCNE run's map.`,
		examples: `  tsimcne tsne -run runs/cifar10-cpu -out tsne_features.csv
  tsimcne embed -run runs/cifar10-cpu -split all -features -out all.csv
  tsimcne tsne -embedding all_features.csv -out tsne_features.csv
  tsimcne tsne -dataset cifar10 -split all -out tsne_pixels.csv`,
		flags: func(fs *flag.FlagSet) { new(tsneOptions).define(fs) },
		run:   runTSNE,
	}
}

type tsneOptions struct {
	run        string
	emb        string
	labels     string
	dataset    string
	dataDir    string
	split      splitValue
	out        string
	perplexity float64
	iterations int
	seed       uint64
	k          int
	holdout    int
}

func (o *tsneOptions) define(fs *flag.FlagSet) {
	d := tsne.DefaultConfig()
	o.split.v = data.All
	fs.StringVar(&o.run, "run", "", "trained run `folder` (train's -out): map the backbone features of its images, scored by its kNN split")
	fs.StringVar(&o.emb, "embedding", "", "points to map: a `file` (.npy, or .csv with labels), e.g. features from `tsimcne embed -features`")
	fs.StringVar(&o.labels, "labels", "", "labels `file` for -embedding (.npy integers, or text with one label per line)")
	fs.StringVar(&o.dataset, "dataset", "", datasetHelp+": map the raw pixels of its images instead")
	fs.StringVar(&o.dataDir, "data", "", "data `folder` for -dataset (default $TSIMCNE_DATA, else the user cache folder)")
	fs.Var(&o.split, "split", "with -dataset: which images, a `split`: train, test or all")
	fs.StringVar(&o.out, "out", "", "output `file`, .npy or .csv")
	fs.Float64Var(&o.perplexity, "perplexity", d.Perplexity, "t-SNE `perplexity` (lowered for small data sets)")
	fs.IntVar(&o.iterations, "iterations", d.Iterations, "`iterations` after the early exaggeration phase")
	fs.Uint64Var(&o.seed, "seed", 1, "random `seed` of t-SNE and of the hold-out split")
	fs.IntVar(&o.k, "k", knn.DefaultK, "neighbours for the kNN accuracy")
	fs.IntVar(&o.holdout, "holdout", 0, "points held out for the kNN accuracy (default min(10000, N/6))")
}

func runTSNE(e *env, args []string) error {
	var o tsneOptions
	fset := flag.NewFlagSet("tsne", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	switch {
	case btoi(o.run != "")+btoi(o.emb != "")+btoi(o.dataset != "") != 1:
		return usagef("give one of -run, -embedding and -dataset")
	case o.labels != "" && o.emb == "":
		return usagef("-labels goes with -embedding")
	case o.out == "":
		return usagef("-out is required")
	case o.perplexity <= 0:
		return usagef("-perplexity must be positive")
	case o.iterations < 1 || o.k < 1 || o.holdout < 0:
		return usagef("-iterations and -k must be at least 1, -holdout >= 0")
	}
	if err := checkEmbeddingName(o.out); err != nil {
		return err
	}
	in, name, split, err := o.points(e)
	if err != nil {
		return err
	}
	e.printf("t-SNE of %s: %d points, %d-D\n", name, in.N, in.Dim)
	res, err := tsne.EmbedContext(e.ctx, in.Points, in.N, in.Dim,
		tsne.WithPerplexity(o.perplexity), tsne.WithIterations(o.iterations), tsne.WithSeed(o.seed))
	if err != nil {
		return err
	}
	for _, n := range res.Notes {
		e.printf("note: %s\n", n)
	}
	t := res.Times
	e.printf("Mapped in %s (PCA %s, neighbours %s, affinities %s, %d iterations %s); KL divergence %.3f\n",
		formatSeconds(t.Total.Seconds()), formatSeconds(t.PCA.Seconds()), formatSeconds(t.Neighbors.Seconds()),
		formatSeconds(t.Affinities.Seconds()), res.Iterations, formatSeconds(t.Optimize.Seconds()), res.KL)
	out := &embedding.Embedding{Points: res.Embedding, N: res.N, Dim: 2, Labels: in.Labels, ClassNames: in.ClassNames}
	if err := out.Save(o.out); err != nil {
		return err
	}
	e.printf("Wrote %s\n", o.out)
	if out.Labels == nil {
		return nil
	}
	if split != nil { // the run's own kNN split
		if len(split[1]) == 0 {
			return nil // nothing to score (unlabelled images)
		}
		ref, query := pickPoints(out, split[0]), pickPoints(out, split[1])
		acc, err := knn.Accuracy(ref.Points, ref.Labels, query.Points, query.Labels, 2, knn.WithK(o.k))
		if err != nil {
			return err
		}
		e.printf("kNN accuracy of the t-SNE map (k=%d, the run's split, %d -> %d): %.4f\n", o.k, ref.N, query.N, acc.Accuracy)
		return nil
	}
	n, err := runs.HoldoutSize(o.holdout, out.N, "points")
	if err != nil {
		return withHints(err)
	}
	acc, err := knn.HoldOutAccuracy(out.Points, out.Labels, 2, n, o.seed, knn.WithK(o.k))
	if err != nil {
		return err
	}
	e.printf("kNN accuracy of the t-SNE map (k=%d, %d held out, seed %d): %.4f\n", o.k, n, o.seed, acc.Accuracy)
	return nil
}

// points returns the points to map, a name for them, and for -run the
// run's kNN split (indices of the reference and the query points; nil
// otherwise): a run's backbone features, the file's points, or the data
// set's pixels scaled to [0, 1].
func (o *tsneOptions) points(e *env) (*embedding.Embedding, string, *[2][]int, error) {
	switch {
	case o.run != "":
		return o.runFeatures(e)
	case o.emb != "":
		p, err := loadPoints(o.emb, o.labels)
		return p, o.emb, nil, err
	}
	spec, err := dataFor("", o.dataset, o.dataDir, 0, false)
	if err != nil {
		return nil, "", nil, err
	}
	spec.Warn = e.stderr
	ds, notes, err := spec.LoadSplit(o.split.v)
	if err != nil {
		return nil, "", nil, withHints(err)
	}
	for _, n := range notes {
		e.printf("note: %s\n", n)
	}
	return &embedding.Embedding{Points: pixels(ds), N: ds.N, Dim: ds.ImageSize(), Labels: ds.Labels, ClassNames: ds.ClassNames},
		fmt.Sprintf("the pixels of %s", ds.Name), nil, nil
}

// runFeatures embeds the backbone features of a run's images, in the order
// the run trained on them when it held a part out (the data set's own
// order: `plot -embedding` with the run's -dataset finds their
// thumbnails), else its reference images followed by its test images; the
// split says which points are which.
func (o *tsneOptions) runFeatures(e *env) (*embedding.Embedding, string, *[2][]int, error) {
	m, err := loadModel(e, o.run)
	if err != nil {
		return nil, "", nil, err
	}
	spec, err := dataFor(o.run, "", o.dataDir, 0, false)
	if err != nil {
		return nil, "", nil, err
	}
	spec.Warn = e.stderr
	im, err := spec.Load()
	if err != nil {
		return nil, "", nil, withHints(err)
	}
	images, split := im.Fit, [2][]int{im.TrainIdx, im.TestIdx}
	if im.Mode != runs.EvalHoldout {
		if images, err = im.Both(); err != nil {
			return nil, "", nil, err
		}
		split = [2][]int{seq(0, im.Train.N), seq(im.Train.N, images.N)}
	}
	e.printf("Embedding the %d images of %s...\n", images.N, o.run)
	_, feats, err := m.TransformWithFeatures(images)
	if err != nil {
		return nil, "", nil, err
	}
	return feats, fmt.Sprintf("the backbone features of %s", o.run), &split, nil
}

// seq returns lo, lo+1, ..., hi-1.
func seq(lo, hi int) []int {
	out := make([]int, 0, max(hi-lo, 0))
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// btoi is 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
