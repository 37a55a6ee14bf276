// Package data holds the image collections t-SimCNE trains on: an in-memory
// Dataset type (uint8 pixels, NHWC layout, integer labels and class names)
// and readers for CIFAR-10/100, MNIST-style IDX files and image folders,
// plus the downloader for the official CIFAR archives.
//
// Every reader returns 3-channel RGB images:
//
//   - LoadCIFAR10, LoadCIFAR100 (binary versions; LoadCIFAR10Files and
//     LoadCIFAR100Files for single files, ParseCIFAR10 and ParseCIFAR100 for
//     bytes), with EnsureCIFAR10 and EnsureCIFAR100 to download them;
//   - LoadFashionMNIST, LoadMNIST and LoadIDX (IDX files, gzipped or not;
//     ReadIDX and ParseIDX for the raw content), grey replicated to RGB;
//   - LoadImageFolder (PNG, JPEG, GIF, WebP, BMP, TIFF; one sub-folder per
//     class), resized to a square.
//
// Data sets live in the data folder, DataDir(): $TSIMCNE_DATA, else
// gosimcne in the user's cache folder, in the layout of the official
// archives. Passing "" as a loader's dir means DataDir().
//
// Tests of this and other packages find the real data sets with
// internal/datatest's FindTestData and NeedTestData ($TSIMCNE_DATA, else <module root>/../shared/data;
// skipped when absent unless $TSIMCNE_REQUIRE_DATA=1).
//
// Bad input (truncated or oversized files, wrong magic numbers, labels out
// of range, undecodable images) gives an error naming the file and, for
// binary files, the record or byte offset; the binary parsers are fuzzed
// (FuzzParseCIFAR10, FuzzParseCIFAR100, FuzzParseIDX).
package data

import (
	"fmt"
	"image"
	"image/color"
	"slices"
)

// Dataset is an image collection: its pixels in memory, or for a prepared
// dataset file (Prepared) a memory map of it.
//
// Pixels are uint8 in NHWC layout: image i, row y, column x, channel c is at
// Images[((i*Height+y)*Width+x)*Channels+c]. Every reader in this package
// returns 3-channel RGB images (grey sources are replicated), so Channels is 3
// unless a Dataset was built by hand.
type Dataset struct {
	// Name says where the images came from, e.g. "cifar10/train".
	Name string
	// Images holds N*Height*Width*Channels bytes, NHWC.
	Images []uint8
	// N is the number of images.
	N int
	// Height, Width and Channels give the shape of one image.
	Height, Width, Channels int
	// Labels holds one class index per image, in [0, len(ClassNames)).
	// It may be nil for unlabelled collections.
	Labels []int
	// ClassNames names the classes, indexed by label.
	ClassNames []string
	// CoarseLabels and CoarseClassNames are the second level of labels where a
	// data set has one (CIFAR-100's 20 superclasses); nil otherwise.
	CoarseLabels     []int
	CoarseClassNames []string
	// Files holds the source file of each image where images come from
	// separate files (LoadImageFolder), so that a point of interest in a map
	// can be traced back; nil otherwise.
	Files []string

	// pages is the memory map behind Images for a prepared dataset (and
	// copies sharing its images); nil for images in memory. Images starts
	// pagesOff bytes into it (Slice).
	pages    *mappedPages
	pagesOff int
}

// ImageSize returns the number of bytes of one image (Height*Width*Channels).
func (d *Dataset) ImageSize() int { return d.Height * d.Width * d.Channels }

// Image returns the pixels of image i (a sub-slice of Images, not a copy).
func (d *Dataset) Image(i int) []uint8 {
	s := d.ImageSize()
	return d.Images[i*s : (i+1)*s]
}

// Validate checks that the sizes and labels of d are consistent.
func (d *Dataset) Validate() error {
	if d == nil {
		return fmt.Errorf("dataset is nil")
	}
	if d.N < 0 || d.Height <= 0 || d.Width <= 0 || d.Channels <= 0 {
		return fmt.Errorf("dataset %q: invalid shape N=%d H=%d W=%d C=%d", d.Name, d.N, d.Height, d.Width, d.Channels)
	}
	if len(d.Images) != d.N*d.ImageSize() {
		return fmt.Errorf("dataset %q: %d pixel bytes, want N*H*W*C = %d", d.Name, len(d.Images), d.N*d.ImageSize())
	}
	check := func(what string, labels []int, names []string) error {
		if labels == nil {
			return nil
		}
		if len(labels) != d.N {
			return fmt.Errorf("dataset %q: %d %s, want %d", d.Name, len(labels), what, d.N)
		}
		for i, l := range labels {
			if l < 0 || (len(names) > 0 && l >= len(names)) {
				return fmt.Errorf("dataset %q: %s[%d] = %d out of range [0,%d)", d.Name, what, i, l, len(names))
			}
		}
		return nil
	}
	if err := check("labels", d.Labels, d.ClassNames); err != nil {
		return err
	}
	if err := check("coarse labels", d.CoarseLabels, d.CoarseClassNames); err != nil {
		return err
	}
	if d.Files != nil && len(d.Files) != d.N {
		return fmt.Errorf("dataset %q: %d file names, want %d", d.Name, len(d.Files), d.N)
	}
	return nil
}

// Slice returns images [lo, hi) of d as a Dataset sharing d's pixels,
// labels and files (no copy: for a prepared dataset, a part of its memory
// map). Its Name is d's.
func (d *Dataset) Slice(lo, hi int) (*Dataset, error) {
	if lo < 0 || hi > d.N || lo > hi {
		return nil, fmt.Errorf("data: Slice(%d, %d) of %s with %d images", lo, hi, d.Name, d.N)
	}
	s := d.ImageSize()
	out := *d
	out.N = hi - lo
	out.Images = d.Images[lo*s : hi*s : hi*s]
	out.pagesOff = d.pagesOff + lo*s
	if d.Labels != nil {
		out.Labels = d.Labels[lo:hi:hi]
	}
	if d.CoarseLabels != nil {
		out.CoarseLabels = d.CoarseLabels[lo:hi:hi]
	}
	if d.Files != nil {
		out.Files = d.Files[lo:hi:hi]
	}
	return &out, nil
}

// Subset returns a new Dataset with the images at the given indices, in that
// order. Pixels and labels are copied (see PrepareSubset for collections
// larger than memory).
func (d *Dataset) Subset(indices []int) *Dataset {
	s := d.ImageSize()
	out := &Dataset{
		Name: d.Name, N: len(indices), Height: d.Height, Width: d.Width, Channels: d.Channels,
		Images:     make([]uint8, len(indices)*s),
		ClassNames: d.ClassNames, CoarseClassNames: d.CoarseClassNames,
	}
	if d.Labels != nil {
		out.Labels = make([]int, len(indices))
	}
	if d.CoarseLabels != nil {
		out.CoarseLabels = make([]int, len(indices))
	}
	if d.Files != nil {
		out.Files = make([]string, len(indices))
	}
	for j, i := range indices {
		copy(out.Images[j*s:(j+1)*s], d.Image(i))
		if d.Labels != nil {
			out.Labels[j] = d.Labels[i]
		}
		if d.CoarseLabels != nil {
			out.CoarseLabels[j] = d.CoarseLabels[i]
		}
		if d.Files != nil {
			out.Files[j] = d.Files[i]
		}
	}
	return out
}

// Head returns the first n images (all of them if n <= 0 or n >= N), copied.
func (d *Dataset) Head(n int) *Dataset {
	if n <= 0 || n >= d.N {
		n = d.N
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx)
}

// WithClassNames returns a copy of d (sharing its images) whose labels index
// names instead of d.ClassNames, matching classes by name: a label set that
// came from another folder or file (a test split's own list of classes)
// then means the same class as in names. Every class of d that has images
// must be in names; names may have more classes. An unlabelled d is an
// error.
func (d *Dataset) WithClassNames(names []string) (*Dataset, error) {
	if d.Labels == nil {
		return nil, fmt.Errorf("data: %s has no labels to match with classes %v", d.Name, names)
	}
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	remap := make([]int, len(d.ClassNames))
	for i, n := range d.ClassNames {
		j, ok := index[n]
		if !ok {
			j = -1
		}
		remap[i] = j
	}
	out := *d
	out.ClassNames = slices.Clone(names)
	out.Labels = make([]int, len(d.Labels))
	var missing []string
	for i, l := range d.Labels {
		if l < 0 || l >= len(remap) {
			return nil, fmt.Errorf("data: %s: label %d of image %d is outside its %d classes", d.Name, l, i, len(d.ClassNames))
		}
		if remap[l] < 0 {
			if !slices.Contains(missing, d.ClassNames[l]) {
				missing = append(missing, d.ClassNames[l])
			}
			continue
		}
		out.Labels[i] = remap[l]
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("data: %s has images of classes %v that are not among %v", d.Name, missing, names)
	}
	return &out, nil
}

// Concat returns the images of all parts in one Dataset. The parts must have
// the same image shape and the same class names, in the same order (see
// WithClassNames to match labels by name first); the name is taken from the
// first part.
func Concat(parts ...*Dataset) (*Dataset, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("data.Concat: no datasets")
	}
	first := parts[0]
	out := &Dataset{Name: first.Name, Height: first.Height, Width: first.Width, Channels: first.Channels,
		ClassNames: first.ClassNames, CoarseClassNames: first.CoarseClassNames}
	hasLabels, hasCoarse, hasFiles := true, true, true
	total := 0
	for _, p := range parts {
		total += len(p.Images)
	}
	out.Images = make([]uint8, 0, total)
	for _, p := range parts {
		if p.Height != first.Height || p.Width != first.Width || p.Channels != first.Channels {
			return nil, fmt.Errorf("data.Concat: %q has images %dx%dx%d, %q has %dx%dx%d",
				first.Name, first.Height, first.Width, first.Channels, p.Name, p.Height, p.Width, p.Channels)
		}
		if !slices.Equal(p.ClassNames, first.ClassNames) {
			return nil, fmt.Errorf("data.Concat: %q has classes %v, %q has %v (match them by name with WithClassNames)",
				first.Name, first.ClassNames, p.Name, p.ClassNames)
		}
		hasLabels = hasLabels && p.Labels != nil
		hasCoarse = hasCoarse && p.CoarseLabels != nil
		hasFiles = hasFiles && p.Files != nil
		out.N += p.N
		out.Images = append(out.Images, p.Images...)
	}
	for _, p := range parts {
		if hasLabels {
			out.Labels = append(out.Labels, p.Labels...)
		}
		if hasCoarse {
			out.CoarseLabels = append(out.CoarseLabels, p.CoarseLabels...)
		}
		if hasFiles {
			out.Files = append(out.Files, p.Files...)
		}
	}
	return out, nil
}

// ToImage returns image i as an image.Image (RGBA for 3 channels, Gray for 1).
func (d *Dataset) ToImage(i int) image.Image {
	px := d.Image(i)
	switch d.Channels {
	case 1:
		g := image.NewGray(image.Rect(0, 0, d.Width, d.Height))
		copy(g.Pix, px)
		return g
	default:
		img := image.NewRGBA(image.Rect(0, 0, d.Width, d.Height))
		for p := 0; p < d.Width*d.Height; p++ {
			src := px[p*d.Channels:]
			var c color.RGBA
			c.A = 255
			c.R = src[0]
			c.G, c.B = c.R, c.R
			if d.Channels >= 3 {
				c.G, c.B = src[1], src[2]
			}
			img.Pix[4*p], img.Pix[4*p+1], img.Pix[4*p+2], img.Pix[4*p+3] = c.R, c.G, c.B, c.A
		}
		return img
	}
}
