package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/image/draw"
)

// A prepared dataset is an image folder decoded and resized once into one
// file (PrepareImageFolder) that is later opened through a memory map
// (OpenPrepared), so that collections larger than memory can be trained on,
// embedded and evaluated with bounded memory: pixel pages come from the
// operating system's page cache and are dropped under memory pressure.
//
// File format (version 1; all integers little-endian):
//
//	offset 0     header, PreparedHeaderSize (4096) bytes, zero-padded:
//	             [0:8]   magic "GOSIMDS\x00"
//	             [8:12]  version, uint32 = 1
//	             [12:16] reserved, 0
//	             [16:24] N, uint64: number of images
//	             [24:28] height, [28:32] width, [32:36] channels, uint32
//	             [36:40] reserved, 0
//	             [40:48] index offset, uint64 = 4096 + N*height*width*channels
//	             [48:56] index length, uint64
//	             [56:60] CRC-32 (IEEE) of the index bytes
//	             [60:64] CRC-32 (IEEE) of header bytes [0:60]
//	offset 4096  N fixed-size records of height*width*channels uint8 pixels,
//	             NHWC (the layout of Dataset.Images); records start on a page
//	             boundary so that the mapping can be used as it is
//	index offset the index, JSON (preparedIndex): dataset name, source
//	             folder, class names, labels, source paths relative to the
//	             folder (slash-separated), the files skipped as bad with
//	             their errors, and the fingerprint of the source folder
//
// The file length must be exactly index offset + index length. The header
// and index are checksummed; pixel bytes are not (damage to them is not
// detected).
//
// The fingerprint is the SHA-256 of the options that affect the pixels (size,
// fit, background, interpolator, maximum pixels, skipping bad files), the
// class names and every listed image file's relative path, size and
// modification time. LoadImageFolderCached recomputes it from a fresh
// listing (stat only, no decoding) to decide whether a prepared file is
// still current.
const (
	// PreparedHeaderSize is the size of a prepared dataset file's header;
	// the pixel records start at this offset.
	PreparedHeaderSize = 4096
	// PreparedVersion is the version of the prepared dataset format written
	// by PrepareImageFolder.
	PreparedVersion = 1
	// PreparedExt is the file name extension of prepared datasets made by
	// LoadImageFolderCached.
	PreparedExt = ".gsd"
)

var preparedMagic = [8]byte{'G', 'O', 'S', 'I', 'M', 'D', 'S', 0}

// preparedIndex is the JSON index at the end of a prepared dataset file.
type preparedIndex struct {
	Name        string         `json:"name"`
	Dir         string         `json:"dir"`
	ClassNames  []string       `json:"class_names,omitempty"`
	Labels      []int          `json:"labels,omitempty"`
	Files       []string       `json:"files"`
	Skipped     []preparedSkip `json:"skipped,omitempty"`
	Total       int            `json:"total"`
	Fingerprint string         `json:"fingerprint"`
	Options     string         `json:"options"`
}

// preparedSkip is a file skipped as bad (SkipBadFiles) with its error.
type preparedSkip struct {
	File string `json:"file"`
	Err  string `json:"err"`
}

// Prepared is a Dataset read from a prepared dataset file (PrepareImageFolder,
// OpenPrepared, LoadImageFolderCached). Its Images slice is a read-only
// memory map of the file (on Unix; elsewhere the pixels are read into
// memory): the pages are read on demand, and the readers of this module
// (training, Transform) release them behind them (ReleasePages,
// PageReleaser), so that a file larger than memory is read with bounded
// resident memory. Writing to Images faults: to change pixels, copy them
// first (Subset or Head).
//
// The mapping lives until Close is called (or the process exits). After
// Close, Images is nil, and any Dataset sharing the mapping (p.Dataset, or a
// copy such as one from WithClassNames; Subset, Head and Concat copy the
// pixels and are safe) must no longer be used: reading its Images would
// fault. There is no finalizer, because the *Dataset may well outlive the
// *Prepared that holds it.
type Prepared struct {
	*Dataset
	// Path is the prepared dataset file.
	Path string
	// Fingerprint identifies the source folder and options the file was
	// prepared from (see the format description above).
	Fingerprint string
	// Skipped lists the source files that were skipped as bad
	// (SkipBadFiles) when the file was prepared, with their errors.
	Skipped []SkippedFile

	srcDir string // the source folder as stored in the index
	mu     sync.Mutex
}

// SkippedFile is an image file that could not be read when a prepared
// dataset was made, and why.
type SkippedFile struct {
	// File is the path of the image (the source folder joined with its
	// relative path).
	File string
	// Err is the error text.
	Err string
}

// Close releases the memory map (or the pixel buffer) and sets Images to
// nil. It is safe to call more than once.
func (p *Prepared) Close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Dataset == nil || p.pages == nil {
		return nil
	}
	err := p.pages.close()
	p.Images = nil
	if err != nil {
		return fmt.Errorf("data: closing prepared dataset %s: %w", p.Path, err)
	}
	return nil
}

// interpName names an interpolator stably across processes.
func interpName(k draw.Interpolator) string {
	switch k {
	case draw.NearestNeighbor:
		return "nearest-neighbor"
	case draw.ApproxBiLinear:
		return "approx-bilinear"
	case draw.BiLinear:
		return "bilinear"
	case draw.CatmullRom:
		return "catmull-rom"
	}
	if kk, ok := k.(*draw.Kernel); ok {
		// A custom kernel: its support and samples of its shape.
		var b strings.Builder
		fmt.Fprintf(&b, "kernel(support=%g", kk.Support)
		for i := 0; i <= 16; i++ {
			fmt.Fprintf(&b, ",%.9g", kk.At(kk.Support*float64(i)/16))
		}
		b.WriteString(")")
		return b.String()
	}
	return fmt.Sprintf("%T%+v", k, k)
}

// optionsKey describes the options that affect the pixels and the set of
// images of a prepared dataset.
func optionsKey(cfg *folderConfig) string {
	bg := cfg.background
	return fmt.Sprintf("size=%d fit=%v background=%02x%02x%02x interp=%s maxpixels=%d skipbad=%t",
		cfg.size, cfg.fit, bg.R, bg.G, bg.B, interpName(cfg.interp), cfg.maxPixels, cfg.skipBad)
}

// folderFingerprint stats every listed file and hashes the options, the
// class names and each file's relative path, size and modification time.
// It returns the fingerprint and the relative (slash-separated) paths.
func folderFingerprint(dir string, files []string, classes []string, options string) (string, []string, error) {
	rels := make([]string, len(files))
	sizes := make([]int64, len(files))
	mtimes := make([]int64, len(files))
	errs := make([]error, len(files))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(files)/64)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				rel, err := filepath.Rel(dir, files[i])
				if err != nil {
					errs[i] = err
					continue
				}
				rels[i] = filepath.ToSlash(rel)
				fi, err := os.Stat(files[i])
				if err != nil {
					errs[i] = err
					continue
				}
				sizes[i], mtimes[i] = fi.Size(), fi.ModTime().UnixNano()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return "", nil, fmt.Errorf("data: fingerprint of %s: %w", dir, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "gosimcne prepared v%d\n%s\n%d classes\n", PreparedVersion, options, len(classes))
	for _, c := range classes {
		fmt.Fprintf(h, "%q\n", c)
	}
	fmt.Fprintf(h, "%d files\n", len(files))
	for i := range files {
		fmt.Fprintf(h, "%q %d %d\n", rels[i], sizes[i], mtimes[i])
	}
	return hex.EncodeToString(h.Sum(nil)), rels, nil
}

// FolderFingerprint returns the fingerprint of an image folder under the
// given options, as stored in a prepared dataset: it lists the folder like
// LoadImageFolder and stats every image (no decoding).
func FolderFingerprint(dir string, opts ...FolderOption) (string, error) {
	cfg, err := newFolderConfig("FolderFingerprint", dir, opts)
	if err != nil {
		return "", err
	}
	files, _, classes, err := listImageFolder(dir)
	if err != nil {
		return "", err
	}
	fp, _, err := folderFingerprint(dir, files, classes, optionsKey(&cfg))
	return fp, err
}

// PrepareImageFolder reads an image folder like LoadImageFolder (same
// classes, labels, order and options) into a prepared dataset file at path
// and opens it with OpenPrepared. Images are decoded on all cores and each
// image's pixels are written straight into its fixed-size record in the
// file, so memory use does not grow with the number of images. The file is
// written under a temporary name in path's folder and renamed when complete,
// so an interrupted run never leaves a partial file at path; an existing file
// at path is replaced.
//
// The result equals LoadImageFolder's (pixels, labels, class names, files,
// name) byte for byte. Bad images fail with a *BadImagesError, or are
// skipped with SkipBadFiles (reported as LoadImageFolder does, and listed
// in Prepared.Skipped).
func PrepareImageFolder(dir, path string, opts ...FolderOption) (*Prepared, error) {
	cfg, err := newFolderConfig("PrepareImageFolder", dir, opts)
	if err != nil {
		return nil, err
	}
	files, labels, classes, err := listImageFolder(dir)
	if err != nil {
		return nil, err
	}
	options := optionsKey(&cfg)
	fp, rels, err := folderFingerprint(dir, files, classes, options)
	if err != nil {
		return nil, err
	}
	wrap := func(err error) error { return fmt.Errorf("data: PrepareImageFolder(%s): %w", dir, err) }
	err = writeFileAtomically(path, wrap, func(tmp *os.File) error {
		s := cfg.size
		rec := s * s * 3
		// Size the file up front (sparse), so the workers' writes do not extend it.
		if err := tmp.Truncate(PreparedHeaderSize + int64(len(files))*int64(rec)); err != nil {
			return wrap(err)
		}
		errs, err := decodeImages(files, &cfg, func(i int, rgb []byte) error {
			if _, err := tmp.WriteAt(rgb, PreparedHeaderSize+int64(i)*int64(rec)); err != nil {
				return fmt.Errorf("data: PrepareImageFolder(%s): writing %s: %w", dir, tmp.Name(), err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		kept, err := sortOutBadImages("PrepareImageFolder", dir, files, errs, &cfg)
		if err != nil {
			return err
		}
		// Drop the bad files, moving the later records down one at a time.
		idx := preparedIndex{Name: filepath.Base(filepath.Clean(dir)), Dir: dir, ClassNames: classes,
			Total: len(files), Fingerprint: fp, Options: options}
		for i, err := range errs {
			if err != nil {
				idx.Skipped = append(idx.Skipped, preparedSkip{File: rels[i], Err: err.Error()})
			}
		}
		buf := make([]byte, rec)
		for k, i := range kept {
			if k != i {
				if _, err := tmp.ReadAt(buf, PreparedHeaderSize+int64(i)*int64(rec)); err != nil {
					return fmt.Errorf("data: PrepareImageFolder(%s): reading back %s: %w", dir, tmp.Name(), err)
				}
				if _, err := tmp.WriteAt(buf, PreparedHeaderSize+int64(k)*int64(rec)); err != nil {
					return fmt.Errorf("data: PrepareImageFolder(%s): writing %s: %w", dir, tmp.Name(), err)
				}
			}
			idx.Files = append(idx.Files, rels[i])
			if labels != nil {
				idx.Labels = append(idx.Labels, labels[i])
			}
		}
		keep := len(kept)

		index, err := json.Marshal(&idx)
		if err != nil {
			return fmt.Errorf("data: PrepareImageFolder(%s): index: %w", dir, err)
		}
		indexOff := int64(PreparedHeaderSize) + int64(keep)*int64(rec)
		if _, err := tmp.WriteAt(index, indexOff); err != nil {
			return fmt.Errorf("data: PrepareImageFolder(%s): writing %s: %w", dir, tmp.Name(), err)
		}
		if err := tmp.Truncate(indexOff + int64(len(index))); err != nil {
			return wrap(err)
		}
		hdr := encodePreparedHeader(keep, s, s, 3, indexOff, index)
		if _, err := tmp.WriteAt(hdr, 0); err != nil {
			return fmt.Errorf("data: PrepareImageFolder(%s): writing %s: %w", dir, tmp.Name(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return OpenPrepared(path)
}

// writeFileAtomically writes path through a temporary file beside it (its
// folder created if needed) that write fills: synced and renamed into place
// when write succeeds, removed otherwise, so that path never holds a
// partial file. write's errors are returned as they are, this function's
// own ones through wrap.
func writeFileAtomically(path string, wrap func(error) error, write func(tmp *os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return wrap(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return wrap(err)
	}
	err = write(tmp)
	if err == nil {
		if err = tmp.Sync(); err != nil {
			err = wrap(err)
		}
	}
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = wrap(cerr)
	}
	if err == nil {
		if rerr := os.Rename(tmp.Name(), path); rerr != nil {
			err = wrap(rerr)
		}
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// encodePreparedHeader returns the PreparedHeaderSize bytes of a header.
func encodePreparedHeader(n, h, w, c int, indexOff int64, index []byte) []byte {
	hdr := make([]byte, PreparedHeaderSize)
	copy(hdr, preparedMagic[:])
	le := binary.LittleEndian
	le.PutUint32(hdr[8:], PreparedVersion)
	le.PutUint64(hdr[16:], uint64(n))
	le.PutUint32(hdr[24:], uint32(h))
	le.PutUint32(hdr[28:], uint32(w))
	le.PutUint32(hdr[32:], uint32(c))
	le.PutUint64(hdr[40:], uint64(indexOff))
	le.PutUint64(hdr[48:], uint64(len(index)))
	le.PutUint32(hdr[56:], crc32.ChecksumIEEE(index))
	le.PutUint32(hdr[60:], crc32.ChecksumIEEE(hdr[:60]))
	return hdr
}

// preparedHeader is the decoded header of a prepared dataset file.
type preparedHeader struct {
	n, h, w, c          int
	indexOff, indexLen  int64
	indexCRC            uint32
	recordSize, fileLen int64
}

// decodePreparedHeader checks the header against the file length.
func decodePreparedHeader(hdr []byte, fileLen int64) (preparedHeader, error) {
	var ph preparedHeader
	if fileLen < PreparedHeaderSize || len(hdr) < PreparedHeaderSize {
		return ph, fmt.Errorf("truncated: %d bytes, shorter than the %d-byte header", fileLen, PreparedHeaderSize)
	}
	if !bytes.Equal(hdr[:8], preparedMagic[:]) {
		return ph, fmt.Errorf("not a prepared dataset (magic %q, want %q)", hdr[:8], preparedMagic[:])
	}
	le := binary.LittleEndian
	if v := le.Uint32(hdr[8:]); v != PreparedVersion {
		return ph, fmt.Errorf("format version %d, this program reads version %d (prepare it again)", v, PreparedVersion)
	}
	if got, want := crc32.ChecksumIEEE(hdr[:60]), le.Uint32(hdr[60:]); got != want {
		return ph, fmt.Errorf("damaged header (checksum %08x, want %08x)", got, want)
	}
	n, h, w, c := le.Uint64(hdr[16:]), le.Uint32(hdr[24:]), le.Uint32(hdr[28:]), le.Uint32(hdr[32:])
	if h == 0 || w == 0 || c == 0 || uint64(h)*uint64(w)*uint64(c) > 1<<32 {
		return ph, fmt.Errorf("damaged header: image shape %dx%dx%d", h, w, c)
	}
	rec := uint64(h) * uint64(w) * uint64(c)
	if n > uint64(fileLen)/rec {
		return ph, fmt.Errorf("truncated: %d bytes cannot hold %d images of %d bytes", fileLen, n, rec)
	}
	ph = preparedHeader{n: int(n), h: int(h), w: int(w), c: int(c),
		indexOff: int64(le.Uint64(hdr[40:])), indexLen: int64(le.Uint64(hdr[48:])),
		indexCRC: le.Uint32(hdr[56:]), recordSize: int64(rec), fileLen: fileLen}
	if want := PreparedHeaderSize + int64(n)*int64(rec); ph.indexOff != want {
		return ph, fmt.Errorf("damaged header: index at byte %d, want %d for %d images", ph.indexOff, want, n)
	}
	if ph.indexLen < 0 || ph.indexLen > fileLen || ph.indexOff+ph.indexLen != fileLen {
		if ph.indexOff+ph.indexLen > fileLen {
			return ph, fmt.Errorf("truncated: %d bytes, want %d (%d images of %d bytes and a %d-byte index)",
				fileLen, ph.indexOff+ph.indexLen, n, rec, ph.indexLen)
		}
		return ph, fmt.Errorf("damaged: %d bytes, want %d (%d images of %d bytes and a %d-byte index)",
			fileLen, ph.indexOff+ph.indexLen, n, rec, ph.indexLen)
	}
	return ph, nil
}

// OpenPrepared opens a prepared dataset file made by PrepareImageFolder.
// The returned Prepared's Images is a read-only-to-the-file memory map of
// the pixel records (see Prepared), so opening is fast and memory use is
// bounded by the page cache, not the size of the collection. Files are the
// stored source folder joined with each image's relative path.
//
// A file that is not a prepared dataset, has another format version, is
// truncated or has a damaged header or index gives an error naming the
// file; pixel bytes are not checked.
func OpenPrepared(path string) (*Prepared, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: OpenPrepared: %w", err)
	}
	defer f.Close()
	p, err := openPrepared(f)
	if err != nil {
		return nil, fmt.Errorf("data: OpenPrepared(%s): %w", path, err)
	}
	p.Path = path
	return p, nil
}

func openPrepared(f *os.File) (*Prepared, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, PreparedHeaderSize)
	if fi.Size() >= PreparedHeaderSize {
		if _, err := f.ReadAt(hdr, 0); err != nil {
			return nil, fmt.Errorf("reading header: %w", err)
		}
	}
	ph, err := decodePreparedHeader(hdr, fi.Size())
	if err != nil {
		return nil, err
	}
	index := make([]byte, ph.indexLen)
	if _, err := f.ReadAt(index, ph.indexOff); err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	if got := crc32.ChecksumIEEE(index); got != ph.indexCRC {
		return nil, fmt.Errorf("damaged index (checksum %08x, want %08x)", got, ph.indexCRC)
	}
	var idx preparedIndex
	if err := json.Unmarshal(index, &idx); err != nil {
		return nil, fmt.Errorf("damaged index: %w", err)
	}
	if len(idx.Files) != ph.n {
		return nil, fmt.Errorf("damaged index: %d files for %d images", len(idx.Files), ph.n)
	}
	ds := &Dataset{Name: idx.Name, N: ph.n, Height: ph.h, Width: ph.w, Channels: ph.c,
		ClassNames: idx.ClassNames, Files: make([]string, ph.n)}
	ds.Labels = idx.Labels
	for i, rel := range idx.Files {
		ds.Files[i] = filepath.Join(idx.Dir, filepath.FromSlash(rel))
	}
	p := &Prepared{Dataset: ds, Fingerprint: idx.Fingerprint, srcDir: idx.Dir}
	for _, s := range idx.Skipped {
		p.Skipped = append(p.Skipped, SkippedFile{File: filepath.Join(idx.Dir, filepath.FromSlash(s.File)), Err: s.Err})
	}
	if ph.n == 0 {
		return nil, fmt.Errorf("damaged: no images")
	}
	if err := ds.validateMeta(); err != nil {
		return nil, fmt.Errorf("damaged index: %w", err)
	}
	pages, err := mapRecords(f, PreparedHeaderSize, ph.indexOff-PreparedHeaderSize)
	if err != nil {
		return nil, err
	}
	ds.Images = pages.b
	ds.pages = pages
	return p, nil
}

// validateMeta checks labels and files against N and the class names.
func (d *Dataset) validateMeta() error {
	if d.Labels != nil && len(d.Labels) != d.N {
		return fmt.Errorf("%d labels, want %d", len(d.Labels), d.N)
	}
	for i, l := range d.Labels {
		if l < 0 || l >= len(d.ClassNames) {
			return fmt.Errorf("labels[%d] = %d out of range [0,%d)", i, l, len(d.ClassNames))
		}
	}
	return nil
}

// PreparedPath returns the file LoadImageFolderCached uses for dir under the
// given options in cacheDir: the folder's base name and a hash of its
// absolute path and the options, with PreparedExt.
func PreparedPath(dir, cacheDir string, opts ...FolderOption) (string, error) {
	cfg, err := newFolderConfig("PreparedPath", dir, opts)
	if err != nil {
		return "", err
	}
	return preparedPath(dir, cacheDir, &cfg)
}

func preparedPath(dir, cacheDir string, cfg *folderConfig) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data: prepared dataset for %s: %w", dir, err)
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + optionsKey(cfg)))
	base := filepath.Base(abs)
	base = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, base)
	return filepath.Join(cacheDir, fmt.Sprintf("%s-%s%s", base, hex.EncodeToString(sum[:8]), PreparedExt)), nil
}

// LoadImageFolderCached is LoadImageFolder through a prepared dataset in
// cacheDir (PreparedPath names the file): when the file exists and its
// fingerprint matches the folder now (same image files with the same sizes
// and modification times, same classes, same options; checked by listing
// and stat-ing the folder, without decoding), it is opened; otherwise (no
// file, a changed folder, other options, an unreadable or damaged file) the
// folder is prepared anew with PrepareImageFolder and the file replaced.
//
// Files are the image paths under dir as given. When reused, the bad files
// skipped at preparation (SkipBadFiles) are reported again, to onSkip or as
// a warning, as LoadImageFolder would. Close the result when done with it.
func LoadImageFolderCached(dir, cacheDir string, opts ...FolderOption) (*Prepared, error) {
	cfg, err := newFolderConfig("LoadImageFolderCached", dir, opts)
	if err != nil {
		return nil, err
	}
	path, err := preparedPath(dir, cacheDir, &cfg)
	if err != nil {
		return nil, err
	}
	if p, err := OpenPrepared(path); err == nil {
		files, _, classes, lerr := listImageFolder(dir)
		if lerr != nil {
			p.Close()
			return nil, lerr
		}
		fp, _, ferr := folderFingerprint(dir, files, classes, optionsKey(&cfg))
		if ferr != nil {
			p.Close()
			return nil, ferr
		}
		if fp == p.Fingerprint {
			// Use the paths under dir as given now.
			if p.srcDir != dir {
				for i, f := range p.Files {
					if rel, err := filepath.Rel(p.srcDir, f); err == nil {
						p.Files[i] = filepath.Join(dir, rel)
					}
				}
			}
			var bad []string
			for i, s := range p.Skipped {
				if rel, err := filepath.Rel(p.srcDir, s.File); err == nil {
					p.Skipped[i].File = filepath.Join(dir, rel)
				}
				bad = append(bad, s.Err)
				if cfg.onSkip != nil {
					cfg.onSkip(p.Skipped[i].File, errors.New(s.Err))
				}
			}
			if len(bad) > 0 && cfg.onSkip == nil && cfg.warnings != nil {
				warnSkipped(cfg.warnings, dir, p.N+len(bad), bad)
			}
			p.srcDir = dir
			return p, nil
		}
		p.Close()
	}
	return PrepareImageFolder(dir, path, opts...)
}

// PrepareSubset writes the images of ds at the given indices, in that order,
// into a prepared dataset file at path and opens it: Subset for collections
// larger than memory, whose copy is a file mapped like any prepared one
// rather than memory of the process. ds is read with its pages released
// behind (PageReleaser), and the records are written as they are read. The
// index keeps the names, labels, class names and source files (CoarseLabels
// are set on the result but not stored in the file). The file is written to
// a temporary name and renamed, so path never holds a partial file.
func PrepareSubset(ds *Dataset, indices []int, path string) (*Prepared, error) {
	wrap := func(err error) error {
		return fmt.Errorf("data: PrepareSubset(%s, %d images, %s): %w", ds.Name, len(indices), path, err)
	}
	fail := func(err error) (*Prepared, error) { return nil, wrap(err) }
	if len(indices) == 0 {
		return fail(errors.New("no images"))
	}
	if err := ds.Validate(); err != nil {
		return fail(err)
	}
	idx := preparedIndex{Name: ds.Name, ClassNames: ds.ClassNames, Total: len(indices),
		Fingerprint: "subset of " + ds.Name, Files: make([]string, len(indices))}
	if ds.Labels != nil {
		idx.Labels = make([]int, len(indices))
	}
	for j, i := range indices {
		if i < 0 || i >= ds.N {
			return fail(fmt.Errorf("index %d out of range [0,%d)", i, ds.N))
		}
		if ds.Labels != nil {
			idx.Labels[j] = ds.Labels[i]
		}
		if ds.Files != nil {
			idx.Files[j] = filepath.ToSlash(ds.Files[i])
		}
	}
	index, err := json.Marshal(&idx)
	if err != nil {
		return fail(err)
	}
	s := ds.ImageSize()
	indexOff := int64(PreparedHeaderSize) + int64(len(indices))*int64(s)
	err = writeFileAtomically(path, wrap, func(tmp *os.File) error {
		w := bufio.NewWriterSize(tmp, 1<<20)
		w.Write(encodePreparedHeader(len(indices), ds.Height, ds.Width, ds.Channels, indexOff, index))
		pages := NewPageReleaser(ds, false)
		for _, i := range indices {
			w.Write(ds.Image(i))
			if err := pages.Read(1, i); err != nil {
				return wrap(err)
			}
		}
		w.Write(index)
		if err := w.Flush(); err != nil {
			return wrap(err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := OpenPrepared(path)
	if err != nil {
		return fail(err)
	}
	if ds.Files == nil {
		p.Files = nil
	}
	if ds.CoarseLabels != nil {
		p.CoarseLabels, p.CoarseClassNames = make([]int, len(indices)), ds.CoarseClassNames
		for j, i := range indices {
			p.CoarseLabels[j] = ds.CoarseLabels[i]
		}
	}
	return p, nil
}
