package data

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	// Image formats understood by LoadImageFolder.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// ImageExtensions are the file name extensions LoadImageFolder reads
// (compared case-insensitively); other files are ignored.
var ImageExtensions = []string{".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"}

// Fit says how LoadImageFolder makes a non-square image square.
type Fit int

const (
	// CenterCrop keeps the central square of the image, whose side is the
	// shorter side, and scales it: nothing is distorted, the ends of the
	// longer side are lost. This is the default.
	CenterCrop Fit = iota
	// Pad scales the whole image so that its longer side fits and fills the
	// rest with the background colour (see WithBackground): nothing is lost,
	// bars appear.
	Pad
)

// String returns "center-crop" or "pad".
func (f Fit) String() string {
	switch f {
	case CenterCrop:
		return "center-crop"
	case Pad:
		return "pad"
	}
	return fmt.Sprintf("Fit(%d)", int(f))
}

// FolderOption configures LoadImageFolder.
type FolderOption func(*folderConfig)

type folderConfig struct {
	size       int
	fit        Fit
	background color.RGBA
	interp     draw.Interpolator
	skipBad    bool
	onSkip     func(path string, err error)
	warnings   io.Writer
	maxPixels  int
	cacheDir   string
}

// WithSize sets the side of the square output images in pixels; default 32
// (the CIFAR size the t-SimCNE network is built for).
func WithSize(side int) FolderOption { return func(c *folderConfig) { c.size = side } }

// WithCache makes LoadImageFolder (and LoadImageFolderSplit) read the
// images through a prepared file in cacheDir (LoadImageFolderCached): the
// first load decodes the folder into it, later loads of the unchanged
// folder map it instead of decoding again. The mapping stays until the
// process ends. "" (the default) decodes every time.
func WithCache(cacheDir string) FolderOption { return func(c *folderConfig) { c.cacheDir = cacheDir } }

// WithFit sets how non-square images are made square; default CenterCrop.
func WithFit(f Fit) FolderOption { return func(c *folderConfig) { c.fit = f } }

// WithBackground sets the colour of the padding (Fit Pad) and of transparent
// parts of images; default black. Its alpha is ignored.
func WithBackground(c color.Color) FolderOption {
	return func(cfg *folderConfig) {
		r, g, b, _ := c.RGBA()
		cfg.background = color.RGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 255}
	}
}

// WithInterpolator sets the resampling kernel; default draw.CatmullRom
// (sharp, and correct when shrinking: the kernel widens with the scale
// factor). draw.BiLinear is a little softer and faster; draw.ApproxBiLinear
// and draw.NearestNeighbor alias when shrinking much.
func WithInterpolator(k draw.Interpolator) FolderOption {
	return func(c *folderConfig) { c.interp = k }
}

// SkipBadFiles makes LoadImageFolder skip images that cannot be read or
// decoded instead of failing. onSkip, if not nil, is called for each skipped
// file (in file order); if nil, one warning with the count and the first
// files goes to os.Stderr.
func SkipBadFiles(onSkip func(path string, err error)) FolderOption {
	return func(c *folderConfig) { c.skipBad, c.onSkip = true, onSkip }
}

// WithMaxPixels sets the largest image (width*height) that will be decoded;
// default 64 megapixels. Larger images count as bad files, which guards
// against files that announce huge sizes.
func WithMaxPixels(n int) FolderOption { return func(c *folderConfig) { c.maxPixels = n } }

// LoadImageFolder loads a folder of images into a Dataset:
//
//   - with one sub-folder per class (dir/cat/*.jpg, dir/dog/*.png, ...), the
//     class names are the sorted sub-folder names and images may be nested
//     deeper inside a class folder;
//   - with the images directly in dir and no sub-folders, the Dataset is
//     unlabelled (Labels and ClassNames nil).
//
// Files are read in sorted order; Dataset.Files holds each image's path.
// Names starting with "." are ignored, as are files whose extension is not
// in ImageExtensions (PNG, JPEG, GIF, WebP, BMP, TIFF).
//
// Every image is converted to RGB (grey replicated, transparency composed
// onto the background colour) and resized to a square of WithSize pixels
// (default 32). A non-square image is centre-cropped to a square first
// (CenterCrop, the default), or padded with WithFit(Pad); width and height
// keep their meaning throughout (a 64x32 landscape image stays landscape
// before the crop). Resampling is Catmull-Rom by default, which averages
// properly when shrinking.
//
// An image that cannot be decoded fails the load with an error naming the
// file, unless SkipBadFiles is given. Images are decoded on all cores.
func LoadImageFolder(dir string, opts ...FolderOption) (*Dataset, error) {
	cfg, err := newFolderConfig("LoadImageFolder", dir, opts)
	if err != nil {
		return nil, err
	}
	if cfg.cacheDir != "" {
		p, err := LoadImageFolderCached(dir, cfg.cacheDir, append(opts[:len(opts):len(opts)], WithCache(""))...)
		if err != nil {
			return nil, err
		}
		return p.Dataset, nil
	}
	files, labels, classes, err := listImageFolder(dir)
	if err != nil {
		return nil, err
	}
	s := cfg.size
	imgBytes := s * s * 3
	pixels := make([]uint8, len(files)*imgBytes)
	errs, err := decodeImages(files, &cfg, func(i int, rgb []byte) error {
		copy(pixels[i*imgBytes:], rgb)
		return nil
	})
	if err != nil {
		return nil, err
	}
	kept, err := sortOutBadImages("LoadImageFolder", dir, files, errs, &cfg)
	if err != nil {
		return nil, err
	}
	// Drop the bad files, keeping the order of the others.
	keep := len(kept)
	for k, i := range kept {
		if k != i {
			copy(pixels[k*imgBytes:(k+1)*imgBytes], pixels[i*imgBytes:(i+1)*imgBytes])
			files[k] = files[i]
			if labels != nil {
				labels[k] = labels[i]
			}
		}
	}
	ds := &Dataset{
		Name: filepath.Base(filepath.Clean(dir)), N: keep, Height: s, Width: s, Channels: 3,
		Images: pixels[:keep*imgBytes], Files: files[:keep], ClassNames: classes,
	}
	if labels != nil {
		ds.Labels = labels[:keep]
	}
	return ds, nil
}

// decodeImages decodes files on all cores as cfg says (loadSquare) and
// hands each image's RGB pixels to store, called concurrently with a buffer
// its worker reuses. It returns each file's decoding error (nil where it
// decoded), or store's first error, which stops the workers.
func decodeImages(files []string, cfg *folderConfig, store func(i int, rgb []byte) error) ([]error, error) {
	s := cfg.size
	errs := make([]error, len(files))
	var storeErr atomic.Pointer[error]
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := image.NewRGBA(image.Rect(0, 0, s, s))
			rgb := make([]byte, s*s*3)
			for storeErr.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				if err := loadSquare(files[i], dst, cfg); err != nil {
					errs[i] = err
					continue
				}
				for p := range s * s {
					rgb[3*p], rgb[3*p+1], rgb[3*p+2] = dst.Pix[4*p], dst.Pix[4*p+1], dst.Pix[4*p+2]
				}
				if err := store(i, rgb); err != nil {
					storeErr.CompareAndSwap(nil, &err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := storeErr.Load(); e != nil {
		return nil, *e
	}
	return errs, nil
}

// sortOutBadImages returns the indices of the files that decoded (errs[i]
// nil), in order. Without SkipBadFiles any bad file is a *BadImagesError
// listing all of them; with it, each is handed to the onSkip callback, or
// summed up in one warning. what names the caller in the error when no
// image could be read.
func sortOutBadImages(what, dir string, files []string, errs []error, cfg *folderConfig) ([]int, error) {
	bad := &BadImagesError{Dir: dir, Total: len(files)}
	var kept []int
	for i, err := range errs {
		if err == nil {
			kept = append(kept, i)
			continue
		}
		bad.Files = append(bad.Files, files[i])
		bad.Errs = append(bad.Errs, err)
	}
	if len(bad.Files) == 0 {
		return kept, nil
	}
	if !cfg.skipBad {
		return nil, bad
	}
	if cfg.onSkip != nil {
		for i, f := range bad.Files {
			cfg.onSkip(f, bad.Errs[i])
		}
	} else if cfg.warnings != nil {
		msgs := make([]string, len(bad.Errs))
		for i, err := range bad.Errs {
			msgs[i] = err.Error()
		}
		warnSkipped(cfg.warnings, dir, len(files), msgs)
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("data: %s(%s): none of the %d images could be read", what, dir, len(files))
	}
	return kept, nil
}

// BadImagesError is LoadImageFolder's error when images of the folder cannot
// be read or decoded (and SkipBadFiles was not given): it lists all of them,
// not just the first.
type BadImagesError struct {
	// Dir is the folder loaded.
	Dir string
	// Total is the number of image files found in it.
	Total int
	// Files are the paths of the images that could not be read, in file
	// order, and Errs why, one per file.
	Files []string
	Errs  []error
}

// Error names the count and the first few files with their reasons.
func (e *BadImagesError) Error() string {
	const shown = 5
	var b strings.Builder
	fmt.Fprintf(&b, "data: LoadImageFolder(%s): %d of %d images could not be read: ", e.Dir, len(e.Files), e.Total)
	for i, err := range e.Errs[:min(shown, len(e.Errs))] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	if len(e.Errs) > shown {
		fmt.Fprintf(&b, "; and %d more", len(e.Errs)-shown)
	}
	return b.String()
}

// HasSplitFolders reports whether dir holds train/ and test/ sub-folders,
// which LoadImageFolderSplit reads as the training and test splits.
func HasSplitFolders(dir string) bool {
	for _, sub := range []string{"train", "test"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// LoadImageFolderSplit loads one split of an image folder. A folder with
// train/ and test/ sub-folders (HasSplitFolders) has both splits; each is
// read by LoadImageFolder, and the test images are labelled by class name
// with the training folder's classes (Dataset.WithClassNames): a test
// class that training lacks is an error, a training class without test
// images is fine. The name is the folder's base name and "/train", "/test"
// or "/all" (All is Train followed by Test). Any other folder is one
// collection: Train and All load it whole, Test is an error.
func LoadImageFolderSplit(dir string, split Split, opts ...FolderOption) (*Dataset, error) {
	if err := split.check(); err != nil {
		return nil, err
	}
	base := filepath.Base(filepath.Clean(dir))
	if !HasSplitFolders(dir) {
		if split == Test {
			return nil, fmt.Errorf("data: image folder %s has no train/ and test/ sub-folders, so no test split", dir)
		}
		return LoadImageFolder(dir, opts...)
	}
	trainDir, testDir := filepath.Join(dir, "train"), filepath.Join(dir, "test")
	var parts []*Dataset
	var trainClasses []string
	if split.hasTrain() {
		ds, err := LoadImageFolder(trainDir, opts...)
		if err != nil {
			return nil, err
		}
		ds.Name = base + "/train"
		trainClasses = ds.ClassNames
		parts = append(parts, ds)
	} else {
		_, _, classes, err := listImageFolder(trainDir)
		if err != nil {
			return nil, fmt.Errorf("data: the test split's labels come from the training folder: %w", err)
		}
		trainClasses = classes
	}
	if split.hasTest() {
		ds, err := LoadImageFolder(testDir, opts...)
		if err != nil {
			return nil, err
		}
		if (ds.Labels == nil) != (trainClasses == nil) {
			return nil, fmt.Errorf("data: image folder %s: one of train/ and test/ has class sub-folders and the other not", dir)
		}
		if ds.Labels != nil {
			if ds, err = ds.WithClassNames(trainClasses); err != nil {
				return nil, fmt.Errorf("data: image folder %s: test/ against train/: %w", dir, err)
			}
		}
		ds.Name = base + "/test"
		parts = append(parts, ds)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	all, err := Concat(parts...)
	if err != nil {
		return nil, err
	}
	all.Name = base + "/all"
	return all, nil
}

// newFolderConfig returns LoadImageFolder's defaults with opts applied and
// checked.
func newFolderConfig(what, dir string, opts []FolderOption) (folderConfig, error) {
	cfg := folderConfig{size: 32, interp: draw.CatmullRom, warnings: os.Stderr, maxPixels: 64 << 20,
		background: color.RGBA{A: 255}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.size <= 0 {
		return cfg, fmt.Errorf("data: %s(%s): image size %d must be positive", what, dir, cfg.size)
	}
	if cfg.fit != CenterCrop && cfg.fit != Pad {
		return cfg, fmt.Errorf("data: %s(%s): unknown %v", what, dir, cfg.fit)
	}
	if cfg.interp == nil {
		return cfg, fmt.Errorf("data: %s(%s): no interpolator", what, dir)
	}
	return cfg, nil
}

// warnSkipped writes LoadImageFolder's warning about skipped images.
func warnSkipped(w io.Writer, dir string, total int, bad []string) {
	shown := bad[:min(len(bad), 3)]
	more := ""
	if len(bad) > len(shown) {
		more = fmt.Sprintf("; and %d more", len(bad)-len(shown))
	}
	fmt.Fprintf(w, "data: warning: skipped %d of %d images in %s that could not be read: %s%s\n",
		len(bad), total, dir, strings.Join(shown, "; "), more)
}

// isImageFile reports whether name has one of the ImageExtensions.
func isImageFile(name string) bool {
	return slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(name)))
}

// listImageFolder lists the image files of dir and their labels (nil for an
// unlabelled folder) and the class names.
func listImageFolder(dir string) (files []string, labels []int, classes []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("data: LoadImageFolder: %w", err)
	}
	var loose []string
	for _, e := range entries { // sorted by name
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		full := filepath.Join(dir, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(full); err == nil {
				isDir = fi.IsDir()
			}
		}
		if isDir {
			classes = append(classes, name)
			label := len(classes) - 1
			// A trailing separator makes WalkDir follow a symlinked class
			// folder (links deeper down are not followed).
			root := full + string(filepath.Separator)
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if p != root && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if !d.IsDir() && isImageFile(p) {
					files = append(files, p)
					labels = append(labels, label)
				}
				return nil
			})
			if err != nil {
				return nil, nil, nil, fmt.Errorf("data: LoadImageFolder: class folder %s: %w", full, err)
			}
		} else if isImageFile(name) {
			loose = append(loose, full)
		}
	}
	switch {
	case len(classes) > 0 && len(loose) > 0:
		return nil, nil, nil, fmt.Errorf("data: LoadImageFolder(%s): found both class sub-folders (%s, ...) and %d images directly in the folder (%s, ...); move the images into a class folder, or load a folder without sub-folders for unlabelled images",
			dir, classes[0], len(loose), filepath.Base(loose[0]))
	case len(classes) > 0 && len(files) == 0:
		return nil, nil, nil, fmt.Errorf("data: LoadImageFolder(%s): no image files (%s) in the class folders %s",
			dir, strings.Join(ImageExtensions, " "), strings.Join(classes, ", "))
	case len(classes) > 0:
		return files, labels, classes, nil
	case len(loose) == 0:
		return nil, nil, nil, fmt.Errorf("data: LoadImageFolder(%s): no image files (%s) and no class folders", dir, strings.Join(ImageExtensions, " "))
	}
	return loose, nil, nil, nil
}

// loadSquare decodes the image at path and draws it, made square as cfg
// says, onto dst (cfg.size x cfg.size), over the background colour.
func loadSquare(path string, dst *image.RGBA, cfg *folderConfig) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("image %s: %w", path, err)
	}
	defer f.Close()
	conf, format, err := image.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("image %s: %w", path, err)
	}
	if conf.Width <= 0 || conf.Height <= 0 || int64(conf.Width)*int64(conf.Height) > int64(cfg.maxPixels) {
		return fmt.Errorf("image %s: %s of %dx%d pixels: empty or larger than the %d pixels allowed (see data.WithMaxPixels)",
			path, format, conf.Width, conf.Height, cfg.maxPixels)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("image %s: %w", path, err)
	}
	src, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("image %s (%s): %w", path, format, err)
	}
	drawSquare(dst, src, cfg)
	return nil
}

// drawSquare fills dst with the background colour and draws src over it,
// centre-cropped or padded to a square and scaled to dst's size.
func drawSquare(dst *image.RGBA, src image.Image, cfg *folderConfig) {
	draw.Draw(dst, dst.Bounds(), image.NewUniform(cfg.background), image.Point{}, draw.Src)
	s := dst.Bounds().Dx()
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	switch cfg.fit {
	case Pad:
		long := max(w, h)
		dw := max(1, (w*s+long/2)/long)
		dh := max(1, (h*s+long/2)/long)
		x0, y0 := (s-dw)/2, (s-dh)/2
		cfg.interp.Scale(dst, image.Rect(x0, y0, x0+dw, y0+dh), src, b, draw.Over, nil)
	default: // CenterCrop
		side := min(w, h)
		x0, y0 := b.Min.X+(w-side)/2, b.Min.Y+(h-side)/2
		cfg.interp.Scale(dst, dst.Bounds(), src, image.Rect(x0, y0, x0+side, y0+side), draw.Over, nil)
	}
}
