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
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

func plotCommand() *command {
	return &command{
		name:     "plot",
		synopsis: "draw the pictures of a run or of an embedding file",
		usage:    "tsimcne plot -run DIR | tsimcne plot -embedding FILE [-dataset NAME [-split S]] [-out DIR]",
		help: `Draws map.png, map.svg, thumbnails.png, outliers.png, outliers_map.png,
outliers.csv (the outliers with their image files) and map.html (interactive:
pan, zoom, hover thumbnails, legend toggles), and with
-run history.png (the training curves, from the run's history.json).

With -run it draws the run's train and test maps together (embedding_train.csv
and embedding_test.csv), with the run's images for the thumbnails, into the run
folder. With -embedding it draws a .csv or .npy file; thumbnails and the
outlier gallery need the images in the same order: -dataset and -split (the
run's data selection for a train run's files is reproduced only by -run).
Without images only map.png, map.svg, outliers_map.png, outliers.csv and map.html
are drawn.`,
		examples: `  tsimcne plot -run runs/cifar10-cpu
  tsimcne plot -run runs/cifar10-cpu -out /tmp/pictures -outliers 40
  tsimcne plot -embedding test.csv -dataset cifar10 -split test -out pictures/`,
		flags: func(fs *flag.FlagSet) { new(plotOptions).define(fs) },
		run:   runPlot,
	}
}

type plotOptions struct {
	run       string
	emb       string
	dataset   string
	dataDir   string
	split     splitValue
	out       string
	title     string
	outliers  int
	scale     float64
	imageSize int
	skipBad   bool
}

func (o *plotOptions) define(fs *flag.FlagSet) {
	o.split.v = data.All
	fs.StringVar(&o.run, "run", "", "run `folder` written by train")
	fs.StringVar(&o.emb, "embedding", "", "embedding `file` to draw (.csv with labels, or .npy)")
	fs.StringVar(&o.dataset, "dataset", "", datasetHelp+"; with -embedding: the images of its points, for thumbnails")
	fs.StringVar(&o.dataDir, "data", "", "data `folder` (default: the run's, else $TSIMCNE_DATA or the user cache folder)")
	fs.Var(&o.split, "split", "with -embedding and -dataset: the `split` of its images, train, test or all")
	fs.StringVar(&o.out, "out", "", "output `folder` (default: the run folder, or the embedding file's folder)")
	fs.StringVar(&o.title, "title", "", "title of the map (default: data set, number of images, kNN accuracy)")
	fs.IntVar(&o.outliers, "outliers", runs.DefaultOutliers, "number of outliers to show")
	fs.Float64Var(&o.scale, "scale", 1, "pixel `density` of the PNG pictures: 2 doubles their pixels in each direction (crisp on high-density screens and in print) without changing their layout")
	fs.IntVar(&o.imageSize, "image-size", 0, "side in `pixels` that folder images are resized to (default: the run's, else 32)")
	fs.BoolVar(&o.skipBad, "skip-bad-images", false, "skip images of a folder that cannot be read (each one is listed on stderr) instead of stopping")
}

func runPlot(e *env, args []string) error {
	var o plotOptions
	fset := flag.NewFlagSet("plot", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	set := flagsSet(fset)
	switch {
	case (o.run == "") == (o.emb == ""):
		return usagef("give either -run or -embedding")
	case o.run != "" && (o.dataset != "" || set["split"]):
		return usagef("-dataset and -split go with -embedding; -run uses the run's images")
	case o.emb != "" && set["split"] && o.dataset == "":
		return usagef("-split needs -dataset")
	case o.outliers < 1:
		return usagef("-outliers must be at least 1")
	case !(o.scale >= 0.5 && o.scale <= 8):
		return usagef("-scale must be between 0.5 and 8, got %v", o.scale)
	}
	var (
		in  runs.Pictures
		out string
		err error
	)
	if o.run != "" {
		in, out, err = o.runPictures(e)
	} else {
		in, out, err = o.embeddingPictures(e)
	}
	if err != nil {
		return err
	}
	if in.Images != nil && in.Images.N != in.Map.N {
		fmt.Fprintf(e.stderr, "warning: %d images for %d map points: drawing without images\n", in.Images.N, in.Map.N)
		in.Images = nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	in.Outliers, in.Scale = o.outliers, o.scale
	files, err := runs.WritePictures(out, in)
	if len(files) > 0 {
		e.printf("Wrote in %s (%s): %s\n", out, formatSeconds(time.Since(t0).Seconds()), strings.Join(describeFiles(files), ", "))
	}
	return err
}

// runPictures returns the pictures of the run folder -run (its train and
// test maps together, with its images when they load, and its history)
// and the folder to draw them in.
func (o *plotOptions) runPictures(e *env) (runs.Pictures, string, error) {
	m, err := runs.ReadMap(o.run)
	if err != nil {
		return runs.Pictures{}, "", fmt.Errorf("%w (is %s a finished run folder?)", err, o.run)
	}
	in := runs.Pictures{Map: m, Title: o.title}
	spec, err := dataFor(o.run, "", o.dataDir, o.imageSize, o.skipBad)
	if err == nil {
		var im *runs.Images
		spec.Warn = e.stderr
		if im, err = spec.Load(); err == nil {
			in.Images, err = im.Both()
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: no images for the thumbnails: %v\n", withHints(err))
		in.Images = nil
	}
	if in.Title == "" {
		in.Title = runTitle(o.run, spec.Dataset, m.N)
	}
	if h, err := tsimcne.ReadHistory(filepath.Join(o.run, runs.HistoryFile)); err == nil {
		in.History = h
	} else if !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(e.stderr, "warning: no history.png: %v\n", err)
	}
	out := o.out
	if out == "" {
		out = o.run
	}
	return in, out, nil
}

// embeddingPictures returns the pictures of the embedding file -embedding,
// with the images of -dataset and -split, and the folder to draw them in.
func (o *plotOptions) embeddingPictures(e *env) (runs.Pictures, string, error) {
	m, err := embedding.Load(o.emb)
	if err != nil {
		return runs.Pictures{}, "", err
	}
	in := runs.Pictures{Map: m, Title: o.title}
	name := strings.TrimSuffix(filepath.Base(o.emb), filepath.Ext(o.emb))
	if o.dataset != "" {
		spec, err := dataFor("", o.dataset, o.dataDir, o.imageSize, o.skipBad)
		if err != nil {
			return runs.Pictures{}, "", err
		}
		name = spec.Dataset
		spec.Warn = e.stderr
		var images *data.Dataset
		if images, _, err = spec.LoadSplit(o.split.v); err != nil {
			return runs.Pictures{}, "", err
		}
		in.Images = images
		if m.Labels == nil {
			m.Labels, m.ClassNames = images.Labels, images.ClassNames
		}
	}
	if in.Title == "" {
		in.Title = runs.MapTitle(name, m.N, nil)
	}
	out := o.out
	if out == "" {
		out = filepath.Dir(o.emb)
	}
	return in, out, nil
}

// runTitle is the default map title of a run: data set, number of images and
// the kNN accuracy from metrics.json.
func runTitle(runDir, dataset string, n int) string {
	if dataset == "" {
		dataset = filepath.Base(filepath.Clean(runDir))
	}
	var acc *float64
	if met, err := runs.ReadMetrics(runDir); err == nil && met.KNN != nil {
		acc = &met.KNN.MapAccuracy
	}
	return runs.MapTitle(dataset, n, acc)
}
