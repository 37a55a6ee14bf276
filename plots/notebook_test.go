package plots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Outside a notebook, Display and the Show functions write files.
func TestDisplayOutsideNotebook(t *testing.T) {
	if InNotebook() {
		t.Skip("running inside a notebook")
	}
	xy, labels, names := blobs(3, 50, 51)
	dir := t.TempDir()
	f, err := Map(xy, labels, names, OutputPath(filepath.Join(dir, "m.svg")))
	if err != nil {
		t.Fatal(err)
	}
	path, err := f.Display()
	if err != nil || path != filepath.Join(dir, "m.svg") {
		t.Fatalf("Display: %q, %v", path, err)
	}
	if b, _ := os.ReadFile(path); parseSVG(t, b).points != 150 {
		t.Errorf("displayed SVG has the wrong points")
	}
	// Without OutputPath: a temporary PNG.
	f, _ = Map(xy, labels, names)
	path, err = f.Display()
	if err != nil || !strings.HasSuffix(path, ".png") {
		t.Fatalf("Display: %q, %v", path, err)
	}
	b, _ := os.ReadFile(path)
	decodePNG(t, b)
	os.Remove(path)

	path, err = ShowInteractive(xy, labels, names, OutputPath(filepath.Join(dir, "p.html")))
	if err != nil || path != filepath.Join(dir, "p.html") {
		t.Fatalf("ShowInteractive: %q, %v", path, err)
	}
	out, paths, err := ShowOutliers(xy, labels, names, Images(solidImages(labels)), TopN(4),
		OutputPath(filepath.Join(dir, "o.png")))
	if err != nil || len(out) != 4 || len(paths) != 2 {
		t.Fatalf("ShowOutliers: %d outliers, paths %v, %v", len(out), paths, err)
	}
	for _, want := range []string{"o-map.png", "o-gallery.png"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("ShowOutliers did not write %s", want)
		}
	}
	if _, err := ShowThumbnails(xy, labels, names); err == nil {
		t.Errorf("ShowThumbnails without images: no error")
	}
}
