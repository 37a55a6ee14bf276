package plots

import (
	"math"
	"strings"
	"testing"
)

func TestThumbnails(t *testing.T) {
	xy, labels, names := blobs(3, 200, 21)
	ds := solidImages(labels)
	f, err := Thumbnails(xy, labels, names, Images(ds), Grid(12), Size(600, 450))
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	st := parseSVG(t, svg)
	if st.points != 600 || len(st.legend) != 3 {
		t.Errorf("thumbnail SVG: %d points, %d legend entries; want 600, 3", st.points, len(st.legend))
	}
	if !strings.Contains(string(svg), `xlink:href="data:image/png;base64,`) {
		t.Errorf("thumbnails are not embedded as base64 PNG")
	}
	// One image per occupied cell.
	p, _ := newPoints(xy, labels, names)
	c := newConfig([]Option{Images(ds), Grid(12), Size(600, 450)})
	l, _ := layoutMap(p, c, "thumbnails")
	cells := thumbnailCells(l, c)
	if st.images != len(cells) || len(cells) < 6 || len(cells) > 12*12 {
		t.Errorf("%d images for %d occupied cells", st.images, len(cells))
	}
	// Each cell shows the point nearest to its centre (brute force), and
	// each cell has at least MinPoints points (default 2).
	cell := l.v.w / 12
	for _, tc := range cells {
		cx, cy := l.v.x0+(float64(tc.col)+0.5)*cell, l.v.top()+(float64(tc.row)+0.5)*cell
		best, bd, count := -1, math.Inf(1), 0
		for i := 0; i < p.n; i++ {
			x, y := float64(l.px[i]), float64(l.py[i])
			if math.Abs(x-cx) > cell/2 || math.Abs(y-cy) > cell/2 {
				continue
			}
			count++
			if d := math.Hypot(x-cx, y-cy); d < bd {
				best, bd = i, d
			}
		}
		if best != tc.index || count < 2 {
			t.Errorf("cell (%d,%d): chose %d, nearest is %d; %d points", tc.col, tc.row, tc.index, best, count)
		}
	}
	// The PNG shows the images: all three solid colours, in quantity.
	b, _ := f.PNG()
	img := decodePNG(t, b)
	for cl := 0; cl < 3; cl++ {
		if n := countNear(img, classImageColor(cl), 2); n < 200 {
			t.Errorf("class %d thumbnails: %d pixels of their colour, want >= 200", cl, n)
		}
	}
}

func TestThumbnailsNeedImages(t *testing.T) {
	xy, labels, names := blobs(2, 10, 22)
	if _, err := Thumbnails(xy, labels, names); err == nil || !strings.Contains(err.Error(), "Images") {
		t.Errorf("no images: error %v", err)
	}
	ds := solidImages(labels[:5])
	if _, err := Thumbnails(xy, labels, names, Images(ds)); err == nil || !strings.Contains(err.Error(), "5 images") {
		t.Errorf("wrong number of images: error %v", err)
	}
	ds = solidImages(labels)
	ds.Images = ds.Images[:10]
	if _, err := Thumbnails(xy, labels, names, Images(ds)); err == nil || !strings.Contains(err.Error(), "pixel bytes") {
		t.Errorf("truncated images: error %v", err)
	}
}
