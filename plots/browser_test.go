package plots

import (
	"context"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// findBrowser returns a headless-capable Chromium: $TSIMCNE_BROWSER, else
// the first of the usual names on $PATH.
func findBrowser() string {
	if b := os.Getenv("TSIMCNE_BROWSER"); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshot renders url in headless Chromium at 800×600 and returns the
// screenshot.
func screenshot(t *testing.T, browser, url string) image.Image {
	t.Helper()
	dir := t.TempDir()
	shot := filepath.Join(dir, "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=800,600",
		"--hide-scrollbars", "--virtual-time-budget=2000", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", browser, err, out)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot from %s: %v\n%s", browser, err, out)
	}
	return decodePNG(t, b)
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
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("TSIMCNE_REQUIRE_BROWSER") == "1" {
			t.Fatal("no Chromium found (TSIMCNE_REQUIRE_BROWSER=1): apt-get install -y chromium, or set TSIMCNE_BROWSER")
		}
		t.Skip("no Chromium found: skipping the browser check (apt-get install -y chromium, or set TSIMCNE_BROWSER)")
	}
	// Three clusters: class 0 right (10,0), class 1 upper left, class 2
	// lower left; opaque points so that their centres have the exact colour.
	xy, labels, names := blobs(3, 400, 41)
	ds := solidImages(labels)
	page, err := Interactive(xy, labels, names, Images(ds), PointRadius(3), Alpha(1), Title("browser test"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "map.html")
	if err := page.Save(path); err != nil {
		t.Fatal(err)
	}
	pal := paletteNRGBA(3)

	img := screenshot(t, browser, "file://"+path)
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 600 {
		t.Fatalf("screenshot is %v", b)
	}
	// The plot is left of the 190 px legend panel, below the header.
	plotR := image.Rect(0, 50, 800-192, 600)
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
	img = screenshot(t, browser, "file://"+path+"#hide=1&point=900")
	if n := countIn(img, plotR, pal[1], 4); n > 0 {
		t.Errorf("hidden class 1 still has %d pixels in the plot", n)
	}
	if n := countIn(img, plotR, pal[0], 4); n < 1000 {
		t.Errorf("class 0 lost its points when class 1 was hidden: %d pixels", n)
	}
	if n := countIn(img, plotR, classImageColor(2), 12); n < 80*80 {
		t.Errorf("hover thumbnail: %d pixels of image colour %v, want >= %d", n, classImageColor(2), 80*80)
	}
}
