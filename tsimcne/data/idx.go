package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// IDX file format (http://yann.lecun.com/exdb/mnist/, the format of MNIST and
// Fashion-MNIST): a big-endian magic number 0x0000TTDD (TT the data type,
// DD the number of dimensions), DD big-endian uint32 sizes, then the values
// row-major. Only unsigned bytes (TT = 0x08) are supported.
const (
	// IDXImagesMagic is the magic number of an IDX file of N grey images:
	// unsigned bytes, 3 dimensions (N, height, width).
	IDXImagesMagic = 0x00000803
	// IDXLabelsMagic is the magic number of an IDX file of N labels:
	// unsigned bytes, 1 dimension.
	IDXLabelsMagic = 0x00000801

	idxTypeUint8 = 0x08
	idxMaxDims   = 4
	// maxIDXBytes bounds the data size a header may announce (MNIST train
	// images are 47 MB), so that a corrupt header fails with an error.
	maxIDXBytes = 4 << 30
)

// IDX is the content of an IDX file of unsigned bytes.
type IDX struct {
	// Magic is the magic number, e.g. IDXImagesMagic.
	Magic uint32
	// Dims are the sizes of the dimensions, e.g. [60000 28 28].
	Dims []int
	// Data holds the values, row-major: len(Data) is the product of Dims.
	Data []uint8
}

// ParseIDX decodes an IDX file held in memory, gzipped or not (gzip is
// detected by its magic bytes). name is used in error messages.
func ParseIDX(data []byte, name string) (*IDX, error) {
	return readIDX(bytes.NewReader(data), name, int64(len(data)))
}

// ReadIDX decodes an IDX file, gzipped or not (gzip is detected by its
// magic bytes), reading r to its end: data beyond what the header announces
// is an error, as is missing data. name is used in error messages.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, -1)
}

// maxDeflateRatio bounds how much deflate can expand data (about 1032:1).
const maxDeflateRatio = 1032

// readIDX is ReadIDX for an input of inputSize bytes (-1: unknown), which
// bounds the plausible data size so that the data can be read into one
// buffer allocated up front.
func readIDX(r io.Reader, name string, inputSize int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	src := io.Reader(br)
	what := "IDX file"
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzipped IDX file %s: %w", name, err)
		}
		defer gz.Close()
		gz.Multistream(false)
		src = gz
		what = "gzipped IDX file"
	}
	var magic [4]byte
	if n, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, fmt.Errorf("%s %s: header: read %d of 4 magic bytes: %w", what, name, n, err)
	}
	m := binary.BigEndian.Uint32(magic[:])
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%s %s: magic number 0x%08x is not an IDX magic (0x0000TTDD)", what, name, m)
	}
	if magic[2] != idxTypeUint8 {
		return nil, fmt.Errorf("%s %s: magic number 0x%08x: data type 0x%02x not supported, only unsigned bytes (0x08)", what, name, m, magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > idxMaxDims {
		return nil, fmt.Errorf("%s %s: magic number 0x%08x: %d dimensions, want 1 to %d", what, name, m, nd, idxMaxDims)
	}
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(src, dimBytes); err != nil {
		return nil, fmt.Errorf("%s %s: header: read %d of %d dimension bytes: %w", what, name, n, 4*nd, err)
	}
	idx := &IDX{Magic: m, Dims: make([]int, nd)}
	size := int64(1)
	for i := range idx.Dims {
		d := int64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		idx.Dims[i] = int(d)
		if d != 0 && size > maxIDXBytes/d {
			return nil, fmt.Errorf("%s %s: dimensions %v announce more than %d bytes: corrupt header", what, name, idx.Dims[:i+1], int64(maxIDXBytes))
		}
		size *= d
	}
	// Allocate for the data only as much as the input can hold: a corrupt
	// header in a small file must not allocate gigabytes.
	plausible := int64(1 << 20)
	if inputSize >= 0 {
		plausible = max(plausible, inputSize)
		if src != io.Reader(br) {
			plausible = max(plausible, maxDeflateRatio*inputSize)
		}
	}
	var data []byte
	if size <= plausible {
		data = make([]byte, size)
		if n, err := io.ReadFull(src, data); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s %s: truncated: dimensions %v need %d data bytes, found %d", what, name, idx.Dims, size, n)
			}
			return nil, fmt.Errorf("%s %s: reading data at byte offset %d: %w", what, name, 4+4*nd+n, err)
		}
	} else {
		var buf bytes.Buffer
		buf.Grow(int(plausible))
		if _, err := buf.ReadFrom(io.LimitReader(src, size)); err != nil {
			return nil, fmt.Errorf("%s %s: reading data at byte offset %d: %w", what, name, 4+4*nd+buf.Len(), err)
		}
		if int64(buf.Len()) < size {
			return nil, fmt.Errorf("%s %s: truncated: dimensions %v need %d data bytes, found %d", what, name, idx.Dims, size, buf.Len())
		}
		data = buf.Bytes()
	}
	var one [1]byte
	n, err := io.ReadFull(src, one[:])
	if n > 0 {
		return nil, fmt.Errorf("%s %s: more data than dimensions %v announce (%d bytes): wrong header or extra bytes after byte offset %d",
			what, name, idx.Dims, size, 4+4*int64(nd)+size)
	}
	if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s %s: %w", what, name, err)
	}
	idx.Data = data
	return idx, nil
}

// readIDXFile reads the IDX file at path.
func readIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return readIDX(f, path, size)
}

// LoadIDX loads a pair of IDX files, images (magic IDXImagesMagic, N grey
// images) and labels (IDXLabelsMagic, N labels below len(classNames)), gzipped
// or not. Grey is replicated to 3 channels, so the Dataset is RGB like all
// the others. The Dataset name is the images file name; set it as needed.
func LoadIDX(imagesPath, labelsPath string, classNames []string) (*Dataset, error) {
	im, err := readIDXFile(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if im.Magic != IDXImagesMagic {
		return nil, fmt.Errorf("data: IDX file %s is not an images file: it holds %s, want 3 (images, height, width; magic 0x%08x)",
			imagesPath, describeIDX(im), IDXImagesMagic)
	}
	lb, err := readIDXFile(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if lb.Magic != IDXLabelsMagic {
		return nil, fmt.Errorf("data: IDX file %s is not a labels file: it holds %s, want 1 (one label per image; magic 0x%08x)",
			labelsPath, describeIDX(lb), IDXLabelsMagic)
	}
	return idxDataset(im, lb, imagesPath, labelsPath, classNames)
}

// describeIDX says what an IDX file holds, for error messages: "3
// dimensions [60000 28 28] (magic 0x00000803)".
func describeIDX(x *IDX) string {
	return fmt.Sprintf("%d dimensions %v (magic 0x%08x)", len(x.Dims), x.Dims, x.Magic)
}

// idxDataset combines decoded image and label IDX contents.
func idxDataset(im, lb *IDX, imagesName, labelsName string, classNames []string) (*Dataset, error) {
	n, h, w := im.Dims[0], im.Dims[1], im.Dims[2]
	if n == 0 || h == 0 || w == 0 {
		return nil, fmt.Errorf("data: IDX file %s holds no images (dimensions %v)", imagesName, im.Dims)
	}
	if lb.Dims[0] != n {
		return nil, fmt.Errorf("data: IDX files disagree: %s has %d images, %s has %d labels", imagesName, n, labelsName, lb.Dims[0])
	}
	const headerBytes = 8 // magic and one dimension
	labels := make([]int, n)
	for i, l := range lb.Data {
		if int(l) >= len(classNames) {
			return nil, fmt.Errorf("data: IDX file %s: label %d of record %d (byte offset %d) out of range [0,%d)",
				labelsName, l, i, headerBytes+i, len(classNames))
		}
		labels[i] = int(l)
	}
	ds := &Dataset{
		Name: filepath.Base(imagesName), N: n, Height: h, Width: w, Channels: 3,
		Images: greyToRGB(im.Data), Labels: labels, ClassNames: classNames,
	}
	return ds, nil
}

// greyToRGB replicates each grey byte to 3 channels.
func greyToRGB(grey []uint8) []uint8 {
	rgb := make([]uint8, 3*len(grey))
	parallelChunks(len(grey), 1<<16, func(lo, hi int) {
		dst := rgb[3*lo : 3*hi]
		for i, v := range grey[lo:hi] {
			dst[3*i], dst[3*i+1], dst[3*i+2] = v, v, v
		}
	})
	return rgb
}

const (
	// FashionMNISTFolder is the folder of Fashion-MNIST below a data folder.
	FashionMNISTFolder = "fashion-mnist"
	// MNISTFolder is the folder of MNIST below a data folder.
	MNISTFolder = "mnist"
	// DebianDatasetsDir is where Debian's dataset-* packages put data sets:
	// `apt-get install dataset-fashion-mnist` fills
	// /usr/share/datasets/fashion-mnist.
	DebianDatasetsDir = "/usr/share/datasets"
)

// idxFileNames are the accepted names of the four IDX files of (Fashion-)
// MNIST for a split, without a .gz suffix (which is also accepted): the
// official ones and the variant with a dot found in some copies.
func idxFileNames(split Split, labels bool) []string {
	prefix, kind, dims := "train", "images", "idx3"
	if split == Test {
		prefix = "t10k"
	}
	if labels {
		kind, dims = "labels", "idx1"
	}
	return []string{prefix + "-" + kind + "-" + dims + "-ubyte", prefix + "-" + kind + "." + dims + "-ubyte"}
}

// findIDXFile returns the path of the first of names (or names + ".gz")
// present in folder, or "".
func findIDXFile(folder string, names []string) string {
	for _, n := range names {
		for _, cand := range []string{n + ".gz", n} {
			p := filepath.Join(folder, cand)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// loadMNISTLike loads the IDX files of a (Fashion-)MNIST split from the
// first of the folders that holds them all.
func loadMNISTLike(setName, prefix string, folders []string, split Split, classNames []string, howToGet string) (*Dataset, error) {
	if err := split.check(); err != nil {
		return nil, err
	}
	var splits []Split
	if split.hasTrain() {
		splits = append(splits, Train)
	}
	if split.hasTest() {
		splits = append(splits, Test)
	}
	for _, folder := range folders {
		var paths [][2]string
		for _, s := range splits {
			im, lb := findIDXFile(folder, idxFileNames(s, false)), findIDXFile(folder, idxFileNames(s, true))
			if im == "" || lb == "" {
				paths = nil
				break
			}
			paths = append(paths, [2]string{im, lb})
		}
		if paths == nil {
			continue
		}
		var parts []*Dataset
		for _, p := range paths {
			ds, err := LoadIDX(p[0], p[1], classNames)
			if err != nil {
				return nil, err
			}
			parts = append(parts, ds)
		}
		ds := parts[0]
		if len(parts) > 1 {
			var err error
			if ds, err = Concat(parts...); err != nil {
				return nil, fmt.Errorf("data: %s: %w", setName, err)
			}
		}
		ds.Name = prefix + "/" + split.String()
		return ds, nil
	}
	var want []string
	for _, s := range splits {
		want = append(want, idxFileNames(s, false)[0]+"[.gz]", idxFileNames(s, true)[0]+"[.gz]")
	}
	return nil, fmt.Errorf("data: %s %s files not found: looked for %s in %s. %s",
		setName, split, strings.Join(want, ", "), strings.Join(folders, ", "), howToGet)
}

// mnistFolders returns the folders searched for a data set kept in folder
// below a data folder: <dir>/<folder> and <dir> itself, or, when dir is "",
// <DataDir()>/<folder> and the extra folders.
func mnistFolders(dir, folder string, extra ...string) ([]string, error) {
	if dir != "" {
		return []string{filepath.Join(dir, folder), dir}, nil
	}
	var out []string
	if d, err := DataDir(); err == nil {
		out = append(out, filepath.Join(d, folder))
	} else if len(extra) == 0 {
		return nil, err
	}
	return append(out, extra...), nil
}

// LoadFashionMNIST loads Fashion-MNIST (Xiao et al. 2017: 60 000 train and
// 10 000 test 28x28 grey images of 10 clothing classes, FashionMNISTClasses)
// from its four IDX files, gzipped or not, as 3-channel images.
//
// The files are looked for in <dir>/fashion-mnist/ and then <dir>; when dir
// is "", in <DataDir()>/fashion-mnist/ and then
// /usr/share/datasets/fashion-mnist/, where Debian's package
// dataset-fashion-mnist puts them
// (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).
func LoadFashionMNIST(dir string, split Split) (*Dataset, error) {
	folders, err := mnistFolders(dir, FashionMNISTFolder, filepath.Join(DebianDatasetsDir, FashionMNISTFolder))
	if err != nil {
		return nil, err
	}
	return loadMNISTLike("Fashion-MNIST", "fashion-mnist", folders, split, FashionMNISTClasses,
		"On Debian/Ubuntu run `apt-get install dataset-fashion-mnist`; otherwise get the files from https://github.com/zalandoresearch/fashion-mnist")
}

// LoadMNIST loads MNIST (60 000 train and 10 000 test 28x28 grey digits,
// MNISTClasses) from its four IDX files, gzipped or not, as 3-channel
// images. The files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) are looked for in
// <dir>/mnist/ and then <dir>; dir "" means DataDir().
func LoadMNIST(dir string, split Split) (*Dataset, error) {
	folders, err := mnistFolders(dir, MNISTFolder)
	if err != nil {
		return nil, err
	}
	return loadMNISTLike("MNIST", "mnist", folders, split, MNISTClasses,
		"Get the four files of MNIST (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/) and put them in "+folders[0])
}
