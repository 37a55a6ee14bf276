package plots

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svgCounts parses an SVG with encoding/xml and counts the circles inside
// <g class="points">, the legend entries (with their names), images and
// rings.
type svgStats struct {
	points, images int
	legend         []string
	pointClasses   []string
}

func parseSVG(t *testing.T, svg []byte) svgStats {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var st svgStats
	var stack []string // class attribute of open elements
	inside := func(class string) bool {
		for _, c := range stack {
			if c == class {
				return true
			}
		}
		return false
	}
	root := true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if root {
				if e.Name.Local != "svg" {
					t.Fatalf("root element is <%s>, want <svg>", e.Name.Local)
				}
				root = false
			}
			class, dataClass := "", ""
			for _, a := range e.Attr {
				switch a.Name.Local {
				case "class":
					class = a.Value
				case "data-class":
					dataClass = a.Value
				}
			}
			switch {
			case e.Name.Local == "circle" && inside("points"):
				st.points++
			case e.Name.Local == "image":
				st.images++
			case e.Name.Local == "g" && class == "legend-entry":
				st.legend = append(st.legend, dataClass)
			case e.Name.Local == "g" && class == "class" && inside("points"):
				st.pointClasses = append(st.pointClasses, dataClass)
			}
			stack = append(stack, class)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return st
}

func TestMapSVG(t *testing.T) {
	xy, labels, names := blobs(10, 50, 1)
	f, err := Map(xy, labels, names, Title("test & <map>"))
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	st := parseSVG(t, svg)
	if st.points != 500 {
		t.Errorf("SVG has %d point marks, want 500", st.points)
	}
	if strings.Join(st.legend, ",") != strings.Join(names, ",") {
		t.Errorf("legend entries %q, want %q", st.legend, names)
	}
	if len(st.pointClasses) != 10 {
		t.Errorf("%d point groups, want one per class (10)", len(st.pointClasses))
	}
	if !bytes.Contains(svg, []byte("test &amp; &lt;map&gt;")) {
		t.Errorf("title not escaped in SVG")
	}
}

func TestMapSVGUnlabelled(t *testing.T) {
	xy, _, _ := blobs(3, 40, 2)
	f, err := Map(xy, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := f.SVG()
	st := parseSVG(t, svg)
	if st.points != 120 || len(st.legend) != 0 {
		t.Errorf("unlabelled SVG: %d points, %d legend entries; want 120, 0", st.points, len(st.legend))
	}
}

func TestMapSVG100Classes(t *testing.T) {
	xy, labels, names := blobs(100, 6, 3)
	f, err := Map(xy, labels, names, Size(900, 600))
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := f.SVG()
	st := parseSVG(t, svg)
	if st.points != 600 || len(st.legend) != 100 {
		t.Errorf("100-class SVG: %d points, %d legend entries; want 600, 100", st.points, len(st.legend))
	}
	// The legend must fit in the figure: every legend text lies inside.
	fig := f
	for _, it := range fig.items {
		if tx, ok := it.(textItem); ok {
			w := textWidth(tx.s, tx.size, tx.bold)
			if tx.x < 0 || tx.x+w > fig.width+0.5 || tx.y > fig.height || tx.y-tx.size < 0 {
				t.Errorf("text %q at (%.0f,%.0f) width %.0f leaves the %gx%g figure", tx.s, tx.x, tx.y, w, fig.width, fig.height)
			}
		}
	}
}

func TestMapPNG(t *testing.T) {
	xy, labels, names := blobs(10, 100, 4)
	f, err := Map(xy, labels, names, Size(640, 480), Scale(1.5), Alpha(1), PointRadius(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, b)
	if got := img.Bounds().Size(); got.X != 960 || got.Y != 720 {
		t.Fatalf("PNG is %v, want 960x720", got)
	}
	if n := distinctColors(img); n < 12 {
		t.Errorf("PNG has %d distinct colours, want many (10 classes + anti-aliasing)", n)
	}
	for c, col := range paletteNRGBA(10) {
		if n := countNear(img, col, 3); n < 100 {
			t.Errorf("class %d colour %v covers %d pixels, want >= 100", c, col, n)
		}
	}
}

func TestMapRejectsBadInput(t *testing.T) {
	xy, labels, names := blobs(2, 5, 5)
	nan := append([]float32(nil), xy...)
	nan[7] = float32(math.NaN())
	bad := append([]int(nil), labels...)
	bad[3] = 2
	for _, tc := range []struct {
		name   string
		xy     []float32
		labels []int
		names  []string
		opts   []Option
		want   string
	}{
		{"odd length", xy[:5], nil, nil, nil, "2 per point"},
		{"empty", nil, nil, nil, nil, "empty"},
		{"NaN", nan, labels, names, nil, "point 3"},
		{"label count", xy, labels[:4], names, nil, "4 labels for 10 points"},
		{"label range", xy, bad, names, nil, "point 3"},
		{"negative label", xy, []int{0, 1, 0, 1, -1, 0, 0, 0, 0, 0}, names, nil, "point 4"},
		{"highlight", xy, labels, names, []Option{Highlight(10)}, "highlighted point 10"},
	} {
		_, err := Map(tc.xy, tc.labels, tc.names, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestMapHighlightAndAxes(t *testing.T) {
	xy, labels, names := blobs(3, 30, 6)
	f, err := Map(xy, labels, names, Highlight(0, 5), Axes())
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := f.SVG()
	parseSVG(t, svg)
	if !bytes.Contains(svg, []byte(`class="highlights"`)) || !bytes.Contains(svg, []byte(`class="axes"`)) {
		t.Errorf("highlights or axes missing from SVG")
	}
	if got := strings.Count(string(svg), `stroke="#000000"`); got != 2 {
		t.Errorf("%d black rings, want 2", got)
	}
}

func TestAutoPointStyle(t *testing.T) {
	area := 560.0 * 560
	prevR, prevA := math.Inf(1), math.Inf(1)
	for _, n := range []int{100, 1000, 10000, 60000} {
		r, a := AutoPointStyle(n, area)
		if r > prevR || a > prevA || r < 0.6 || r > 4 || a < 0.4 || a > 0.9 {
			t.Errorf("AutoPointStyle(%d) = %.2f, %.2f: want within bounds and not growing with n", n, r, a)
		}
		prevR, prevA = r, a
	}
	if r, _ := AutoPointStyle(60000, area); r > 1 {
		t.Errorf("60 000 points get radius %.2f, want <= 1", r)
	}
}

func TestSave(t *testing.T) {
	xy, labels, names := blobs(2, 20, 7)
	f, err := Map(xy, labels, names)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"m.png", "m.svg"} {
		if err := f.Save(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "m.png"))
	decodePNG(t, b)
	s, _ := os.ReadFile(filepath.Join(dir, "m.svg"))
	if parseSVG(t, s).points != 40 {
		t.Errorf("saved SVG has wrong number of points")
	}
}

func TestMapDegenerate(t *testing.T) {
	for _, xy := range [][]float32{{1, 2}, {3, 3, 3, 3, 3, 3}, {0, 0, 5, 0}} {
		f, err := Map(xy, nil, nil)
		if err != nil {
			t.Fatalf("%v: %v", xy, err)
		}
		svg, _ := f.SVG()
		if n := parseSVG(t, svg).points; n != len(xy)/2 {
			t.Errorf("%v: %d points drawn", xy, n)
		}
		for _, it := range f.items {
			if p, ok := it.(pointsItem); ok {
				for i := range p.x {
					if p.x[i] < 0 || p.x[i] > 800 || p.y[i] < 0 || p.y[i] > 600 || math.IsNaN(float64(p.x[i])) {
						t.Errorf("%v: point %d at (%v,%v), outside the figure", xy, i, p.x[i], p.y[i])
					}
				}
			}
		}
		if _, err := Interactive(xy, nil, nil); err != nil {
			t.Errorf("Interactive(%v): %v", xy, err)
		}
	}
}
