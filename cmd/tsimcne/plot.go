package main

import (
	"encoding/json"
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
)

func plotCommand() *command {
	return &command{
		name:     "plot",
		synopsis: "draw the pictures of a run or of an embedding file",
		usage:    "tsimcne plot -run DIR | tsimcne plot -embedding FILE [-dataset NAME [-split S]] [-out DIR]",
		help: `Draws map.png, map.svg, thumbnails.png, outliers.png, outliers_map.png and
map.html (interactive: pan, zoom, hover thumbnails, legend toggles), and with
-run history.png (the training curves, from the run's history.json).

With -run it draws the run's train and test maps together (embedding_train.csv
and embedding_test.csv), with the run's images for the thumbnails, into the run
folder. With -embedding it draws a .csv or .npy file; thumbnails and the
outlier gallery need the images in the same order: -dataset and -split (the
run's data selection for a train run's files is reproduced only by -run).
Without images only map.png, map.svg, outliers_map.png and map.html are drawn.`,
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
	fs.IntVar(&o.outliers, "outliers", 20, "number of outliers to show")
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
	}
	var (
		m      *embedding.Embedding
		images *data.Dataset
		title  = o.title
		out    = o.out
		name   string
	)
	if o.run != "" {
		train, err := embedding.Load(filepath.Join(o.run, trainEmbedding+".csv"))
		if err != nil {
			return fmt.Errorf("%w (is %s a finished run folder?)", err, o.run)
		}
		m = train
		test, err := embedding.Load(filepath.Join(o.run, testEmbedding+".csv"))
		if err == nil {
			if m, err = concatMaps(train, test); err != nil {
				return err
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		spec, err := dataFor(o.run, "", o.dataDir, o.imageSize, o.skipBad)
		if err == nil {
			name = spec.Dataset
			var rd *runData
			spec.warn = e.stderr
			if rd, err = loadRunData(spec); err == nil {
				images, err = rd.Both()
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "warning: no images for the thumbnails: %v\n", err)
			images = nil
		}
		if out == "" {
			out = o.run
		}
		if title == "" {
			title = runTitle(o.run, name, m.N)
		}
	} else {
		var err error
		if m, err = embedding.Load(o.emb); err != nil {
			return err
		}
		if o.dataset != "" {
			spec, err := dataFor("", o.dataset, o.dataDir, o.imageSize, o.skipBad)
			if err != nil {
				return err
			}
			name = spec.Dataset
			spec.warn = e.stderr
			if images, _, err = loadSplit(spec, o.split.v, 0); err != nil {
				return err
			}
			if m.Labels == nil {
				m.Labels, m.ClassNames = images.Labels, images.ClassNames
			}
		}
		if out == "" {
			out = filepath.Dir(o.emb)
		}
		if title == "" {
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(o.emb), filepath.Ext(o.emb))
			}
			title = fmt.Sprintf("t-SimCNE map of %s (%d images)", datasetTitle(name), m.N)
		}
	}
	if images != nil && images.N != m.N {
		fmt.Fprintf(e.stderr, "warning: %d images for %d map points: drawing without images\n", images.N, m.N)
		images = nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	in := pictureInput{Map: m, Images: images, Title: title, Outliers: o.outliers}
	if o.run != "" {
		if h, err := tsimcne.ReadHistory(filepath.Join(o.run, historyFile)); err == nil {
			in.History = h
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(e.stderr, "warning: no history.png: %v\n", err)
		}
	}
	files, err := writePictures(e, out, in)
	if len(files) > 0 {
		e.printf("Wrote in %s (%s): %s\n", out, formatSeconds(time.Since(t0).Seconds()), strings.Join(describeFiles(files), ", "))
	}
	return err
}

// runTitle is the default map title of a run: data set, number of images and
// the kNN accuracy from metrics.json.
func runTitle(runDir, dataset string, n int) string {
	if dataset == "" {
		dataset = filepath.Base(filepath.Clean(runDir))
	}
	title := fmt.Sprintf("t-SimCNE map of %s (%d images)", datasetTitle(dataset), n)
	var met struct {
		KNN *struct {
			MapAccuracy float64 `json:"knn_accuracy_map"`
		} `json:"knn"`
	}
	if b, err := os.ReadFile(filepath.Join(runDir, metricsFile)); err == nil && json.Unmarshal(b, &met) == nil && met.KNN != nil {
		title += fmt.Sprintf(", kNN accuracy %.3f", met.KNN.MapAccuracy)
	}
	return title
}
