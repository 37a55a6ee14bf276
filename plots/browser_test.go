package plots

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosimcne/gosimcne/internal/browser"
)

// screenshot renders url in headless Chromium at 800×600 (2 s of virtual
// time) and returns the screenshot.
func screenshot(t *testing.T, browserPath, url string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := browser.Screenshot(ctx, browserPath, url, shot, 800, 600, 2000); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	return decodePNG(t, b)
}

// dumpDOM loads url in headless Chromium (real time, no virtual time: the
// page's own timings stay real) and returns the DOM after the load.
func dumpDOM(t *testing.T, browserPath, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dom, err := browser.DumpDOM(ctx, browserPath, url, 800, 600)
	if err != nil {
		t.Fatal(err)
	}
	return dom
}

// countIn counts the pixels of img inside r within tol of col.
func countIn(img image.Image, r image.Rectangle, col color.NRGBA, tol int) int {
	return countNear(subImage(img, r), col, tol)
}

func subImage(img image.Image, r image.Rectangle) image.Image {
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
}

// TestBrowserRendersPage opens the interactive page in headless Chromium and
// checks from screenshots that the points are drawn in their class colours
// at the right places, that #hide= hides a class and that #point= shows the
// hover thumbnail. It skips when no Chromium is installed, unless
// TSIMCNE_REQUIRE_BROWSER=1 (as in CI), where it fails instead. Install with
// `apt-get install -y chromium`, or point $TSIMCNE_BROWSER at a binary.
func TestBrowserRendersPage(t *testing.T) {
	b := needBrowser(t)
	// Three clusters: class 0 right (10,0), class 1 upper left, class 2
	// lower left; opaque points so that their centres have the exact colour.
	xy, labels, names := blobs(3, 400, 41)
	ds := solidImages(labels)
	url := pageURL(t, t.TempDir(), xy, labels, names, Images(ds), PointRadius(3), Alpha(1), Title("browser test"))
	pal := paletteNRGBA(3)

	img := screenshot(t, b, url)
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 600 {
		t.Fatalf("screenshot is %v", b)
	}
	plotR := plotRect
	mid := (plotR.Min.X + plotR.Max.X) / 2
	right := image.Rect(mid, plotR.Min.Y, plotR.Max.X, plotR.Max.Y)
	upperLeft := image.Rect(plotR.Min.X, plotR.Min.Y, mid, 325)
	lowerLeft := image.Rect(plotR.Min.X, 325, mid, plotR.Max.Y)
	for c, r := range []image.Rectangle{right, upperLeft, lowerLeft} {
		in := countIn(img, r, pal[c], 4)
		all := countIn(img, plotR, pal[c], 4)
		t.Logf("class %d: %d pixels of its colour in the plot, %d in its region", c, all, in)
		if in < 1000 {
			t.Errorf("class %d: %d pixels of colour %v in its region %v, want >= 1000: points not drawn", c, in, pal[c], r)
		}
		if float64(in) < 0.95*float64(all) {
			t.Errorf("class %d: only %d of %d pixels in its region: points misplaced", c, in, all)
		}
	}
	// The legend lists the classes with their colours.
	legend := image.Rect(800-190, 50, 800, 200)
	for c := range pal {
		if n := countIn(img, legend, pal[c], 4); n < 20 {
			t.Errorf("legend swatch of class %d: %d pixels", c, n)
		}
	}

	// Hide class 1, hover a point of class 2: class 1 vanishes from the
	// plot and the tooltip shows the point's image (solid colour, 96 px).
	img = screenshot(t, b, url+"#hide=1&point=900")
	if n := countIn(img, plotR, pal[1], 4); n > 0 {
		t.Errorf("hidden class 1 still has %d pixels in the plot", n)
	}
	if n := countIn(img, plotR, pal[0], 4); n < 1000 {
		t.Errorf("class 0 lost its points when class 1 was hidden: %d pixels", n)
	}
	if n := countIn(img, plotR, classImageColor(2), 12); n < 80*80 {
		t.Errorf("hover thumbnail: %d pixels of image colour %v, want >= %d", n, classImageColor(2), 80*80)
	}

	// The same with the thumbnails in files beside the page
	// (ThumbnailFolder): the hovered point's sheet is loaded from its file.
	dir := t.TempDir()
	files := make([]string, len(labels))
	for i := range files {
		files[i] = fmt.Sprintf("photos/img-%05d.jpg", i)
	}
	url = pageURL(t, dir, xy, labels, names, Images(ds), PointRadius(3), Alpha(1), PointNames(files),
		ThumbnailFolder(filepath.Join(dir, "map_files"), "map_files"))
	img = screenshot(t, b, url+"#point=900")
	if n := countIn(img, plotR, classImageColor(2), 12); n < 80*80 {
		t.Errorf("hover thumbnail from a sheet file: %d pixels of image colour %v, want >= %d", n, classImageColor(2), 80*80)
	}
	// The tooltip names the point, from the names file loaded on hover.
	if dom := dumpDOM(t, b, url+"#point=900"); !strings.Contains(dom, files[900]) {
		t.Errorf("the tooltip of point 900 lacks its name %q", files[900])
	}
}

// plotRect is where the page draws the map in an 800×600 window: below the
// header, left of the 190 px legend panel.
var plotRect = image.Rect(0, 50, 800-192, 600)

// pageURL builds the interactive page of the points with opts, saves it as
// dir/map.html and returns its file:// URL.
func pageURL(t *testing.T, dir string, xy []float32, labels []int, names []string, opts ...Option) string {
	t.Helper()
	page, err := Interactive(xy, labels, names, opts...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "map.html")
	if err := page.Save(path); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

// needBrowser returns the Chromium to test with, or skips (fails with
// TSIMCNE_REQUIRE_BROWSER=1, as in CI) when there is none.
func needBrowser(t *testing.T) string {
	t.Helper()
	b := browser.Find()
	if b == "" {
		if os.Getenv("TSIMCNE_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium found (TSIMCNE_REQUIRE_BROWSER=1): apt-get install -y chromium, or set " + browser.EnvVar)
		}
		t.Skip("no Chromium found: skipping the browser check (apt-get install -y chromium, or set TSIMCNE_BROWSER)")
	}
	return b
}

// TestBrowserPansLargeMap is the million-point page's check at a size that
// fits CI (100 000 points; bench/million runs it at 1 000 000): the page
// opens, #view= moves the map (a pan to the right-hand cluster puts it in
// the middle of the screenshot, the others out of sight), and #bench= pans
// through the drag's code frame by frame and reports its timings.
func TestBrowserPansLargeMap(t *testing.T) {
	b := needBrowser(t)
	xy, labels, names := blobs(3, 100000/3, 43)
	url := pageURL(t, t.TempDir(), xy, labels, names, Alpha(1), Title("pan test"))
	pal := paletteNRGBA(3)
	plotR := plotRect
	centre := image.Rect(plotR.Min.X+150, plotR.Min.Y+150, plotR.Max.X-150, plotR.Max.Y-150)

	// Class 0's blob is at (10, 0); centred at 3x the fitted zoom, it fills
	// the middle, and the other blobs (10 units away) leave the screen.
	img := screenshot(t, b, url+"#view=10,0,3")
	if n := countIn(img, centre, pal[0], 4); n < 5000 {
		t.Errorf("#view=10,0,3: %d pixels of class 0 in the middle, want >= 5000: the view did not move there", n)
	}
	for c := 1; c < 3; c++ {
		if n := countIn(img, plotR, pal[c], 4); n > 0 {
			t.Errorf("#view=10,0,3: class %d still has %d pixels on screen", c, n)
		}
	}

	r, err := browser.ReadPageBench(dumpDOM(t, b, url+"#bench=20"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("100 000 points in Chromium: opened in %.0f ms, %d frames of panning (%d drew the points), %.1f ms mean, %.1f ms worst",
		r.OpenMS, r.Frames, r.Rasters, r.FrameMSMean, r.FrameMSMax)
	if r.Frames != 20 || !(r.FrameMSMean > 0) || r.FrameMSMax < r.FrameMSMean || !(r.OpenMS > 0) {
		t.Errorf("bench report %+v: want 20 timed frames", r)
	}
	// There and back by the plot's width: the view ends where it started,
	// and only the frames that left the rasterised area drew the points.
	for i := range 3 {
		if math.Abs(r.View[i]-r.Start[i]) > 1e-6*(1+math.Abs(r.Start[i])) {
			t.Errorf("after panning there and back the view is %v, started at %v", r.View, r.Start)
		}
	}
	if r.FarthestPx < 550 || r.FarthestPx > 650 {
		t.Errorf("the pan went %.0f px far, want the plot's width (about 600)", r.FarthestPx)
	}
	if r.Rasters < 1 || r.Rasters > 4 {
		t.Errorf("%d of 20 frames drew the points anew, want 1-4 (leaving the rasterised area and coming back)", r.Rasters)
	}
}
