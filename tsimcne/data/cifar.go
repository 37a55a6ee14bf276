package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// CIFAR binary-version layout (https://www.cs.toronto.edu/~kriz/cifar.html):
// each record is the label byte(s) followed by 3072 pixel bytes, 1024 red,
// then 1024 green, then 1024 blue, each plane row-major 32x32.
const (
	// CIFARSide is the height and width of CIFAR images.
	CIFARSide = 32
	// CIFARPixelBytes is the number of pixel bytes of one CIFAR record.
	CIFARPixelBytes = 3 * CIFARSide * CIFARSide
	// CIFAR10RecordSize is the size of one CIFAR-10 record: 1 label byte and
	// the pixels.
	CIFAR10RecordSize = 1 + CIFARPixelBytes
	// CIFAR100RecordSize is the size of one CIFAR-100 record: a coarse and a
	// fine label byte and the pixels.
	CIFAR100RecordSize = 2 + CIFARPixelBytes

	// CIFAR10Folder is the folder of the unpacked CIFAR-10 binary archive,
	// below the data folder.
	CIFAR10Folder = "cifar-10-batches-bin"
	// CIFAR100Folder is the folder of the unpacked CIFAR-100 binary archive,
	// below the data folder.
	CIFAR100Folder = "cifar-100-binary"
)

// Files of the CIFAR binary archives and their official record counts.
var (
	// CIFAR10TrainFiles are the five CIFAR-10 training batches, 10 000
	// records each.
	CIFAR10TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
)

const (
	// CIFAR10TestFile is the CIFAR-10 test batch, 10 000 records.
	CIFAR10TestFile = "test_batch.bin"
	// CIFAR10MetaFile holds the 10 CIFAR-10 class names, one per line.
	CIFAR10MetaFile = "batches.meta.txt"
	// CIFAR100TrainFile holds the 50 000 CIFAR-100 training records.
	CIFAR100TrainFile = "train.bin"
	// CIFAR100TestFile holds the 10 000 CIFAR-100 test records.
	CIFAR100TestFile = "test.bin"
	// CIFAR100FineNamesFile holds the 100 fine class names.
	CIFAR100FineNamesFile = "fine_label_names.txt"
	// CIFAR100CoarseNamesFile holds the 20 coarse class names.
	CIFAR100CoarseNamesFile = "coarse_label_names.txt"

	// maxCIFARFileBytes bounds the size of one file given to the
	// LoadCIFAR*Files functions (the official files are at most 154 MB), so
	// that a wrong path fails with an error instead of exhausting memory.
	maxCIFARFileBytes = 4 << 30
)

// CIFAR10FileImages is the number of images of each official CIFAR-10 file
// (data_batch_1..5.bin, test_batch.bin).
const CIFAR10FileImages = 10000

// Official record counts, checked by LoadCIFAR10 and LoadCIFAR100 (variables
// so that tests can use small files).
var (
	cifar10BatchRecords = CIFAR10FileImages
	cifar100TrainCount  = 50000
	cifar100TestCount   = 10000
)

// cifarFormat describes one of the two CIFAR record formats.
type cifarFormat struct {
	name       string // "CIFAR-10" or "CIFAR-100"
	labelBytes int    // 1 or 2
	numFine    int    // 10 or 100
	numCoarse  int    // 0 or 20
}

var (
	cifar10Format  = cifarFormat{name: "CIFAR-10", labelBytes: 1, numFine: 10}
	cifar100Format = cifarFormat{name: "CIFAR-100", labelBytes: 2, numFine: 100, numCoarse: 20}
)

func (f cifarFormat) recordSize() int { return f.labelBytes + CIFARPixelBytes }

// checkCIFARSize returns an error unless size is a whole number of records.
func (f cifarFormat) checkSize(file string, size int64) error {
	rs := int64(f.recordSize())
	if size == 0 {
		return fmt.Errorf("%s file %s is empty", f.name, file)
	}
	if size%rs != 0 {
		return fmt.Errorf("%s file %s: %d bytes is not a whole number of %d-byte records (%d records and %d bytes over): truncated, or not the binary version of %s",
			f.name, file, size, rs, size/rs, size%rs, f.name)
	}
	return nil
}

// decodeCIFAR checks the labels of the records in buf and writes their pixels
// (NHWC) to images and their labels to fine and coarse (coarse is used only
// for CIFAR-100). buf must be a whole number of records; images, fine and
// coarse must have room for them.
func decodeCIFAR(f cifarFormat, file string, buf []byte, images []uint8, fine, coarse []int) error {
	if err := f.checkSize(file, int64(len(buf))); err != nil {
		return err
	}
	rs := f.recordSize()
	n := len(buf) / rs
	// Labels first: a bad file is rejected before any work on pixels.
	for i := range n {
		rec := buf[i*rs:]
		if f.labelBytes == 1 {
			l := int(rec[0])
			if l >= f.numFine {
				return fmt.Errorf("%s file %s: record %d (byte offset %d): label %d out of range [0,%d)",
					f.name, file, i, i*rs, l, f.numFine)
			}
			fine[i] = l
			continue
		}
		c, l := int(rec[0]), int(rec[1])
		if c >= f.numCoarse {
			return fmt.Errorf("%s file %s: record %d (byte offset %d): coarse label %d out of range [0,%d)",
				f.name, file, i, i*rs, c, f.numCoarse)
		}
		if l >= f.numFine {
			return fmt.Errorf("%s file %s: record %d (byte offset %d): fine label %d out of range [0,%d)",
				f.name, file, i, i*rs+1, l, f.numFine)
		}
		coarse[i], fine[i] = c, l
	}
	// Planar RGB -> interleaved RGB. Split over the cores: this loop is all
	// the CPU work of loading CIFAR.
	parallelChunks(n, 512, func(lo, hi int) {
		const plane = CIFARSide * CIFARSide
		for i := lo; i < hi; i++ {
			src := buf[i*rs+f.labelBytes : (i+1)*rs]
			r, g, b := src[:plane:plane], src[plane:2*plane:2*plane], src[2*plane:3*plane:3*plane]
			dst := images[i*CIFARPixelBytes : (i+1)*CIFARPixelBytes : (i+1)*CIFARPixelBytes]
			for p := range plane {
				d := dst[3*p : 3*p+3 : 3*p+3]
				d[0], d[1], d[2] = r[p], g[p], b[p]
			}
		}
	})
	return nil
}

// parallelChunks calls fn on [lo,hi) chunks of [0,n) of at least minChunk
// items, on up to GOMAXPROCS goroutines, and waits for them.
func parallelChunks(n, minChunk int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+minChunk-1)/minChunk)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// parseCIFAR decodes a whole CIFAR file held in memory.
func parseCIFAR(f cifarFormat, data []byte, name string) (*Dataset, error) {
	if err := f.checkSize(name, int64(len(data))); err != nil {
		return nil, err
	}
	n := len(data) / f.recordSize()
	ds := &Dataset{
		Name: name, N: n, Height: CIFARSide, Width: CIFARSide, Channels: 3,
		Images: make([]uint8, n*CIFARPixelBytes),
		Labels: make([]int, n),
	}
	if f.numCoarse > 0 {
		ds.CoarseLabels = make([]int, n)
		ds.ClassNames, ds.CoarseClassNames = CIFAR100Classes, CIFAR100CoarseClasses
	} else {
		ds.ClassNames = CIFAR10Classes
	}
	if err := decodeCIFAR(f, name, data, ds.Images, ds.Labels, ds.CoarseLabels); err != nil {
		return nil, err
	}
	return ds, nil
}

// ParseCIFAR10 decodes CIFAR-10 binary records (the content of e.g.
// data_batch_1.bin) into a Dataset with the built-in class names. name is
// used as the Dataset name and in error messages. data must be a whole
// number of CIFAR10RecordSize-byte records with labels below 10.
func ParseCIFAR10(data []byte, name string) (*Dataset, error) {
	return parseCIFAR(cifar10Format, data, name)
}

// ParseCIFAR100 decodes CIFAR-100 binary records (the content of train.bin or
// test.bin) into a Dataset: Labels are the fine labels (< 100), CoarseLabels
// the superclasses (< 20), with the built-in class names.
func ParseCIFAR100(data []byte, name string) (*Dataset, error) {
	return parseCIFAR(cifar100Format, data, name)
}

// cifarFile is one file to load and the number of records expected in it
// (0: any whole number).
type cifarFile struct {
	path string
	want int
}

// loadCIFARFiles reads and decodes the files into one Dataset; the pixels
// are written straight into the final buffer.
func loadCIFARFiles(f cifarFormat, name string, files []cifarFile) (*Dataset, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("data: no %s files given", f.name)
	}
	rs := int64(f.recordSize())
	counts := make([]int, len(files))
	total, maxSize := 0, int64(0)
	for i, cf := range files {
		fi, err := os.Stat(cf.path)
		if err != nil {
			return nil, fmt.Errorf("data: %s file: %w", f.name, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("data: %s file %s is not a regular file", f.name, cf.path)
		}
		size := fi.Size()
		if size > maxCIFARFileBytes {
			return nil, fmt.Errorf("data: %s file %s: %d bytes is more than the %d allowed; not a %s batch", f.name, cf.path, size, int64(maxCIFARFileBytes), f.name)
		}
		if cf.want > 0 && size != int64(cf.want)*rs {
			what := "truncated"
			if size > int64(cf.want)*rs {
				what = "too large"
			}
			return nil, fmt.Errorf("data: %s file %s: %d bytes, want %d (%d records of %d bytes): %s; download it again",
				f.name, cf.path, size, int64(cf.want)*rs, cf.want, rs, what)
		}
		if err := f.checkSize(cf.path, size); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		counts[i] = int(size / rs)
		total += counts[i]
		maxSize = max(maxSize, size)
	}
	ds := &Dataset{
		Name: name, N: total, Height: CIFARSide, Width: CIFARSide, Channels: 3,
		Images: make([]uint8, total*CIFARPixelBytes),
		Labels: make([]int, total),
	}
	if f.numCoarse > 0 {
		ds.CoarseLabels = make([]int, total)
	}
	buf := make([]byte, maxSize)
	start := 0
	for i, cf := range files {
		n := counts[i]
		b := buf[:int64(n)*rs]
		if err := readExactly(cf.path, b); err != nil {
			return nil, fmt.Errorf("data: %s file %s: %w", f.name, cf.path, err)
		}
		var coarse []int
		if ds.CoarseLabels != nil {
			coarse = ds.CoarseLabels[start : start+n]
		}
		if err := decodeCIFAR(f, cf.path, b, ds.Images[start*CIFARPixelBytes:(start+n)*CIFARPixelBytes],
			ds.Labels[start:start+n], coarse); err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		start += n
	}
	return ds, nil
}

// readExactly fills b with the content of the file at path, which must be
// exactly len(b) bytes long.
func readExactly(path string, b []byte) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if n, err := io.ReadFull(fh, b); err != nil {
		return fmt.Errorf("read %d of %d bytes: %w", n, len(b), err)
	}
	var one [1]byte
	if n, _ := fh.Read(one[:]); n != 0 {
		return fmt.Errorf("file grew beyond %d bytes while being read", len(b))
	}
	return nil
}

// readNames reads a class names file: one name per line, blank lines
// ignored. A missing file gives (nil, nil); a file with another number of
// names than want is an error.
func readNames(path string, want int) ([]string, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data: class names: %w", err)
	}
	defer fh.Close()
	var names []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			names = append(names, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: class names file %s: %w", path, err)
	}
	if len(names) != want {
		return nil, fmt.Errorf("data: class names file %s has %d names, want %d", path, len(names), want)
	}
	return names, nil
}

// namesOr returns the names in the file at path, or builtin when the file
// does not exist.
func namesOr(path string, builtin []string) ([]string, error) {
	names, err := readNames(path, len(builtin))
	if err != nil || names != nil {
		return names, err
	}
	return builtin, nil
}

// CIFAROption configures LoadCIFAR10.
type CIFAROption func(*cifarConfig)

type cifarConfig struct {
	availableBatches bool
}

// AvailableBatches makes LoadCIFAR10 load the training batches that are
// present instead of failing when some of data_batch_1.bin ...
// data_batch_5.bin are missing. At least one training batch must be present
// for Train and All, and test_batch.bin for Test and All. The Dataset name
// then says how many batches were used, e.g. "cifar10/train (1 of 5 batches)".
func AvailableBatches() CIFAROption {
	return func(c *cifarConfig) { c.availableBatches = true }
}

func missingCIFARFile(f cifarFormat, path, dir string, partialHint bool) error {
	folder, archive, files, ensure := CIFAR10Folder, CIFAR10Archive, "data_batch_1.bin ... data_batch_5.bin and test_batch.bin", "EnsureCIFAR10"
	if f.numCoarse > 0 {
		folder, archive, files, ensure = CIFAR100Folder, CIFAR100Archive, "train.bin and test.bin", "EnsureCIFAR100"
	}
	msg := fmt.Sprintf("data: %s file %s not found. Call data.%s(%q) to download the binary version, or download %s by hand and unpack it in %s so that %s holds %s",
		f.name, path, ensure, dir, archive.URL, dir, filepath.Join(dir, folder), files)
	if partialHint {
		msg += "; to use only the training batches present, pass data.AvailableBatches() or call data.LoadCIFAR10Files"
	}
	return notFoundError(msg)
}

// notFoundError is an error message about a missing file; errors.Is(err,
// fs.ErrNotExist) holds for it, so that callers can tell a missing data set
// (download it) from a damaged one.
type notFoundError string

func (e notFoundError) Error() string        { return string(e) }
func (e notFoundError) Is(target error) bool { return target == fs.ErrNotExist }

// LoadCIFAR10 loads the binary version of CIFAR-10 from
// <dir>/cifar-10-batches-bin/ (dir "" means DataDir()): data_batch_1.bin ...
// data_batch_5.bin for Train, test_batch.bin for Test, all six for All, in
// that order. Each file must hold exactly 10 000 records. Class names come
// from batches.meta.txt when present, else CIFAR10Classes.
//
// A missing file is an error that says where to put it; with
// AvailableBatches() the training batches present are used instead.
// EnsureCIFAR10 downloads the files.
func LoadCIFAR10(dir string, split Split, opts ...CIFAROption) (*Dataset, error) {
	var cfg cifarConfig
	for _, o := range opts {
		o(&cfg)
	}
	if err := split.check(); err != nil {
		return nil, err
	}
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, err
	}
	folder := filepath.Join(dir, CIFAR10Folder)
	var files []cifarFile
	name := "cifar10/" + split.String()
	if split.hasTrain() {
		found := 0
		for _, b := range CIFAR10TrainFiles {
			p := filepath.Join(folder, b)
			if _, err := os.Stat(p); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					if cfg.availableBatches {
						continue
					}
					return nil, missingCIFARFile(cifar10Format, p, dir, true)
				}
				return nil, fmt.Errorf("data: CIFAR-10: %w", err)
			}
			files = append(files, cifarFile{path: p, want: cifar10BatchRecords})
			found++
		}
		if found == 0 {
			return nil, missingCIFARFile(cifar10Format, filepath.Join(folder, CIFAR10TrainFiles[0]), dir, false)
		}
		if found < len(CIFAR10TrainFiles) {
			name += fmt.Sprintf(" (%d of %d batches)", found, len(CIFAR10TrainFiles))
		}
	}
	if split.hasTest() {
		p := filepath.Join(folder, CIFAR10TestFile)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil, missingCIFARFile(cifar10Format, p, dir, false)
		}
		files = append(files, cifarFile{path: p, want: cifar10BatchRecords})
	}
	ds, err := loadCIFARFiles(cifar10Format, name, files)
	if err != nil {
		return nil, err
	}
	if ds.ClassNames, err = namesOr(filepath.Join(folder, CIFAR10MetaFile), CIFAR10Classes); err != nil {
		return nil, err
	}
	return ds, nil
}

// LoadCIFAR10Files loads the given CIFAR-10 binary files, in order, into one
// Dataset, e.g. the batches present when not all have been downloaded:
//
//	ds, err := data.LoadCIFAR10Files(filepath.Join(dir, "data_batch_1.bin"), filepath.Join(dir, "test_batch.bin"))
//
// Each file may hold any whole number of records. Class names come from
// batches.meta.txt next to the first file when present, else CIFAR10Classes.
func LoadCIFAR10Files(paths ...string) (*Dataset, error) {
	return loadCIFARPaths(cifar10Format, "cifar10", paths)
}

// LoadCIFAR100Files loads the given CIFAR-100 binary files (train.bin,
// test.bin or files in the same format), in order, into one Dataset. Class
// names come from fine_label_names.txt and coarse_label_names.txt next to
// the first file when present, else the built-in lists.
func LoadCIFAR100Files(paths ...string) (*Dataset, error) {
	return loadCIFARPaths(cifar100Format, "cifar100", paths)
}

func loadCIFARPaths(f cifarFormat, prefix string, paths []string) (*Dataset, error) {
	files := make([]cifarFile, len(paths))
	bases := make([]string, len(paths))
	for i, p := range paths {
		files[i] = cifarFile{path: p}
		bases[i] = strings.TrimSuffix(filepath.Base(p), ".bin")
	}
	ds, err := loadCIFARFiles(f, prefix+"/"+strings.Join(bases, "+"), files)
	if err != nil {
		return nil, err
	}
	if err := setCIFARNames(f, ds, filepath.Dir(paths[0])); err != nil {
		return nil, err
	}
	return ds, nil
}

func setCIFARNames(f cifarFormat, ds *Dataset, folder string) error {
	var err error
	if f.numCoarse == 0 {
		ds.ClassNames, err = namesOr(filepath.Join(folder, CIFAR10MetaFile), CIFAR10Classes)
		return err
	}
	if ds.ClassNames, err = namesOr(filepath.Join(folder, CIFAR100FineNamesFile), CIFAR100Classes); err != nil {
		return err
	}
	ds.CoarseClassNames, err = namesOr(filepath.Join(folder, CIFAR100CoarseNamesFile), CIFAR100CoarseClasses)
	return err
}

// LoadCIFAR100 loads the binary version of CIFAR-100 from
// <dir>/cifar-100-binary/ (dir "" means DataDir()): train.bin (50 000
// records) for Train, test.bin (10 000) for Test, both for All. Labels are
// the 100 fine classes, CoarseLabels the 20 superclasses; names come from
// fine_label_names.txt and coarse_label_names.txt when present, else
// CIFAR100Classes and CIFAR100CoarseClasses. EnsureCIFAR100 downloads the
// files.
func LoadCIFAR100(dir string, split Split) (*Dataset, error) {
	if err := split.check(); err != nil {
		return nil, err
	}
	dir, err := resolveDir(dir)
	if err != nil {
		return nil, err
	}
	folder := filepath.Join(dir, CIFAR100Folder)
	var files []cifarFile
	if split.hasTrain() {
		files = append(files, cifarFile{path: filepath.Join(folder, CIFAR100TrainFile), want: cifar100TrainCount})
	}
	if split.hasTest() {
		files = append(files, cifarFile{path: filepath.Join(folder, CIFAR100TestFile), want: cifar100TestCount})
	}
	for _, cf := range files {
		if _, err := os.Stat(cf.path); errors.Is(err, fs.ErrNotExist) {
			return nil, missingCIFARFile(cifar100Format, cf.path, dir, false)
		}
	}
	ds, err := loadCIFARFiles(cifar100Format, "cifar100/"+split.String(), files)
	if err != nil {
		return nil, err
	}
	if err := setCIFARNames(cifar100Format, ds, folder); err != nil {
		return nil, err
	}
	return ds, nil
}
