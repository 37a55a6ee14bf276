package runs

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

// Data set names (Data.Dataset), besides FolderPrefix+PATH.
const (
	CIFAR10      = "cifar10"
	CIFAR100     = "cifar100"
	FashionMNIST = "fashion-mnist"
	MNIST        = "mnist"
	// FolderPrefix starts the name of an image folder: folder:PATH.
	FolderPrefix = "folder:"
)

// Evaluation modes (Data.Eval, Images.Mode).
const (
	// EvalTest: kNN from the training images to the official test images.
	EvalTest = "test"
	// EvalHoldout: train on everything; kNN from the rest to a stratified
	// held-out part.
	EvalHoldout = "holdout"
	// EvalNone: unlabelled images, no kNN (Images.Mode only).
	EvalNone = "none"
)

// Data says which images a run trains and evaluates on. It is saved in
// run.json (Info.Data), so that a resumed run, embed, plot and notebooks
// find the same images.
type Data struct {
	// Dataset is CIFAR10, CIFAR100, FashionMNIST, MNIST or
	// FolderPrefix+PATH (PATH absolute; see NormalizeDataset).
	Dataset string `json:"dataset"`
	// DataDir is the data folder; "" means the default one
	// ($TSIMCNE_DATA, else the user cache; see data.DataDir).
	DataDir string `json:"data_dir,omitempty"`
	// Eval is EvalTest, EvalHoldout or "" (the data set's default: test
	// where it has a test split, else holdout).
	Eval string `json:"eval"`
	// CIFARBatches is the number of CIFAR-10 training batches to use
	// (data_batch_1 ... data_batch_N of those present; 0: all present).
	CIFARBatches int `json:"cifar_batches,omitempty"`
	// TrainLimit and TestLimit, when positive, keep a stratified random
	// subset of that many training / test images.
	TrainLimit int `json:"train_limit,omitempty"`
	TestLimit  int `json:"test_limit,omitempty"`
	// Holdout is the number of images held out for kNN in holdout mode
	// (0: DefaultHoldout, the paper's 10 000 of 60 000).
	Holdout int `json:"holdout,omitempty"`
	// ImageSize is the side images of a folder are resized to (default 32).
	ImageSize int `json:"image_size,omitempty"`
	// Seed drives the subsets and the hold-out split.
	Seed uint64 `json:"seed"`
	// SkipBadImages skips the images of a folder that cannot be read (each
	// one listed on Warn) instead of stopping.
	SkipBadImages bool `json:"skip_bad_images,omitempty"`
	// Warn receives the notes written while loading: the images skipped,
	// a download starting and its progress (os.Stderr when nil).
	Warn io.Writer `json:"-"`
	// CacheDir, if set, is where an image folder is decoded once into a
	// prepared, memory-mapped file (data.WithCache) that later loads of the
	// unchanged folder reuse: a run's PreparedDir, so that its -resume,
	// embed and plot do not decode the folder again. Not saved.
	CacheDir string `json:"-"`
}

// warn returns where loading notes go.
func (d Data) warn() io.Writer {
	if d.Warn == nil {
		return os.Stderr
	}
	return d.Warn
}

// Dir returns the data folder the images are read from: DataDir, or the
// default one.
func (d Data) Dir() (string, error) {
	if d.DataDir != "" {
		return d.DataDir, nil
	}
	return data.DataDir()
}

// QuickTrainImages bounds the quick preset's training images (CIFAR-10's
// data_batch_1 holds as many), so that it takes about a minute on any data
// set.
const QuickTrainImages = 10000

// NewData returns the data selection of a new run of preset on dataset with
// seed: the paper's protocol for every preset but quick (train on all
// 60 000 CIFAR-10 images, kNN of a stratified held-out 10 000 against the
// other 50 000); for quick (a smoke test of about a minute on 2 cores)
// data_batch_1 -> test_batch, and at most QuickTrainImages training images
// of any other data set. When $TSIMCNE_DATA is set, DataDir records that
// folder (absolute), so that later commands find the images without it.
func NewData(preset, dataset string, seed uint64) Data {
	d := Data{Dataset: dataset, Eval: EvalHoldout, CIFARBatches: len(data.CIFAR10TrainFiles), Seed: seed}
	if preset == tsimcne.PresetQuick {
		d.Eval, d.CIFARBatches, d.TrainLimit = EvalTest, 1, QuickTrainImages
	}
	if env := os.Getenv(data.EnvDataDir); env != "" {
		d.DataDir, _ = filepath.Abs(env)
	}
	return d
}

// Images is the loaded images of a run.
type Images struct {
	// Fit is what training sees.
	Fit *data.Dataset
	// Train and Test are the kNN reference and query images; Test is nil
	// when there is nothing to evaluate (unlabelled images). In test mode
	// Train is Fit; in holdout mode both are parts of Fit.
	Train, Test *data.Dataset
	// Mode is EvalTest, EvalHoldout or EvalNone.
	Mode string
	// TrainIdx and TestIdx are, in holdout mode, the indices of Train and
	// Test in Fit.
	TrainIdx, TestIdx []int
	// Notes say what was chosen (batches used, subsets, hold-out size).
	Notes []string

	both *data.Dataset // Train followed by Test without a copy, when they share a mapping
}

// Both returns Train followed by Test (the images of the two embedding
// files, in that order), or Train alone.
func (im *Images) Both() (*data.Dataset, error) {
	if im.Test == nil {
		return im.Train, nil
	}
	if im.both != nil {
		return im.both, nil
	}
	return data.Concat(im.Train, im.Test)
}

// HoldoutImagesFile is the prepared file, in the run's PreparedDir, of a mapped
// image collection's images in the order of the hold-out split: the kNN
// reference part, then the held-out part.
const HoldoutImagesFile = "holdout" + data.PreparedExt

// splitHoldout sets Train and Test to the parts TrainIdx and TestIdx of
// all. Images in memory are copied (Subset). A memory-mapped collection (a
// prepared image folder) given a cacheDir is written once more, in the
// split's order, into HoldoutImagesFile there, and Train, Test and Both are parts
// of that file's mapping: no copy of the pixels in memory, at the cost of
// the collection's size on disk (written again at each load, 10-30 s for
// 2.3 GB).
func (im *Images) splitHoldout(all *data.Dataset, cacheDir string) error {
	if !all.Mapped() || cacheDir == "" {
		im.Train, im.Test = all.Subset(im.TrainIdx), all.Subset(im.TestIdx)
		return nil
	}
	order := append(slices.Clone(im.TrainIdx), im.TestIdx...)
	p, err := data.PrepareSubset(all, order, filepath.Join(cacheDir, HoldoutImagesFile))
	if err != nil {
		return fmt.Errorf("splitting %s for the kNN evaluation: %w", all.Name, err)
	}
	n := len(im.TrainIdx)
	if im.Train, err = p.Slice(0, n); err == nil {
		im.Test, err = p.Slice(n, p.N)
	}
	im.both = p.Dataset
	return err
}

// NormalizeDataset checks a data set name and returns its canonical form:
// CIFAR10, CIFAR100, FashionMNIST, MNIST (spelt loosely: "CIFAR-10",
// "fmnist", ...) or FolderPrefix with the path made absolute.
func NormalizeDataset(s string) (string, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(t), FolderPrefix) {
		p := t[len(FolderPrefix):]
		if p == "" {
			return "", fmt.Errorf("folder: needs a path, e.g. folder:./photos")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("data set %s: %w", s, err)
		}
		return FolderPrefix + abs, nil
	}
	switch strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(t)) {
	case "cifar10":
		return CIFAR10, nil
	case "cifar100":
		return CIFAR100, nil
	case "fashionmnist", "fmnist":
		return FashionMNIST, nil
	case "mnist":
		return MNIST, nil
	}
	return "", fmt.Errorf("unknown data set %q: want cifar10, cifar100, fashion-mnist, mnist or folder:PATH", s)
}

// ShortName returns a name for folder names and titles: the data set, or
// the folder's base name.
func ShortName(dataset string) string {
	if p, ok := strings.CutPrefix(dataset, FolderPrefix); ok {
		return filepath.Base(p)
	}
	return dataset
}

// Title returns a name for picture titles: "CIFAR-10", ..., or the
// folder's base name.
func Title(dataset string) string {
	switch dataset {
	case CIFAR10:
		return "CIFAR-10"
	case CIFAR100:
		return "CIFAR-100"
	case FashionMNIST:
		return "Fashion-MNIST"
	case MNIST:
		return "MNIST"
	}
	return ShortName(dataset)
}

// HasTestSplit reports whether the data set has a separate test split: the
// named data sets do, a folder does when it has train/ and test/
// sub-folders.
func HasTestSplit(dataset string) bool {
	if p, ok := strings.CutPrefix(dataset, FolderPrefix); ok {
		return data.HasSplitFolders(p)
	}
	return true
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// folderOptions returns the image-folder reader's options for d.
func folderOptions(d Data, size int) []data.FolderOption {
	opts := []data.FolderOption{data.WithSize(size)}
	if d.CacheDir != "" {
		opts = append(opts, data.WithCache(d.CacheDir))
	}
	if d.SkipBadImages {
		w := d.warn()
		opts = append(opts, data.SkipBadFiles(func(path string, err error) {
			fmt.Fprintf(w, "skipped %s: %v\n", path, err)
		}))
	}
	return opts
}

// LoadSplit loads one split of the data set with all the images it has
// (CIFAR-10: every training batch present), without the subsets or the
// hold-out of Load. The notes say what was used where that is not what was
// asked for.
func (d Data) LoadSplit(split data.Split) (ds *data.Dataset, notes []string, err error) {
	return loadSplit(d, split, 0)
}

// loadSplit is LoadSplit with at most batches CIFAR-10 training batches, of
// those present (0: all present).
func loadSplit(d Data, split data.Split, batches int) (ds *data.Dataset, notes []string, err error) {
	switch d.Dataset {
	case CIFAR10:
		return loadCIFAR10(d, split, batches)
	case CIFAR100:
		ds, err = loadCIFAR100(d, split)
		return ds, nil, err
	case FashionMNIST:
		ds, err = data.LoadFashionMNIST(d.DataDir, split)
		return ds, nil, err
	case MNIST:
		ds, err = data.LoadMNIST(d.DataDir, split)
		return ds, nil, err
	}
	path, ok := strings.CutPrefix(d.Dataset, FolderPrefix)
	if !ok {
		return nil, nil, fmt.Errorf("unknown data set %q", d.Dataset)
	}
	size := d.ImageSize
	if size == 0 {
		size = 32
	}
	if !isDir(path) {
		return nil, nil, fmt.Errorf("image folder %s does not exist", path)
	}
	ds, err = data.LoadImageFolderSplit(path, split, folderOptions(d, size)...)
	return ds, nil, err
}

// ensure downloads archive a into the data folder root when its folder is
// not there, so that one command trains a map on a fresh machine (the
// download checks the MD5 and fails fast offline with instructions).
func ensure(d Data, root string, a data.Archive, size string) error {
	if isDir(filepath.Join(root, a.Folder)) {
		return nil
	}
	w := d.warn()
	fmt.Fprintf(w, "%s is not in %s: downloading it (%s)\n", a.Name, root, size)
	if err := data.Ensure(root, a, data.ProgressTo(w)); err != nil {
		return &DataError{Dataset: d.Dataset, Folder: filepath.Join(root, a.Folder), Problem: DataDownloadFailed, Err: err}
	}
	return nil
}

// loadCIFAR100 loads CIFAR-100, downloading it first when its folder is not
// in the data folder.
func loadCIFAR100(d Data, split data.Split) (*data.Dataset, error) {
	root, err := d.Dir()
	if err == nil {
		if err := ensure(d, root, data.CIFAR100Archive, "161 MB"); err != nil {
			return nil, err
		}
	}
	folder := filepath.Join(root, data.CIFAR100Folder)
	ds, err := data.LoadCIFAR100(d.DataDir, split)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &DataError{Dataset: CIFAR100, Folder: folder, Problem: DataMissing, Err: err}
	case err != nil:
		return nil, &DataError{Dataset: CIFAR100, Folder: folder, Problem: DataDamaged,
			Err: fmt.Errorf("%w\n(the file is damaged or not CIFAR-100's binary version: delete the %s folder and download it again)",
				err, data.CIFAR100Folder)}
	}
	return ds, nil
}

// loadCIFAR10 loads CIFAR-10 from the binary batches present: for Train the
// first `batches` of data_batch_1..5 that exist (0: all that exist), for
// Test test_batch.bin. It reads the files with LoadCIFAR10Files so that a
// partial download (like a data folder with data_batch_1.bin and
// test_batch.bin only) works, and says what it used.
func loadCIFAR10(d Data, split data.Split, batches int) (*data.Dataset, []string, error) {
	root, err := d.Dir()
	if err != nil {
		return nil, nil, err
	}
	if err := ensure(d, root, data.CIFAR10Archive, "163 MB"); err != nil {
		return nil, nil, err
	}
	folder := filepath.Join(root, data.CIFAR10Folder)
	missing := func(file string) error {
		return &DataError{Dataset: CIFAR10, Folder: folder, Problem: DataMissing,
			Err: fmt.Errorf("CIFAR-10 not found: %s does not exist", filepath.Join(folder, file))}
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
	full := 0 // the number of official files of the split
	if split != data.Test {
		full += len(data.CIFAR10TrainFiles)
	}
	if split != data.Train {
		full++
	}
	if len(paths) == full {
		// Every official file of the split: say "cifar10/all" rather than
		// the six file names.
		ds.Name = "cifar10/" + split.String()
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

// SuperclassAccuracy is the kNN accuracy (k neighbours) of the points of
// test against those of train, labelled by the second level of labels of
// their images (CIFAR-100's 20 superclasses: data.Dataset.CoarseLabels);
// nil when the images have none. The embeddings are not changed.
func SuperclassAccuracy(train, test *embedding.Embedding, trainImages, testImages *data.Dataset, k int) (*float64, error) {
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

// DefaultHoldout is the number of n images held out for the kNN evaluation
// by default: the paper's 10 000 of 60 000, scaled down for smaller
// collections.
func DefaultHoldout(n int) int { return min(10000, n/6) }

// HoldoutSize returns the number of the n images (or points: what names
// them in errors) to hold out for kNN: given, or DefaultHoldout(n) when
// given is 0. It returns a *HoldoutError when that leaves no query or no
// reference.
func HoldoutSize(given, n int, what string) (int, error) {
	if given == 0 {
		h := DefaultHoldout(n)
		if h < 1 {
			return 0, &HoldoutError{N: n, What: what}
		}
		return h, nil
	}
	if given < 1 || given >= n {
		return 0, &HoldoutError{Given: given, N: n, What: what}
	}
	return given, nil
}

// Load loads the images of d: the training images, and the kNN reference
// and query sets of its evaluation mode. Images.Notes say what was chosen.
func (d Data) Load() (*Images, error) {
	mode := d.Eval
	if mode == "" {
		mode = EvalTest
		if !HasTestSplit(d.Dataset) {
			mode = EvalHoldout
		}
	}
	switch mode {
	case EvalTest:
		return loadTestMode(d)
	case EvalHoldout:
		return loadHoldoutMode(d)
	}
	return nil, fmt.Errorf("unknown evaluation mode %q: want test or holdout", mode)
}

// loadTestMode loads the training and test splits (EvalTest), or the
// training images alone (EvalNone) when they have no labels.
func loadTestMode(d Data) (*Images, error) {
	if !HasTestSplit(d.Dataset) {
		p, _ := strings.CutPrefix(d.Dataset, FolderPrefix)
		return nil, fmt.Errorf("%w: image folder %s has no train/ and test/ sub-folders", ErrNoTestSplit, p)
	}
	im := &Images{Mode: EvalTest}
	train, notes, err := loadSplit(d, data.Train, d.CIFARBatches)
	if err != nil {
		return nil, err
	}
	im.Notes = append(im.Notes, notes...)
	test, _, err := loadSplit(d, data.Test, 0)
	if err != nil {
		return nil, err
	}
	if train, err = subset(train, d.TrainLimit, d.Seed); err != nil {
		return nil, err
	}
	if test, err = subset(test, d.TestLimit, d.Seed+1); err != nil {
		return nil, err
	}
	im.Fit, im.Train, im.Test = train, train, test
	if train.Labels == nil || test.Labels == nil {
		im.Mode, im.Test = EvalNone, nil
	}
	return im, nil
}

// loadHoldoutMode loads all the images and holds a stratified part out for
// the kNN evaluation (EvalHoldout), or none (EvalNone) when they have no
// labels.
func loadHoldoutMode(d Data) (*Images, error) {
	im := &Images{Mode: EvalHoldout}
	all, notes, err := loadSplit(d, data.All, d.CIFARBatches)
	if err != nil {
		return nil, err
	}
	im.Notes = append(im.Notes, notes...)
	if all, err = subset(all, d.TrainLimit, d.Seed); err != nil {
		return nil, err
	}
	im.Fit = all
	if all.Labels == nil {
		im.Mode, im.Train = EvalNone, all
		im.Notes = append(im.Notes, fmt.Sprintf("%s has no labels (no class sub-folders): no kNN evaluation", all.Name))
		return im, nil
	}
	n, err := HoldoutSize(d.Holdout, all.N, "images")
	if err != nil {
		return nil, err
	}
	if im.TrainIdx, im.TestIdx, err = knn.HoldOutSplit(all.Labels, n, d.Seed); err != nil {
		return nil, err
	}
	if err := im.splitHoldout(all, d.CacheDir); err != nil {
		return nil, err
	}
	im.Train.Name = all.Name + " (kNN reference part)"
	im.Test.Name = all.Name + " (held out)"
	im.Notes = append(im.Notes, fmt.Sprintf("kNN evaluation: %d of the %d images held out (stratified, seed %d); training uses all %d",
		n, all.N, d.Seed, all.N))
	return im, nil
}
