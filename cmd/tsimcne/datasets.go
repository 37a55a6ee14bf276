package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// Data set names accepted by -dataset (besides folder:PATH).
const (
	dsCIFAR10      = "cifar10"
	dsCIFAR100     = "cifar100"
	dsFashionMNIST = "fashion-mnist"
	dsMNIST        = "mnist"
	folderPrefix   = "folder:"
)

// Evaluation modes (-eval).
const (
	evalTest    = "test"    // kNN from the training images to the official test images
	evalHoldout = "holdout" // train on everything; kNN from the rest to a stratified held-out part
	evalNone    = "none"    // unlabelled images: no kNN
)

// datasetHelp describes -dataset for the usage texts.
const datasetHelp = "`name` of the images: cifar10, cifar100, fashion-mnist, mnist, or folder:PATH " +
	"(PATH/<class>/*.png|jpg...; with PATH/train and PATH/test sub-folders these are the splits)"

// dataSpec says which images a run trains and evaluates on. It is saved in
// run.json, so that -resume, embed and plot find the same images.
type dataSpec struct {
	// Dataset is cifar10, cifar100, fashion-mnist, mnist or folder:PATH
	// (PATH absolute).
	Dataset string `json:"dataset"`
	// DataDir is the -data folder given; "" means the default data folder
	// ($TSIMCNE_DATA, else the user cache).
	DataDir string `json:"data_dir,omitempty"`
	// Eval is evalTest, evalHoldout or "" (the data set's default).
	Eval string `json:"eval"`
	// CIFARBatches is the number of CIFAR-10 training batches to use
	// (data_batch_1 ... data_batch_N of those present).
	CIFARBatches int `json:"cifar_batches,omitempty"`
	// TrainLimit and TestLimit, when positive, keep a stratified random
	// subset of that many training / test images.
	TrainLimit int `json:"train_limit,omitempty"`
	TestLimit  int `json:"test_limit,omitempty"`
	// Holdout is the number of images held out for kNN in holdout mode
	// (0: min(10000, N/6), the paper's 10 000 of 60 000).
	Holdout int `json:"holdout,omitempty"`
	// ImageSize is the side images of a folder are resized to (default 32).
	ImageSize int `json:"image_size,omitempty"`
	// Seed drives the subsets and the hold-out split.
	Seed uint64 `json:"seed"`
	// SkipBadImages skips the images of a folder that cannot be read (each
	// one listed on stderr) instead of stopping.
	SkipBadImages bool `json:"skip_bad_images,omitempty"`
	// warn receives the list of skipped images (os.Stderr when nil).
	warn io.Writer
}

// folderOptions returns the image-folder reader's options for spec.
func folderOptions(spec dataSpec, size int) []data.FolderOption {
	opts := []data.FolderOption{data.WithSize(size)}
	if spec.SkipBadImages {
		w := spec.warn
		if w == nil {
			w = os.Stderr
		}
		opts = append(opts, data.SkipBadFiles(func(path string, err error) {
			fmt.Fprintf(w, "skipped %s: %v\n", path, err)
		}))
	}
	return opts
}

// runData is the loaded images of a run.
type runData struct {
	// Fit is what training sees.
	Fit *data.Dataset
	// Train and Test are the kNN reference and query images; Test is nil
	// when there is nothing to evaluate (unlabelled images). In test mode
	// Train is Fit; in holdout mode both are parts of Fit.
	Train, Test *data.Dataset
	// Mode is evalTest, evalHoldout or evalNone.
	Mode string
	// TrainIdx and TestIdx are, in holdout mode, the indices of Train and
	// Test in Fit.
	TrainIdx, TestIdx []int
	// Notes say what was chosen (batches used, subsets, hold-out size).
	Notes []string
}

// Both returns Train followed by Test (the images of the two embedding
// files, in that order), or Train alone.
func (r *runData) Both() (*data.Dataset, error) {
	if r.Test == nil {
		return r.Train, nil
	}
	return data.Concat(r.Train, r.Test)
}

// normalizeDataset checks a -dataset value and returns its canonical form
// (folder paths made absolute).
func normalizeDataset(s string) (string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(t), folderPrefix) {
		p := t[len(folderPrefix):]
		if p == "" {
			return "", fmt.Errorf("-dataset folder: needs a path, e.g. folder:./photos")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("-dataset %s: %w", s, err)
		}
		return folderPrefix + abs, nil
	}
	switch strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(t)) {
	case "cifar10":
		return dsCIFAR10, nil
	case "cifar100":
		return dsCIFAR100, nil
	case "fashionmnist", "fmnist":
		return dsFashionMNIST, nil
	case "mnist":
		return dsMNIST, nil
	}
	return "", fmt.Errorf("unknown data set %q: want cifar10, cifar100, fashion-mnist, mnist or folder:PATH", s)
}

// datasetShortName returns a name for folder names and titles: the data
// set, or the folder's base name.
func datasetShortName(dataset string) string {
	if p, ok := strings.CutPrefix(dataset, folderPrefix); ok {
		return filepath.Base(p)
	}
	return dataset
}

// datasetTitle returns a name for picture titles.
func datasetTitle(dataset string) string {
	switch dataset {
	case dsCIFAR10:
		return "CIFAR-10"
	case dsCIFAR100:
		return "CIFAR-100"
	case dsFashionMNIST:
		return "Fashion-MNIST"
	case dsMNIST:
		return "MNIST"
	}
	return datasetShortName(dataset)
}

// hasOfficialTest reports whether the data set has a separate test split.
func hasOfficialTest(dataset string) bool {
	if p, ok := strings.CutPrefix(dataset, folderPrefix); ok {
		return data.HasSplitFolders(p)
	}
	return true
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// dataDirOrDefault returns dir, or the default data folder.
func dataDirOrDefault(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return data.DataDir()
}

// loadSplit loads one split of the data set, with all the images it has
// (CIFAR-10: at most batches training batches, of those present; 0 means
// all present).
func loadSplit(spec dataSpec, split data.Split, batches int) (ds *data.Dataset, notes []string, err error) {
	switch spec.Dataset {
	case dsCIFAR10:
		return loadCIFAR10(spec.DataDir, split, batches)
	case dsCIFAR100:
		if root, err := dataDirOrDefault(spec.DataDir); err == nil && !isDir(filepath.Join(root, data.CIFAR100Folder)) {
			fmt.Fprintf(os.Stderr, "CIFAR-100 is not in %s: downloading it (161 MB)\n", root)
			if err := data.EnsureCIFAR100(root); err != nil {
				return nil, nil, fmt.Errorf("%w\n(or run `tsimcne download -dataset cifar100` once the network is reachable)", err)
			}
		}
		ds, err = data.LoadCIFAR100(spec.DataDir, split)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("%w\n(run `tsimcne download -dataset cifar100` to fetch it)", err)
		case err != nil:
			return nil, nil, fmt.Errorf("%w\n(the file is damaged or not CIFAR-100's binary version: delete the %s folder and run `tsimcne download -dataset cifar100` to fetch it again)",
				err, data.CIFAR100Folder)
		}
		return ds, nil, nil
	case dsFashionMNIST:
		ds, err = data.LoadFashionMNIST(spec.DataDir, split)
		return ds, nil, err
	case dsMNIST:
		ds, err = data.LoadMNIST(spec.DataDir, split)
		return ds, nil, err
	}
	path, ok := strings.CutPrefix(spec.Dataset, folderPrefix)
	if !ok {
		return nil, nil, fmt.Errorf("unknown data set %q", spec.Dataset)
	}
	size := spec.ImageSize
	if size == 0 {
		size = 32
	}
	if !isDir(path) {
		return nil, nil, fmt.Errorf("image folder %s does not exist", path)
	}
	ds, err = data.LoadImageFolderSplit(path, split, folderOptions(spec, size)...)
	if bad := (*data.BadImagesError)(nil); errors.As(err, &bad) {
		err = fmt.Errorf("%w\n(pass -skip-bad-images to leave them out; each skipped file is listed)", err)
	}
	return ds, nil, err
}

// loadCIFAR10 loads CIFAR-10 from the binary batches present: for Train the
// first `batches` of data_batch_1..5 that exist (0: all that exist), for
// Test test_batch.bin. It reads the files with LoadCIFAR10Files so that a
// partial download (like a data folder with data_batch_1.bin and
// test_batch.bin only) works, and says what it used.
func loadCIFAR10(dir string, split data.Split, batches int) (*data.Dataset, []string, error) {
	root, err := dataDirOrDefault(dir)
	if err != nil {
		return nil, nil, err
	}
	folder := filepath.Join(root, data.CIFAR10Folder)
	if !isDir(folder) {
		// A fresh machine: fetch the official archive first, so that one
		// command trains a map (the library checks the MD5 and fails fast
		// offline with instructions).
		fmt.Fprintf(os.Stderr, "CIFAR-10 is not in %s: downloading it (163 MB)\n", root)
		if err := data.EnsureCIFAR10(root); err != nil {
			return nil, nil, fmt.Errorf("%w\n(or run `tsimcne download -dataset cifar10` once the network is reachable)", err)
		}
	}
	missing := func(file string) error {
		return fmt.Errorf("CIFAR-10 not found: %s does not exist.\nRun `tsimcne download -dataset cifar10` (or pass -data DIR / set $%s to the folder that holds %s/)",
			filepath.Join(folder, file), data.EnvDataDir, data.CIFAR10Folder)
	}
	var paths, notes []string
	if split == data.Train || split == data.All {
		var present []string
		for _, f := range data.CIFAR10TrainFiles {
			if _, err := os.Stat(filepath.Join(folder, f)); err == nil {
				present = append(present, f)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, fmt.Errorf("CIFAR-10: %w", err)
			}
		}
		if len(present) == 0 {
			return nil, nil, missing(data.CIFAR10TrainFiles[0])
		}
		want := batches
		if want <= 0 || want > len(data.CIFAR10TrainFiles) {
			want = len(data.CIFAR10TrainFiles)
		}
		use := present[:min(want, len(present))]
		if len(use) < want {
			notes = append(notes, fmt.Sprintf("CIFAR-10: %d training batches wanted, but only %s present in %s: using what exists (`tsimcne download` fetches all five)",
				want, strings.Join(present, ", "), folder))
		}
		for _, f := range use {
			paths = append(paths, filepath.Join(folder, f))
		}
	}
	if split == data.Test || split == data.All {
		p := filepath.Join(folder, data.CIFAR10TestFile)
		if _, err := os.Stat(p); err != nil {
			return nil, nil, missing(data.CIFAR10TestFile)
		}
		paths = append(paths, p)
	}
	ds, err := data.LoadCIFAR10Files(paths...)
	if err != nil {
		return nil, nil, err
	}
	// Any whole number of records is read (tests and hand-made subsets use
	// small files), but an official file holds 10 000: say so otherwise.
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Size() != data.CIFAR10FileImages*data.CIFAR10RecordSize {
			notes = append(notes, fmt.Sprintf("CIFAR-10: %s holds %d images, the official file %d: a partial or hand-made file?",
				p, st.Size()/data.CIFAR10RecordSize, data.CIFAR10FileImages))
		}
	}
	return ds, notes, nil
}

// subset keeps n images of ds: a random subset stratified by class (via
// knn.HoldOutSplit) when ds is labelled, a uniform one otherwise, in ds's
// order. n <= 0 or n >= ds.N keeps everything.
func subset(ds *data.Dataset, n int, seed uint64) (*data.Dataset, error) {
	if n <= 0 || n >= ds.N {
		return ds, nil
	}
	var idx []int
	if ds.Labels != nil {
		var err error
		if _, idx, err = knn.HoldOutSplit(ds.Labels, n, seed); err != nil {
			return nil, err
		}
	} else {
		idx = rand.New(rand.NewPCG(seed, 0x737562)).Perm(ds.N)[:n]
		slices.Sort(idx)
	}
	out := ds.Subset(idx)
	out.Name = fmt.Sprintf("%s (%d of %d)", ds.Name, n, ds.N)
	return out, nil
}

// superclassAccuracy is the kNN accuracy (k neighbours) of the points of
// test against those of train, labelled by CIFAR-100's 20 superclasses;
// nil when the images have no second level of labels.
func superclassAccuracy(train, test *embedding.Embedding, trainImages, testImages *data.Dataset, k int) (*float64, error) {
	if trainImages.CoarseLabels == nil || testImages.CoarseLabels == nil {
		return nil, nil
	}
	tr, te := *train, *test
	tr.Labels, tr.ClassNames = trainImages.CoarseLabels, trainImages.CoarseClassNames
	te.Labels, te.ClassNames = testImages.CoarseLabels, testImages.CoarseClassNames
	acc, _, err := tsimcne.KNNAccuracy(&tr, &te, k)
	if err != nil {
		return nil, fmt.Errorf("superclass kNN accuracy: %w", err)
	}
	return &acc, nil
}

// defaultHoldout is the paper's 10 000 of 60 000 images, scaled down for
// smaller collections.
func defaultHoldout(n int) int { return min(10000, n/6) }

// holdoutSize returns the number of the n images (or points) to hold out for
// kNN: given, or defaultHoldout(n) when given is 0; an error says which it
// was when that leaves no query or no reference.
func holdoutSize(given, n int, what string) (int, error) {
	if given == 0 {
		h := defaultHoldout(n)
		if h < 1 {
			return 0, fmt.Errorf("too few %s (%d) to hold out a part for the kNN evaluation (the default, N/6, is 0): pass -holdout N", what, n)
		}
		return h, nil
	}
	if given < 1 || given >= n {
		return 0, fmt.Errorf("cannot hold out %d of %d %s (-holdout): it must be between 1 and %d", given, n, what, n-1)
	}
	return given, nil
}

// loadRunData loads the images of spec: the training images, and the kNN
// reference and query sets of its evaluation mode.
func loadRunData(spec dataSpec) (*runData, error) {
	mode := spec.Eval
	if mode == "" {
		mode = evalTest
		if !hasOfficialTest(spec.Dataset) {
			mode = evalHoldout
		}
	}
	rd := &runData{Mode: mode}
	switch mode {
	case evalTest:
		if !hasOfficialTest(spec.Dataset) {
			p, _ := strings.CutPrefix(spec.Dataset, folderPrefix)
			return nil, fmt.Errorf("-eval test: image folder %s has no train/ and test/ sub-folders; use -eval holdout", p)
		}
		train, notes, err := loadSplit(spec, data.Train, spec.CIFARBatches)
		if err != nil {
			return nil, err
		}
		rd.Notes = append(rd.Notes, notes...)
		test, _, err := loadSplit(spec, data.Test, 0)
		if err != nil {
			return nil, err
		}
		if train, err = subset(train, spec.TrainLimit, spec.Seed); err != nil {
			return nil, err
		}
		if test, err = subset(test, spec.TestLimit, spec.Seed+1); err != nil {
			return nil, err
		}
		rd.Fit, rd.Train, rd.Test = train, train, test
		if train.Labels == nil || test.Labels == nil {
			rd.Mode, rd.Test = evalNone, nil
			rd.Train = train
		}
	case evalHoldout:
		all, notes, err := loadSplit(spec, data.All, spec.CIFARBatches)
		if err != nil {
			return nil, err
		}
		rd.Notes = append(rd.Notes, notes...)
		if all, err = subset(all, spec.TrainLimit, spec.Seed); err != nil {
			return nil, err
		}
		rd.Fit = all
		if all.Labels == nil {
			rd.Mode, rd.Train = evalNone, all
			rd.Notes = append(rd.Notes, fmt.Sprintf("%s has no labels (no class sub-folders): no kNN evaluation", all.Name))
			break
		}
		n, err := holdoutSize(spec.Holdout, all.N, "images")
		if err != nil {
			return nil, err
		}
		rd.TrainIdx, rd.TestIdx, err = knn.HoldOutSplit(all.Labels, n, spec.Seed)
		if err != nil {
			return nil, err
		}
		rd.Train, rd.Test = all.Subset(rd.TrainIdx), all.Subset(rd.TestIdx)
		rd.Train.Name = all.Name + " (kNN reference part)"
		rd.Test.Name = all.Name + " (held out)"
		rd.Notes = append(rd.Notes, fmt.Sprintf("kNN evaluation: %d of the %d images held out (stratified, seed %d); training uses all %d",
			n, all.N, spec.Seed, all.N))
	default:
		return nil, fmt.Errorf("unknown evaluation mode %q: want test or holdout", mode)
	}
	return rd, nil
}
