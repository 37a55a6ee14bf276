package plots

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/gosimcne/gosimcne/tsimcne/data"
	xdraw "golang.org/x/image/draw"
)

// The page template and its script are kept as real .html and .js files
// (easier to read and lint) and embedded at build time.
var (
	//go:embed interactive.html
	pageTemplate string
	//go:embed interactive.js
	pageScript string

	pageTmpl = template.Must(template.New("page").Parse(pageTemplate))
)

// Page is a self-contained interactive HTML page: all script, style, data
// and thumbnails are inline, and it refers to nothing outside itself, so it
// works offline, from a file, in an iframe or mailed to a colleague.
type Page struct {
	html          []byte
	width, height int
	outputPath    string
}

// HTML returns the page.
func (p *Page) HTML() []byte { return p.html }

// Save writes the page to path.
func (p *Page) Save(path string) error {
	if err := os.WriteFile(path, p.html, 0o644); err != nil {
		return fmt.Errorf("plots: saving interactive page: %w", err)
	}
	return nil
}

// IFrame returns an <iframe> that shows the page through its srcdoc
// attribute, Size high (default 600 px) and as wide as its container. This
// is how Display shows the page in a notebook: the iframe keeps the page's
// script and style apart from the notebook's.
func (p *Page) IFrame() string {
	return fmt.Sprintf(`<iframe srcdoc="%s" style="width:100%%;max-width:%dpx;height:%dpx;border:1px solid #ddd" sandbox="allow-scripts"></iframe>`,
		html.EscapeString(string(p.html)), max(p.width, 600), p.height)
}

// pageData is the JSON the script reads; see interactive.js for the fields.
type pageData struct {
	N          int          `json:"n"`
	Bounds     [4]float64   `json:"bounds"`
	XY         string       `json:"xy"`
	Labels     *string      `json:"labels"`
	LabelBytes int          `json:"labelBytes"`
	Classes    []string     `json:"classes"`
	Colors     []string     `json:"colors"`
	Counts     []int        `json:"counts"`
	Radius     float64      `json:"radius"`
	Alpha      float64      `json:"alpha"`
	Thumbs     *thumbSheets `json:"thumbs"`
	Highlight  [][2]any     `json:"highlight"`
	Groups     []pageGroup  `json:"groups,omitempty"`
	Names      []string     `json:"names,omitempty"`     // PointNames, embedded
	NameFiles  []string     `json:"nameFiles,omitempty"` // PointNames in files (ThumbnailFolder) ...
	NamesPer   int          `json:"namesPer,omitempty"`  // ... of this many names each
	Seed       uint32       `json:"seed"`
}

// pageGroup is a superclass of the legend.
type pageGroup struct {
	Name    string `json:"name"`
	Color   string `json:"color"`
	Classes []int  `json:"classes"`
}

type thumbSheets struct {
	Size     int      `json:"size"`
	Cols     int      `json:"cols"`
	PerSheet int      `json:"perSheet"`
	Sheets   []string `json:"sheets"`
}

// Interactive builds a self-contained HTML page with the map drawn on a
// canvas: wheel to zoom, drag to pan, double-click to reset; hovering a point
// shows its image (when the Images option is given), label, index and name
// (PointNames); the legend toggles classes on click (shift-click shows one
// class only); sliders set point size and opacity. With Superclasses the legend lists the
// classes under their superclasses (click a superclass to toggle all its
// classes). It stays fluid with a million points: points are rasterised
// in a pixel buffer larger than the view, which panning copies instead of
// drawing again (in headless Chromium 3.4 ms a frame of panning at
// 1 000 000 points, 60 ms when the points are drawn anew), and hover uses a
// spatial grid. The URL fragment presets the view (#view=x,y,zoom,
// #hide=classes, #point=index; see interactive.js).
//
// Size of the file: positions take 5.3 bytes a point (16-bit quantised,
// base64); thumbnails are JPEG sprite sheets of ThumbnailSize pixels
// (default: the image size, at most 32, or 24 above 20 000 images) and
// ThumbnailQuality (default 80). Measured on CIFAR-10 (base64 included):
// 450 bytes per image at 32 px, 280 at 24 px, 140 at 16 px; quality 50
// takes 40% off. So 10 000 CIFAR images give a 4.5 MB page, 60 000 about
// 17 MB; ThumbnailSize(16) brings them to 1.4 and 8.5 MB; ThumbnailFolder
// keeps them out of the page, in files loaded on hover (the choice for
// hundreds of thousands of images). Highlight and HighlightOutliers ring
// points as on the static Map.
func Interactive(xy []float32, labels []int, classNames []string, opts ...Option) (*Page, error) {
	c := newConfig(opts)
	p, err := newPoints(xy, labels, classNames)
	if err != nil {
		return nil, err
	}
	minX, minY, maxX, maxY := p.bounds()
	d := pageData{N: p.n, Bounds: [4]float64{minX, minY, maxX, maxY},
		Radius: c.pointRadius, Alpha: c.alpha, Seed: uint32(c.seed), Highlight: [][2]any{}}
	// Positions, quantised to 16 bits over the bounding box.
	q := make([]byte, 4*p.n)
	quant := func(v, lo, hi float64) uint16 {
		if hi <= lo {
			return 0
		}
		return uint16(math.Round((v - lo) / (hi - lo) * 65535))
	}
	for i := 0; i < p.n; i++ {
		binary.LittleEndian.PutUint16(q[4*i:], quant(float64(xy[2*i]), minX, maxX))
		binary.LittleEndian.PutUint16(q[4*i+2:], quant(float64(xy[2*i+1]), minY, maxY))
	}
	d.XY = base64.StdEncoding.EncodeToString(q)
	var colors = []string{}
	if p.labels != nil {
		lb := 1
		if p.numClasses() > 256 {
			lb = 2
		}
		buf := make([]byte, lb*p.n)
		for i, l := range p.labels {
			if lb == 1 {
				buf[i] = byte(l)
			} else {
				binary.LittleEndian.PutUint16(buf[2*i:], uint16(l))
			}
		}
		s := base64.StdEncoding.EncodeToString(buf)
		d.Labels, d.LabelBytes = &s, lb
		d.Classes, d.Counts = p.classNames, p.counts
		if p.numClasses() > 65536 {
			return nil, fmt.Errorf("plots: %d classes is too many for the interactive page", p.numClasses())
		}
		h, err := newHierarchy(p, c)
		if err != nil {
			return nil, err
		}
		cols := c.classColors(p.numClasses())
		if h != nil {
			cols = h.fine
			for s, name := range h.names {
				d.Groups = append(d.Groups, pageGroup{Name: name, Color: hexColor(h.base[s]), Classes: append([]int{}, h.members[s]...)})
			}
		}
		for _, col := range cols {
			colors = append(colors, hexColor(col))
		}
	} else {
		col := unlabelledColor
		if len(c.palette) > 0 {
			col = c.classColors(1)[0]
		}
		colors = append(colors, hexColor(col))
	}
	d.Colors = colors
	for j, i := range c.highlight {
		if i < 0 || i >= p.n {
			return nil, fmt.Errorf("plots: highlighted point %d out of range [0,%d)", i, p.n)
		}
		text := ""
		if j < len(c.highlightLabel) {
			text = c.highlightLabel[j]
		}
		d.Highlight = append(d.Highlight, [2]any{i, text})
	}
	if c.thumbDir != "" {
		// ThumbnailFolder: the sheets and names files go here.
		if err := os.MkdirAll(c.thumbDir, 0o755); err != nil {
			return nil, fmt.Errorf("plots: thumbnail folder: %w", err)
		}
	}
	if err := pointNames(&d, c); err != nil {
		return nil, err
	}
	if c.images != nil {
		if err := checkImages(c.images, p.n); err != nil {
			return nil, err
		}
		if d.Thumbs, err = spriteSheets(c); err != nil {
			return nil, err
		}
	}
	js, err := json.Marshal(d) // escapes <, > and &, so the JSON cannot end the <script>
	if err != nil {
		return nil, fmt.Errorf("plots: encoding page data: %w", err)
	}
	title := c.title
	if title == "" {
		title = "t-SimCNE map"
	}
	var b bytes.Buffer
	err = pageTmpl.Execute(&b, map[string]string{
		"Title": html.EscapeString(title), "Data": string(js), "Script": pageScript,
	})
	if err != nil {
		return nil, fmt.Errorf("plots: writing page: %w", err)
	}
	return &Page{html: b.Bytes(), width: c.width, height: c.height, outputPath: c.outputPath}, nil
}

// namesPerFile is how many PointNames one names-NNNN.js file holds.
const namesPerFile = 4096

// pointNames puts c's PointNames into the page data: embedded, or with
// ThumbnailFolder as script files calling tsimcneNames(k, [names]).
func pointNames(d *pageData, c *config) error {
	names := c.pointNames
	if names == nil {
		return nil
	}
	if len(names) != d.N {
		return fmt.Errorf("plots: %d point names for %d points", len(names), d.N)
	}
	if c.thumbDir == "" {
		d.Names = names
		return nil
	}
	d.NamesPer = namesPerFile
	for k := 0; k*namesPerFile < len(names); k++ {
		chunk, err := json.Marshal(names[k*namesPerFile : min(len(names), (k+1)*namesPerFile)])
		if err != nil {
			return fmt.Errorf("plots: point names: %w", err)
		}
		name := fmt.Sprintf("names-%04d.js", k)
		js := fmt.Sprintf("tsimcneNames(%d, %s);\n", k, chunk)
		if err := os.WriteFile(filepath.Join(c.thumbDir, name), []byte(js), 0o644); err != nil {
			return fmt.Errorf("plots: writing point names: %w", err)
		}
		d.NameFiles = append(d.NameFiles, c.thumbURL+"/"+name)
	}
	return nil
}

// spriteSheets packs all images, scaled to the thumbnail size, into JPEG
// sprite sheets of at most 64×64 tiles (one data URI each, or one file each
// with ThumbnailFolder), so that the page holds or loads a few large images
// instead of one per point.
func spriteSheets(c *config) (*thumbSheets, error) {
	ds := c.images
	size := c.thumbSize
	if size <= 0 {
		size = min(max(ds.Width, ds.Height), 32)
		if ds.N > 20000 {
			size = min(size, 24)
		}
	}
	const cols, rowsPerSheet = 64, 64
	per := cols * rowsPerSheet
	t := &thumbSheets{Size: size, Cols: cols, PerSheet: per}
	// A memory-mapped collection (a prepared image folder) is read in order
	// with its pages released behind, so that its size does not count.
	pages := data.NewPageReleaser(ds, true)
	for start := 0; start < ds.N; start += per {
		n := min(per, ds.N-start)
		rows := (n + cols - 1) / cols
		w := cols
		if rows == 1 {
			w = n
		}
		sheet := image.NewRGBA(image.Rect(0, 0, w*size, rows*size))
		for j := 0; j < n; j++ {
			r := image.Rect((j%cols)*size, (j/cols)*size, (j%cols+1)*size, (j/cols+1)*size)
			img := ds.ToImage(start + j)
			if img.Bounds().Dx() == size && img.Bounds().Dy() == size {
				draw.Draw(sheet, r, img, img.Bounds().Min, draw.Src)
			} else {
				xdraw.CatmullRom.Scale(sheet, r, img, img.Bounds(), xdraw.Src, nil)
			}
		}
		if err := pages.Read(n, start+n-1); err != nil {
			return nil, fmt.Errorf("plots: thumbnails: %w", err)
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, sheet, &jpeg.Options{Quality: c.thumbQuality}); err != nil {
			return nil, fmt.Errorf("plots: encoding thumbnails %d..%d of %q: %w", start, start+n-1, ds.Name, err)
		}
		if c.thumbDir == "" {
			t.Sheets = append(t.Sheets, "data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(b.Bytes()))
			continue
		}
		name := fmt.Sprintf("thumbs-%04d.jpg", len(t.Sheets))
		if err := os.WriteFile(filepath.Join(c.thumbDir, name), b.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("plots: writing thumbnails: %w", err)
		}
		t.Sheets = append(t.Sheets, c.thumbURL+"/"+name)
	}
	return t, nil
}

func init() {
	// The script is pasted into a <script> element: it must not close it.
	if strings.Contains(strings.ToLower(pageScript), "</script") {
		panic("plots: interactive.js contains </script")
	}
}
