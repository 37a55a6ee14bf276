package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

// datasetHelp describes -dataset for the usage texts.
const datasetHelp = "`name` of the images: cifar10, cifar100, fashion-mnist, mnist, or folder:PATH " +
	"(PATH/<class>/*.png|jpg...; with PATH/train and PATH/test sub-folders these are the splits)"

// withHints adds to an error of the library what fixes it on the command
// line: the command or flag to use. Other errors are returned as they are.
func withHints(err error) error {
	var (
		de  *runs.DataError
		bad *data.BadImagesError
		he  *runs.HoldoutError
	)
	switch {
	case errors.As(err, &de):
		return dataHint(err, de)
	case errors.As(err, &bad):
		return fmt.Errorf("%w\n(pass -skip-bad-images to leave them out; each skipped file is listed)", err)
	case errors.As(err, &he) && he.Given == 0:
		return fmt.Errorf("%w: pass -holdout N", err)
	case errors.As(err, &he):
		return fmt.Errorf("%w (-holdout)", err)
	case errors.Is(err, runs.ErrNoTestSplit):
		return fmt.Errorf("%w; use -eval holdout", err)
	}
	return err
}

// dataHint says how to get the files of a data set that are missing,
// could not be downloaded or are damaged.
func dataHint(err error, de *runs.DataError) error {
	switch de.Problem {
	case runs.DataDownloadFailed:
		return fmt.Errorf("%w\n(or run `tsimcne download -dataset %s` once the network is reachable)", err, de.Dataset)
	case runs.DataMissing:
		return fmt.Errorf("%w\n(run `tsimcne download -dataset %s` to fetch it, or pass -data DIR / set $%s to the folder that holds %s/)",
			err, de.Dataset, data.EnvDataDir, filepath.Base(de.Folder))
	case runs.DataDamaged:
		return fmt.Errorf("%w\n(to download it: run `tsimcne download -dataset %s`)", err, de.Dataset)
	}
	return err
}
