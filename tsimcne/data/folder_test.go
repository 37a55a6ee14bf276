package data

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/draw"
)

var (
	red    = color.RGBA{255, 0, 0, 255}
	blue   = color.RGBA{0, 0, 255, 255}
	green  = color.RGBA{0, 255, 0, 255}
	white  = color.RGBA{255, 255, 255, 255}
	yellow = color.RGBA{255, 255, 0, 255}
	cyan   = color.RGBA{0, 255, 255, 255}
)

// bands returns a w x h image split into len(cols) equal vertical bands
// (left to right) or horizontal bands (top to bottom).
func bands(w, h int, vertical bool, cols ...color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			k := x * len(cols) / w
			if !vertical {
				k = y * len(cols) / h
			}
			img.SetRGBA(x, y, cols[k])
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rgbAt returns the RGB pixel (x, y) of image i.
func rgbAt(ds *Dataset, i, x, y int) color.RGBA {
	p := ds.Image(i)[(y*ds.Width+x)*3:]
	return color.RGBA{p[0], p[1], p[2], 255}
}

// near reports whether a and b differ by at most tol in every channel.
func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

func TestLoadImageFolderClassesAndFormats(t *testing.T) {
	dir := t.TempDir()
	// Classes: sorted folder names; "b_dog" has a nested folder.
	writeFile(t, filepath.Join(dir, "b_dog", "1.png"), encodePNG(t, bands(10, 10, true, red)))
	writeFile(t, filepath.Join(dir, "b_dog", "sub", "2.PNG"), encodePNG(t, bands(10, 10, true, blue)))
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, bands(40, 40, true, green), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "a_cat", "x.jpg"), jp.Bytes())
	var gf bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{white, red})
	if err := gif.Encode(&gf, pal, nil); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "a_cat", "y.gif"), gf.Bytes())
	grey := image.NewGray(image.Rect(0, 0, 5, 5))
	for i := range grey.Pix {
		grey.Pix[i] = 100
	}
	writeFile(t, filepath.Join(dir, "c_grey", "g.png"), encodePNG(t, grey))
	// Ignored: other extensions, hidden files and folders.
	writeFile(t, filepath.Join(dir, "a_cat", "notes.txt"), []byte("hello"))
	writeFile(t, filepath.Join(dir, "a_cat", ".hidden.png"), []byte("not a png"))
	writeFile(t, filepath.Join(dir, ".git", "z.png"), []byte("not a png"))
	writeFile(t, filepath.Join(dir, "b_dog", ".cache", "z.png"), []byte("not a png"))

	// A symlinked class folder is followed.
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "l.png"), encodePNG(t, bands(10, 10, true, yellow)))
	if err := os.Symlink(other, filepath.Join(dir, "d_link")); err != nil {
		t.Fatal(err)
	}

	ds, err := LoadImageFolder(dir, WithSize(8))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.ClassNames, []string{"a_cat", "b_dog", "c_grey", "d_link"}) {
		t.Fatalf("classes %v", ds.ClassNames)
	}
	if ds.N != 6 || !slices.Equal(ds.Labels, []int{0, 0, 1, 1, 2, 3}) || ds.Height != 8 || ds.Width != 8 || ds.Channels != 3 {
		t.Fatalf("N=%d labels %v shape %dx%dx%d", ds.N, ds.Labels, ds.Height, ds.Width, ds.Channels)
	}
	wantFiles := []string{"a_cat/x.jpg", "a_cat/y.gif", "b_dog/1.png", "b_dog/sub/2.PNG", "c_grey/g.png", "d_link/l.png"}
	for i, f := range wantFiles {
		if ds.Files[i] != filepath.Join(dir, filepath.FromSlash(f)) {
			t.Errorf("file %d = %s, want %s", i, ds.Files[i], f)
		}
	}
	for i, want := range []color.RGBA{green, white, red, blue, {100, 100, 100, 255}, yellow} {
		if got := rgbAt(ds, i, 4, 4); !near(got, want, 3) {
			t.Errorf("image %d (%s) centre = %v, want %v", i, wantFiles[i], got, want)
		}
	}
	if err := ds.Validate(); err != nil {
		t.Error(err)
	}
}

// TestLoadImageFolderNonSquare checks that width and height are not
// swapped and that crop and pad are centred.
func TestLoadImageFolderNonSquare(t *testing.T) {
	dir := t.TempDir()
	// Wide 64x32: four vertical bands; the centre crop keeps red | blue.
	writeFile(t, filepath.Join(dir, "c", "1wide.png"), encodePNG(t, bands(64, 32, true, yellow, red, blue, cyan)))
	// Tall 32x64: four horizontal bands; the centre crop keeps green | white.
	writeFile(t, filepath.Join(dir, "c", "2tall.png"), encodePNG(t, bands(32, 64, false, yellow, green, white, cyan)))
	// Wide 64x32 with two halves, for padding.
	writeFile(t, filepath.Join(dir, "c", "3halves.png"), encodePNG(t, bands(64, 32, true, red, blue)))

	const s = 16
	ds, err := LoadImageFolder(dir, WithSize(s))
	if err != nil {
		t.Fatal(err)
	}
	for y := range s {
		for x := range s {
			// Keep off the boundary between the bands, where the kernel blends.
			if x == s/2-1 || x == s/2 || y == s/2-1 || y == s/2 {
				continue
			}
			wantWide, wantTall, wantHalves := red, green, red
			if x >= s/2 {
				wantWide, wantHalves = blue, blue
			}
			if y >= s/2 {
				wantTall = white
			}
			if got := rgbAt(ds, 0, x, y); !near(got, wantWide, 2) {
				t.Fatalf("wide image cropped: pixel (x=%d,y=%d) = %v, want %v", x, y, got, wantWide)
			}
			if got := rgbAt(ds, 1, x, y); !near(got, wantTall, 2) {
				t.Fatalf("tall image cropped: pixel (x=%d,y=%d) = %v, want %v", x, y, got, wantTall)
			}
			if got := rgbAt(ds, 2, x, y); !near(got, wantHalves, 2) {
				t.Fatalf("halves image cropped: pixel (x=%d,y=%d) = %v, want %v", x, y, got, wantHalves)
			}
		}
	}

	// Pad: the 64x32 image becomes 16x8 in rows 4..11, background above and below.
	ds, err = LoadImageFolder(dir, WithSize(s), WithFit(Pad), WithBackground(white), WithInterpolator(draw.BiLinear))
	if err != nil {
		t.Fatal(err)
	}
	for y := range s {
		for _, x := range []int{0, 3, 5, 10, 12, 15} {
			want := white
			if y >= 4 && y < 12 {
				want = red
				if x >= s/2 {
					want = blue
				}
			}
			if y == 4 || y == 11 { // edge rows blend with the background
				continue
			}
			if got := rgbAt(ds, 2, x, y); !near(got, want, 2) {
				t.Fatalf("halves image padded: pixel (x=%d,y=%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	// The tall image is padded left and right.
	if got := rgbAt(ds, 1, 1, 8); !near(got, white, 0) {
		t.Errorf("tall image padded: left edge %v, want background", got)
	}
	if got := rgbAt(ds, 1, 8, 1); !near(got, yellow, 2) {
		t.Errorf("tall image padded: top centre %v, want yellow", got)
	}
}

func TestLoadImageFolderTransparency(t *testing.T) {
	dir := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4)) // fully transparent
	img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	writeFile(t, filepath.Join(dir, "t.png"), encodePNG(t, img))
	ds, err := LoadImageFolder(dir, WithSize(4), WithBackground(color.RGBA{10, 20, 30, 255}), WithInterpolator(draw.NearestNeighbor))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Labels != nil || ds.ClassNames != nil || ds.N != 1 {
		t.Fatalf("loose images: want one unlabelled image, got N=%d labels %v", ds.N, ds.Labels)
	}
	if got := rgbAt(ds, 0, 3, 3); got != (color.RGBA{10, 20, 30, 255}) {
		t.Errorf("transparent pixel = %v, want the background", got)
	}
	if got := rgbAt(ds, 0, 0, 0); got != red {
		t.Errorf("opaque pixel = %v, want red", got)
	}
}

func TestLoadImageFolderBadInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "good.png"), encodePNG(t, bands(8, 8, true, red)))
	good2 := encodePNG(t, bands(8, 8, true, blue))
	writeFile(t, filepath.Join(dir, "b", "good2.png"), good2)
	writeFile(t, filepath.Join(dir, "a", "broken.png"), []byte("this is not a png"))
	writeFile(t, filepath.Join(dir, "b", "cut.png"), good2[:len(good2)/2])

	// Without SkipBadFiles every bad file is reported at once.
	_, err := LoadImageFolder(dir)
	wantErr(t, err, "2 of 4 images could not be read", filepath.Join(dir, "a", "broken.png"), filepath.Join(dir, "b", "cut.png"))
	var bad *BadImagesError
	if !errors.As(err, &bad) || len(bad.Files) != 2 || len(bad.Errs) != 2 || bad.Total != 4 {
		t.Fatalf("error %T %+v, want a BadImagesError with both files", err, bad)
	}

	var skipped []string
	ds, err := LoadImageFolder(dir, SkipBadFiles(func(p string, err error) {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("skip error %q does not name %s", err, p)
		}
		skipped = append(skipped, filepath.Base(p))
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(skipped, []string{"broken.png", "cut.png"}) {
		t.Errorf("skipped %v", skipped)
	}
	if ds.N != 2 || !slices.Equal(ds.Labels, []int{0, 1}) || filepath.Base(ds.Files[1]) != "good2.png" {
		t.Fatalf("after skipping: N=%d labels %v files %v", ds.N, ds.Labels, ds.Files)
	}
	if got := rgbAt(ds, 1, 4, 4); !near(got, blue, 1) {
		t.Errorf("image after a skipped one = %v, want blue", got)
	}

	// Default SkipBadFiles(nil): a one-line warning with the count.
	var warn bytes.Buffer
	ds, err = LoadImageFolder(dir, SkipBadFiles(nil), func(c *folderConfig) { c.warnings = &warn })
	if err != nil || ds.N != 2 {
		t.Fatal(err)
	}
	if w := warn.String(); !strings.Contains(w, "skipped 2 of 4 images") || !strings.Contains(w, "broken.png") {
		t.Errorf("warning %q", w)
	}

	// Too many pixels.
	_, err = LoadImageFolder(filepath.Join(dir, "a"), WithMaxPixels(10), SkipBadFiles(func(string, error) {}))
	wantErr(t, err, "none of the 2 images")
	one := t.TempDir()
	writeFile(t, filepath.Join(one, "good.png"), good2)
	_, err = LoadImageFolder(one, WithMaxPixels(10))
	wantErr(t, err, "good.png", "8x8", "WithMaxPixels")

	// Folder shapes.
	_, err = LoadImageFolder(filepath.Join(dir, "nope"))
	wantErr(t, err, "nope")
	mixed := t.TempDir()
	writeFile(t, filepath.Join(mixed, "a", "1.png"), good2)
	writeFile(t, filepath.Join(mixed, "2.png"), good2)
	_, err = LoadImageFolder(mixed)
	wantErr(t, err, "both class sub-folders", "2.png")
	empty := t.TempDir()
	os.Mkdir(filepath.Join(empty, "cls"), 0o755)
	_, err = LoadImageFolder(empty)
	wantErr(t, err, "no image files", "cls")
	_, err = LoadImageFolder(t.TempDir())
	wantErr(t, err, "no image files")
	_, err = LoadImageFolder(dir, WithSize(0))
	wantErr(t, err, "size 0")
}

// TestLoadImageFolderSplitMatchesClassesByName: a test/ folder with fewer
// classes than train/ keeps each image's class name (not its position).
func TestLoadImageFolderSplitMatchesClassesByName(t *testing.T) {
	dir := t.TempDir()
	img := encodePNG(t, bands(8, 8, true, red))
	for _, f := range []string{"train/airplane/1.png", "train/cat/1.png", "train/ship/1.png", "train/ship/2.png",
		"test/airplane/1.png", "test/ship/1.png", "test/ship/2.png"} {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(f)), img)
	}
	if !HasSplitFolders(dir) || HasSplitFolders(filepath.Join(dir, "train")) {
		t.Fatal("HasSplitFolders")
	}
	want := []string{"airplane", "cat", "ship"}
	test, err := LoadImageFolderSplit(dir, Test, WithSize(4))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(test.ClassNames, want) || !slices.Equal(test.Labels, []int{0, 2, 2}) {
		t.Fatalf("test split: classes %v labels %v, want %v and [0 2 2]", test.ClassNames, test.Labels, want)
	}
	all, err := LoadImageFolderSplit(dir, All, WithSize(4))
	if err != nil {
		t.Fatal(err)
	}
	if all.N != 7 || !slices.Equal(all.ClassNames, want) || !slices.Equal(all.Labels, []int{0, 1, 2, 2, 0, 2, 2}) {
		t.Fatalf("all: N=%d classes %v labels %v", all.N, all.ClassNames, all.Labels)
	}
	if !strings.HasSuffix(all.Name, "/all") || !strings.HasSuffix(test.Name, "/test") {
		t.Errorf("names %q %q", all.Name, test.Name)
	}
	// A test class that training lacks is an error.
	writeFile(t, filepath.Join(dir, "test", "zebra", "1.png"), img)
	for _, split := range []Split{Test, All} {
		_, err := LoadImageFolderSplit(dir, split, WithSize(4))
		wantErr(t, err, "zebra", "not among")
	}
	// A folder without splits: Test is an error, All is the whole folder.
	_, err = LoadImageFolderSplit(filepath.Join(dir, "train"), Test)
	wantErr(t, err, "no train/ and test/")
	whole, err := LoadImageFolderSplit(filepath.Join(dir, "train"), All, WithSize(4))
	if err != nil || whole.N != 4 {
		t.Fatalf("whole folder: %v", err)
	}
}

// TestWithClassNamesAndConcat: Concat refuses parts whose classes differ by
// name, WithClassNames maps them.
func TestWithClassNamesAndConcat(t *testing.T) {
	a := &Dataset{Name: "a", N: 2, Height: 1, Width: 1, Channels: 3, Images: make([]uint8, 6),
		Labels: []int{0, 1}, ClassNames: []string{"cat", "dog"}}
	b := &Dataset{Name: "b", N: 2, Height: 1, Width: 1, Channels: 3, Images: make([]uint8, 6),
		Labels: []int{0, 1}, ClassNames: []string{"dog", "emu"}}
	_, err := Concat(a, b)
	wantErr(t, err, "WithClassNames")
	names := []string{"cat", "dog", "emu"}
	b2, err := b.WithClassNames(names)
	if err != nil || !slices.Equal(b2.Labels, []int{1, 2}) || !slices.Equal(b.Labels, []int{0, 1}) {
		t.Fatalf("WithClassNames: %v labels %v (original %v)", err, b2.Labels, b.Labels)
	}
	_, err = b.WithClassNames([]string{"cat", "dog"})
	wantErr(t, err, "emu")
	_, err = (&Dataset{Name: "u"}).WithClassNames(names)
	wantErr(t, err, "no labels")
}
