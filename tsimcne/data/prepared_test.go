package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/image/draw"
)

// prepImage returns a w x h test image whose pixels depend on seed.
func prepImage(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(seed*37 + x*11), uint8(seed*53 + y*7), uint8(seed*5 + x*y), 255})
		}
	}
	return img
}

// prepWrite writes img as PNG (or JPEG for a .jpg name) to path.
func prepWrite(tb testing.TB, path string, img image.Image) {
	tb.Helper()
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// prepFolder writes classes x perClass PNG images (sizes varying around
// 10x10) into a new folder and returns it.
func prepFolder(t *testing.T, classes, perClass int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "imgs")
	for c := range classes {
		for i := range perClass {
			prepWrite(t, filepath.Join(dir, fmt.Sprintf("class%d", c), fmt.Sprintf("img%02d.png", i)),
				prepImage(10+i%3, 10+c%2, c*100+i))
		}
	}
	return dir
}

// prepEqual fails unless got equals want field by field.
func prepEqual(t *testing.T, got, want *Dataset) {
	t.Helper()
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.N != want.N || got.Height != want.Height || got.Width != want.Width || got.Channels != want.Channels {
		t.Fatalf("got %q N=%d %dx%dx%d, want %q N=%d %dx%dx%d", got.Name, got.N, got.Height, got.Width, got.Channels,
			want.Name, want.N, want.Height, want.Width, want.Channels)
	}
	if !bytes.Equal(got.Images, want.Images) {
		t.Error("pixels differ")
	}
	if !slices.Equal(got.Labels, want.Labels) || (got.Labels == nil) != (want.Labels == nil) {
		t.Errorf("labels %v, want %v", got.Labels, want.Labels)
	}
	if !slices.Equal(got.ClassNames, want.ClassNames) || (got.ClassNames == nil) != (want.ClassNames == nil) {
		t.Errorf("class names %v, want %v", got.ClassNames, want.ClassNames)
	}
	if !slices.Equal(got.Files, want.Files) {
		t.Errorf("files %v, want %v", got.Files, want.Files)
	}
}

func TestPreparedMatchesLoadImageFolder(t *testing.T) {
	dir := prepFolder(t, 3, 5)
	loose := filepath.Join(t.TempDir(), "loose")
	for i := range 4 {
		prepWrite(t, filepath.Join(loose, fmt.Sprintf("%d.png", i)), prepImage(12, 7, i))
	}
	for _, tc := range []struct {
		name string
		dir  string
		opts []FolderOption
	}{
		{"default", dir, nil},
		{"size8-pad", dir, []FolderOption{WithSize(8), WithFit(Pad), WithBackground(color.RGBA{R: 200, A: 255})}},
		{"bilinear", dir, []FolderOption{WithSize(5), WithInterpolator(draw.BiLinear)}},
		{"unlabelled", loose, []FolderOption{WithSize(6)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := LoadImageFolder(tc.dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "x.gsd")
			p, err := PrepareImageFolder(tc.dir, path, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			prepEqual(t, p.Dataset, want)
			q, err := OpenPrepared(path)
			if err != nil {
				t.Fatal(err)
			}
			prepEqual(t, q.Dataset, want)
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			if q.Images != nil {
				t.Error("Images not nil after Close")
			}
			if err := q.Close(); err != nil {
				t.Fatal("second Close:", err)
			}
			// No temporary files are left behind.
			if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
				t.Errorf("folder holds %d entries, want just the prepared file", len(ents))
			}
			// The mapping is read-only: a write faults (instead of being lost
			// when the pages are released) and never reaches the file.
			if p.Mapped() && !writeFaults(p.Images) {
				t.Error("writing to the mapping did not fault")
			}
			r, err := OpenPrepared(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			prepEqual(t, r.Dataset, want)
		})
	}
}

// writeFaults reports whether writing to b faults.
func writeFaults(b []byte) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() { faulted = recover() != nil }()
	b[0] ^= 0xff
	return false
}

// prepCached calls LoadImageFolderCached and returns the result and the
// prepared file's FileInfo.
func prepCached(t *testing.T, dir, cache string, opts ...FolderOption) (*Prepared, os.FileInfo) {
	t.Helper()
	p, err := LoadImageFolderCached(dir, cache, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	want, err := LoadImageFolder(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	prepEqual(t, p.Dataset, want)
	fi, err := os.Stat(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	return p, fi
}

func TestLoadImageFolderCachedReuseAndChanges(t *testing.T) {
	dir := prepFolder(t, 3, 5)
	cache := filepath.Join(t.TempDir(), "cache")
	p0, fi0 := prepCached(t, dir, cache)

	reused := func(what string, fi os.FileInfo) {
		t.Helper()
		if !os.SameFile(fi0, fi) || !fi.ModTime().Equal(fi0.ModTime()) {
			t.Errorf("%s: prepared again, want the file reused", what)
		}
	}
	remade := func(what string, fi os.FileInfo) {
		t.Helper()
		if os.SameFile(fi0, fi) {
			t.Errorf("%s: file reused, want it prepared again", what)
		}
		fi0 = fi
	}

	_, fi := prepCached(t, dir, cache)
	reused("unchanged folder", fi)

	// The same folder through another spelling of its path.
	p, fi := prepCached(t, dir+string(filepath.Separator)+".", cache)
	reused("other spelling", fi)
	if p.Files[0] != filepath.Join(dir, "class0", "img00.png") {
		t.Errorf("file %s", p.Files[0])
	}

	prepWrite(t, filepath.Join(dir, "class1", "new.png"), prepImage(9, 9, 77))
	_, fi = prepCached(t, dir, cache)
	remade("added image", fi)

	if err := os.Remove(filepath.Join(dir, "class2", "img03.png")); err != nil {
		t.Fatal(err)
	}
	_, fi = prepCached(t, dir, cache)
	remade("removed image", fi)

	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "class0", "img01.png"), later, later); err != nil {
		t.Fatal(err)
	}
	_, fi = prepCached(t, dir, cache)
	remade("touched image", fi)

	// Same size, same mtime, other content is not detected (by design: stat
	// only), but a rewritten file has a new mtime.
	prepWrite(t, filepath.Join(dir, "class0", "img02.png"), prepImage(10, 10, 999))
	_, fi = prepCached(t, dir, cache)
	remade("rewritten image", fi)

	if err := os.Mkdir(filepath.Join(dir, "class9"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, fi = prepCached(t, dir, cache)
	remade("new empty class folder", fi)

	// Other options get a file of their own; the default one stays.
	p8, fi8 := prepCached(t, dir, cache, WithSize(8))
	if p8.Path == p0.Path || os.SameFile(fi8, fi0) {
		t.Error("WithSize(8) reused the default file")
	}
	_, fi = prepCached(t, dir, cache)
	reused("back to defaults", fi)

	// A file under the cached name with other options (as if hashes
	// collided) or a damaged one is prepared again.
	path, err := PreparedPath(dir, cache)
	if err != nil || path != p0.Path {
		t.Fatalf("PreparedPath = %s, %v; want %s", path, err, p0.Path)
	}
	if _, err := PrepareImageFolder(dir, path, WithSize(8)); err != nil {
		t.Fatal(err)
	}
	fi0, _ = os.Stat(path)
	_, fi = prepCached(t, dir, cache)
	remade("other options in the file", fi)
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi0, _ = os.Stat(path)
	_, fi = prepCached(t, dir, cache)
	if fi.Size() <= 7 {
		t.Error("damaged file not replaced")
	}
	// Only prepared files are in the cache folder.
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), PreparedExt) {
			t.Errorf("left-over file %s", e.Name())
		}
	}
}

func TestOpenPreparedDamaged(t *testing.T) {
	dir := prepFolder(t, 2, 3)
	path := filepath.Join(t.TempDir(), "x.gsd")
	p, err := PrepareImageFolder(dir, path, WithSize(4))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	indexOff := PreparedHeaderSize + 6*4*4*3
	flip := func(i int) []byte {
		b := slices.Clone(good)
		b[i] ^= 0x40
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short header", good[:100], "truncated"},
		{"no records", good[:PreparedHeaderSize], "truncated"},
		{"half records", good[:PreparedHeaderSize+50], "truncated"},
		{"no index", good[:indexOff], "truncated"},
		{"half index", good[:len(good)-5], "truncated"},
		{"trailing bytes", append(slices.Clone(good), 0), "damaged"},
		{"magic", flip(0), "not a prepared dataset"},
		{"version", func() []byte { b := slices.Clone(good); b[8] = 9; return b }(), "version 9"},
		{"header N", flip(16), "header"},
		{"header shape", flip(25), "header"},
		{"index", flip(indexOff + 10), "damaged index"},
		{"index end", flip(len(good) - 1), "damaged index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.gsd")
			if err := os.WriteFile(bad, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := OpenPrepared(bad)
			if err == nil {
				p.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), bad) {
				t.Errorf("error %q, want one naming the file and %q", err, tc.want)
			}
		})
	}
	if _, err := OpenPrepared(filepath.Join(t.TempDir(), "missing.gsd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Damage to pixel bytes is not detected, but nothing else changes.
	b := flip(PreparedHeaderSize + 3)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := OpenPrepared(path)
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
}

func TestPrepareImageFolderBadImages(t *testing.T) {
	dir := prepFolder(t, 2, 4)
	for _, name := range []string{"class0/bad.png", "class1/img01.png", "class1/zz.jpg"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not an image"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	path := filepath.Join(out, "x.gsd")

	// Without SkipBadFiles: the same error as LoadImageFolder, no file.
	_, wantErr := LoadImageFolder(dir, WithSize(6))
	_, err := PrepareImageFolder(dir, path, WithSize(6))
	var bad, wantBad *BadImagesError
	if !errors.As(err, &bad) || !errors.As(wantErr, &wantBad) {
		t.Fatalf("errors %v and %v, want BadImagesError", err, wantErr)
	}
	if !slices.Equal(bad.Files, wantBad.Files) || bad.Total != wantBad.Total || err.Error() != wantErr.Error() {
		t.Errorf("error %v, want %v", err, wantErr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("failed run left %d files", len(ents))
	}

	// With SkipBadFiles: the same dataset and the same files reported.
	var wantSkipped, skipped []string
	want, err := LoadImageFolder(dir, WithSize(6), SkipBadFiles(func(p string, err error) { wantSkipped = append(wantSkipped, p) }))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PrepareImageFolder(dir, path, WithSize(6), SkipBadFiles(func(p string, err error) { skipped = append(skipped, p) }))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	prepEqual(t, p.Dataset, want)
	if len(wantSkipped) != 3 || !slices.Equal(skipped, wantSkipped) {
		t.Errorf("skipped %v, want %v", skipped, wantSkipped)
	}
	if len(p.Skipped) != 3 || p.Skipped[1].File != wantSkipped[1] || p.Skipped[1].Err == "" {
		t.Errorf("Prepared.Skipped = %v", p.Skipped)
	}

	// Reused from the cache, the skipped files are reported again.
	cache := t.TempDir()
	for range 2 {
		skipped = nil
		c, err := LoadImageFolderCached(dir, cache, WithSize(6), SkipBadFiles(func(p string, err error) { skipped = append(skipped, p) }))
		if err != nil {
			t.Fatal(err)
		}
		prepEqual(t, c.Dataset, want)
		c.Close()
		if !slices.Equal(skipped, wantSkipped) {
			t.Errorf("cached: skipped %v, want %v", skipped, wantSkipped)
		}
	}
	// Without SkipBadFiles the cached load fails like LoadImageFolder.
	if _, err := LoadImageFolderCached(dir, cache, WithSize(6)); !errors.As(err, &bad) {
		t.Errorf("cached without SkipBadFiles: %v", err)
	}

	// All images bad.
	allBad := filepath.Join(t.TempDir(), "allbad")
	if err := os.MkdirAll(allBad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(allBad, "a.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareImageFolder(allBad, path, SkipBadFiles(func(string, error) {})); err == nil || !strings.Contains(err.Error(), "none of the 1 images") {
		t.Errorf("all bad: %v", err)
	}
	// Options checked as LoadImageFolder does.
	if _, err := PrepareImageFolder(dir, path, WithSize(0)); err == nil {
		t.Error("size 0: no error")
	}
	if _, err := PrepareImageFolder(filepath.Join(dir, "missing"), path); err == nil {
		t.Error("missing folder: no error")
	}
}

func TestFolderFingerprint(t *testing.T) {
	dir := prepFolder(t, 2, 2)
	a, err := FolderFingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FolderFingerprint(dir)
	c, _ := FolderFingerprint(dir, WithInterpolator(draw.BiLinear))
	d, _ := FolderFingerprint(dir, WithBackground(color.White))
	e, _ := FolderFingerprint(dir, WithInterpolator(&draw.Kernel{Support: 1, At: func(t float64) float64 { return 1 - t }}))
	f, _ := FolderFingerprint(dir, WithInterpolator(&draw.Kernel{Support: 1, At: func(t float64) float64 { return 1 - t }}))
	if a != b || a == c || a == d || c == d || e != f || e == a || e == c {
		t.Errorf("fingerprints %s %s %s %s %s %s", a, b, c, d, e, f)
	}
}

// BenchmarkPrepareImageFolder prepares a folder of 2 000 64x64 JPEGs in 10
// classes at the default size (32) and reports the peak heap in use above
// the start (sampled every millisecond) besides the time per preparation.
func BenchmarkPrepareImageFolder(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.gsd")
	prepBench(b, func(dir string) error {
		p, err := PrepareImageFolder(dir, path)
		if err != nil {
			return err
		}
		return p.Close()
	})
}

// BenchmarkLoadImageFolderJPEG2000 is LoadImageFolder on the folder of
// BenchmarkPrepareImageFolder, for comparison.
func BenchmarkLoadImageFolderJPEG2000(b *testing.B) {
	prepBench(b, func(dir string) error {
		_, err := LoadImageFolder(dir)
		return err
	})
}

// prepBench runs load on a generated folder of 2 000 64x64 JPEGs and
// reports the peak heap and the time per image.
func prepBench(b *testing.B, load func(dir string) error) {
	const n = 2000
	dir := filepath.Join(b.TempDir(), "jpegs")
	for i := range n {
		prepWrite(b, filepath.Join(dir, fmt.Sprintf("c%d", i%10), fmt.Sprintf("%05d.jpg", i)), prepImage(64, 64, i))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		if err := load(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	if pk := peak.Load(); pk > base {
		b.ReportMetric(float64(pk-base)/(1<<20), "peak-heap-MiB")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/image")
}

// TestLoadImageFolderWithCache: the WithCache option gives LoadImageFolder
// (and LoadImageFolderSplit) the prepared file: the same images, decoded
// once.
func TestLoadImageFolderWithCache(t *testing.T) {
	dir := prepFolder(t, 2, 3)
	cache := t.TempDir()
	want, err := LoadImageFolder(dir, WithSize(8))
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadImageFolder(dir, WithSize(8), WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	prepEqual(t, got, want)
	files, _ := filepath.Glob(filepath.Join(cache, "*"+PreparedExt))
	if len(files) != 1 {
		t.Fatalf("cache holds %v, want one prepared file", files)
	}
	st1, _ := os.Stat(files[0])
	again, err := LoadImageFolder(dir, WithSize(8), WithCache(cache))
	if err != nil {
		t.Fatal(err)
	}
	prepEqual(t, again, want)
	st2, _ := os.Stat(files[0])
	if !os.SameFile(st1, st2) || !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("the prepared file was written again for an unchanged folder")
	}
}

// TestPrepareSubsetAndSlice: PrepareSubset gives Subset's images, labels
// and files through a mapped file, and Slice shares a part of it.
func TestPrepareSubsetAndSlice(t *testing.T) {
	dir := prepFolder(t, 3, 5)
	p, err := PrepareImageFolder(dir, filepath.Join(t.TempDir(), "all.gsd"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	order := []int{14, 0, 7, 3, 9}
	path := filepath.Join(t.TempDir(), "sub.gsd")
	sub, err := PrepareSubset(p.Dataset, order, path)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	want := p.Subset(order)
	prepEqual(t, sub.Dataset, want)
	if sub.Mapped() != p.Mapped() {
		t.Errorf("subset mapped %v, source %v", sub.Mapped(), p.Mapped())
	}
	sl, err := sub.Slice(2, 5)
	if err != nil {
		t.Fatal(err)
	}
	prepEqual(t, sl, want.Subset([]int{2, 3, 4}))
	if err := sl.ReleasePages(0, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Slice(3, 6); err == nil {
		t.Error("Slice beyond the images: no error")
	}
	// Unlabelled, without files: none in the result either.
	plain := &Dataset{Name: "mem", N: 3, Height: 2, Width: 2, Channels: 3, Images: make([]byte, 36)}
	plain.Images[12] = 7
	q, err := PrepareSubset(plain, []int{1}, filepath.Join(t.TempDir(), "q.gsd"))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if q.N != 1 || q.Images[0] != 7 || q.Labels != nil || q.Files != nil {
		t.Errorf("subset of an unlabelled in-memory set: n %d, first pixel %d, labels %v, files %v", q.N, q.Images[0], q.Labels, q.Files)
	}
	if _, err := PrepareSubset(plain, []int{3}, filepath.Join(t.TempDir(), "r.gsd")); err == nil {
		t.Error("index out of range: no error")
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want just the subset file", len(ents))
	}
}
