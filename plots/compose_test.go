package plots

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

// TestRowPlacesFiguresSideBySide checks that Row keeps each figure's
// pixels, the second one moved right by the first one's width, in PNG and
// SVG.
func TestRowPlacesFiguresSideBySide(t *testing.T) {
	xy := []float32{0, 0, 1, 1, 2, 0.5}
	a, err := Map(xy, []int{0, 1, 0}, []string{"cat", "dog"}, Size(200, 150), NoLegend(), Title("left"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Map(xy, []int{0, 1, 0}, []string{"cat", "dog"}, Size(300, 180), Title("right"))
	if err != nil {
		t.Fatal(err)
	}
	row, err := Row(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if row.Width() != 500 || row.Height() != 180 {
		t.Fatalf("row is %vx%v, want 500x180", row.Width(), row.Height())
	}
	ra, rb, rr := a.Image(), b.Image(), row.Image()
	for y := 0; y < 150; y++ {
		for x := 0; x < 200; x++ {
			if ra.RGBAAt(x, y) != rr.RGBAAt(x, y) {
				t.Fatalf("left pixel (%d,%d): %v in the row, %v alone", x, y, rr.RGBAAt(x, y), ra.RGBAAt(x, y))
			}
		}
	}
	diff := 0
	for y := 0; y < 180; y++ {
		for x := 0; x < 300; x++ {
			if rb.RGBAAt(x, y) != rr.RGBAAt(200+x, y) {
				diff++
			}
		}
	}
	// Anti-aliased edges may round differently at another offset; the
	// picture must be the same.
	if diff > 300*180/200 {
		t.Errorf("right figure: %d of %d pixels differ in the row", diff, 300*180)
	}
	svg, err := row.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), ">left<") || !strings.Contains(string(svg), ">right<") {
		t.Error("the row's SVG lacks a title")
	}
	if _, err := Row(); err == nil {
		t.Error("Row() of nothing: no error")
	}
}

// TestImageGridCaptions checks the grid's layout and captions.
func TestImageGridCaptions(t *testing.T) {
	var imgs []image.Image
	for i := range 5 {
		img := image.NewRGBA(image.Rect(0, 0, 8, 8))
		for p := range img.Pix {
			img.Pix[p] = uint8(50 * i)
			if p%4 == 3 {
				img.Pix[p] = 255
			}
		}
		imgs = append(imgs, img)
	}
	f, err := ImageGrid(imgs, []string{"airplane", "cat", "", "dog", "truck"}, Grid(3), ThumbnailSize(40))
	if err != nil {
		t.Fatal(err)
	}
	if f.Width() != 3*40+2*6+2*margin {
		t.Errorf("width %v, want 3 cells", f.Width())
	}
	svg, _ := f.SVG()
	for _, s := range []string{">airplane<", ">cat<", ">truck<"} {
		if !bytes.Contains(svg, []byte(s)) {
			t.Errorf("SVG lacks caption %s", s)
		}
	}
	// The third image (value 100) fills its cell, enlarged without smoothing.
	img := f.Image()
	x, y := margin+2*(40+6)+20, margin+20
	if got := img.RGBAAt(x, y); got != (color.RGBA{100, 100, 100, 255}) {
		t.Errorf("pixel in the third cell: %v, want grey 100", got)
	}
	if _, err := ImageGrid(imgs, []string{"a"}); err == nil {
		t.Error("5 images with 1 caption: no error")
	}
}

// TestScaleBarLength checks the scale bar's round length: the same points
// at ten times the spread get a bar ten times as long in units, drawn as
// long in pixels.
func TestScaleBarLength(t *testing.T) {
	xy := []float32{0, 0, 8, 3, 4, 6}
	big := make([]float32, len(xy))
	for i, v := range xy {
		big[i] = 10 * v
	}
	var bars [2]lineItem
	for k, pts := range [][]float32{xy, big} {
		f, err := Map(pts, nil, nil, Size(300, 300), ScaleBar())
		if err != nil {
			t.Fatal(err)
		}
		svg, _ := f.SVG()
		want := map[int]string{0: ">2 units<", 1: ">20 units<"}[k]
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("spread %d: no %q in the SVG", k, want)
		}
		for _, it := range f.items {
			if l, ok := it.(lineItem); ok && l.y1 == l.y2 {
				bars[k] = l
			}
		}
	}
	if w0, w1 := bars[0].x2-bars[0].x1, bars[1].x2-bars[1].x1; w0 < 20 || math.Abs(w0-w1) > 1e-6 {
		t.Errorf("bar widths %v and %v px, want equal and visible", w0, w1)
	}
}

func TestWithTitle(t *testing.T) {
	f, err := Map([]float32{0, 0, 1, 1}, nil, nil, Size(200, 100))
	if err != nil {
		t.Fatal(err)
	}
	g := f.WithTitle("cnn4, 60 000 images")
	if g.Width() != 200 || g.Height() <= 100 {
		t.Fatalf("titled figure %vx%v", g.Width(), g.Height())
	}
	svg, _ := g.SVG()
	if !bytes.Contains(svg, []byte(">cnn4, 60 000 images<")) {
		t.Error("title missing from the SVG")
	}
	long := g.WithTitle(strings.Repeat("very long title ", 40))
	svg, _ = long.SVG()
	if !bytes.Contains(svg, []byte("…")) {
		t.Error("a title wider than the figure was not shortened")
	}
	if len(f.items) == len(g.items) {
		t.Error("WithTitle changed the original figure or added nothing")
	}
}
