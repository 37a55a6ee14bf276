package main

import (
	"flag"
	"path/filepath"

	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

func downloadCommand() *command {
	return &command{
		name:     "download",
		synopsis: "download CIFAR-10 or CIFAR-100 into the data folder",
		usage:    "tsimcne download [-dataset cifar10|cifar100] [-data DIR]",
		help: `Downloads the official binary archive of CIFAR-10 (163 MB) or CIFAR-100
(161 MB) from www.cs.toronto.edu, checks its MD5 and unpacks it into the data
folder (-data, else $TSIMCNE_DATA, else gosimcne in the user cache folder).
Nothing is downloaded when the files are already there. Without a network,
the error says where to put a copy fetched elsewhere.

Fashion-MNIST and MNIST are not downloaded: on Debian/Ubuntu,
apt-get install dataset-fashion-mnist puts Fashion-MNIST where train finds it.`,
		examples: `  tsimcne download
  tsimcne download -dataset cifar100 -data /scratch/data
  TSIMCNE_DATA=~/data tsimcne download`,
		flags: func(fs *flag.FlagSet) { new(downloadOptions).define(fs) },
		run:   runDownload,
	}
}

type downloadOptions struct {
	dataset *choiceValue
	dataDir string
	url     string
}

func (o *downloadOptions) define(fs *flag.FlagSet) {
	o.dataset = newChoice(runs.CIFAR10, runs.CIFAR10, runs.CIFAR100, runs.FashionMNIST, runs.MNIST)
	fs.Var(o.dataset, "dataset", "data `set`: cifar10 or cifar100")
	fs.StringVar(&o.dataDir, "data", "", "data `folder` (default $TSIMCNE_DATA, else gosimcne in the user cache folder)")
	fs.StringVar(&o.url, "url", "", "download from this `URL` (a mirror of the official archive) instead")
}

func runDownload(e *env, args []string) error {
	var o downloadOptions
	fset := flag.NewFlagSet("download", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	spec := runs.Data{Dataset: o.dataset.v, DataDir: o.dataDir, Warn: e.stderr}
	dir, err := spec.Dir()
	if err != nil {
		return err
	}
	var archive data.Archive
	switch o.dataset.v {
	case runs.CIFAR10:
		archive = data.CIFAR10Archive
	case runs.CIFAR100:
		archive = data.CIFAR100Archive
	default:
		// Not downloadable: say whether the files are found and how to get them.
		if _, _, err := spec.LoadSplit(data.Test); err != nil {
			return err
		}
		e.printf("%s is already present and readable.\n", runs.Title(o.dataset.v))
		return nil
	}
	opts := []data.DownloadOption{data.ProgressTo(e.stdout)}
	if o.url != "" {
		opts = append(opts, data.WithURL(o.url))
	}
	folder := filepath.Join(dir, archive.Folder)
	e.printf("%s: making sure %s holds %d files (downloading %s if needed)\n", archive.Name, folder, len(archive.Files), archive.FileName())
	if err := data.Ensure(dir, archive, opts...); err != nil {
		return err
	}
	e.printf("%s is in %s\n", archive.Name, folder)
	if o.dataDir != "" {
		if d, _ := data.DataDir(); filepath.Clean(d) != filepath.Clean(dir) {
			e.printf("Pass -data %s to train (or set %s=%s).\n", o.dataDir, data.EnvDataDir, dir)
		}
	}
	return nil
}
