package plots

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	xdraw "golang.org/x/image/draw"
	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is a static picture (Map, Thumbnails, OutlierGallery) that can be
// written as PNG or SVG, or shown in a notebook.
//
// A Figure is a list of simple marks in CSS pixel coordinates (origin top
// left): points, circles, rectangles, text and images. The PNG renderer
// draws them with gonum.org/v1/plot's vg/vgimg canvas (anti-aliased paths,
// the Liberation fonts) and golang.org/x/image/draw (image scaling). The SVG
// renderer is written here: gonum's vgsvg writes each dot as a ~150-byte
// path with its own style, which for 60 000 points gives a 9 MB file; ours
// writes one <circle> per point, grouped by class in a <g> that carries the
// shared fill and opacity, with coordinates rounded to 0.1 px: about 40
// bytes per point (10 000 points: 0.4 MB, 60 000: 2.4 MB). For large maps
// prefer the PNG (or Interactive) over the SVG.
//
// The PNG draws the points in a random order (see Seed), so that no class
// systematically covers another; the SVG draws them class by class (that is
// what makes the grouping possible), so later classes lie on top.
type Figure struct {
	width, height float64
	scale         float64
	background    color.NRGBA
	items         []item
	kind          string // "map", "thumbnails", ...: used for file names
	outputPath    string
}

// Width returns the figure width in CSS pixels.
func (f *Figure) Width() float64 { return f.width }

// Height returns the figure height in CSS pixels.
func (f *Figure) Height() float64 { return f.height }

type item interface{ isItem() }

// pointsItem is the scatter of all points.
type pointsItem struct {
	x, y   []float32 // pixel positions
	class  []int32   // colour index per point
	colors []color.NRGBA
	names  []string // class names, for the SVG (nil: unlabelled)
	r      float64
	alpha  float64
	order  []int32 // raster drawing order
}

type circleItem struct {
	x, y, r      float64
	fill, stroke color.NRGBA // alpha 0: none
	lineWidth    float64
}

type rectItem struct {
	x, y, w, h   float64
	fill, stroke color.NRGBA
	lineWidth    float64
}

type lineItem struct {
	x1, y1, x2, y2 float64
	stroke         color.NRGBA
	lineWidth      float64
}

// Text anchors.
const (
	anchorStart = iota
	anchorMiddle
	anchorEnd
)

// textItem is one line of text; (x, y) is on the baseline.
type textItem struct {
	x, y   float64
	s      string
	size   float64
	bold   bool
	col    color.NRGBA
	anchor int
}

type imageItem struct {
	x, y, w, h float64
	img        image.Image
	pixelated  bool // nearest-neighbour scaling (crisp when enlarging small images)
}

// chartItem is a drawing of gonum.org/v1/plot (History's curves) placed at
// (x, y) with size (w, h) in CSS pixels; draw paints it on a canvas whose
// units are those pixels.
type chartItem struct {
	x, y, w, h float64
	draw       func(dc draw.Canvas)
}

// groupItem opens (or, with end set, closes) an SVG group with a class and
// optional data-class attribute; the PNG renderer ignores it.
type groupItem struct {
	class, dataClass string
	end              bool
}

func (pointsItem) isItem() {}
func (circleItem) isItem() {}
func (rectItem) isItem()   {}
func (lineItem) isItem()   {}
func (textItem) isItem()   {}
func (imageItem) isItem()  {}
func (groupItem) isItem()  {}
func (chartItem) isItem()  {}

func (f *Figure) add(it item)                   { f.items = append(f.items, it) }
func (f *Figure) begin(class, dataClass string) { f.add(groupItem{class: class, dataClass: dataClass}) }
func (f *Figure) end()                          { f.add(groupItem{end: true}) }
func (f *Figure) text(x, y float64, s string, size float64, bold bool, col color.NRGBA, anchor int) {
	f.add(textItem{x: x, y: y, s: s, size: size, bold: bold, col: col, anchor: anchor})
}

func newFigure(c *config, kind string) *Figure {
	return &Figure{
		width: float64(c.width), height: float64(c.height), scale: c.scale,
		background: color.NRGBAModel.Convert(c.background).(color.NRGBA),
		kind:       kind, outputPath: c.outputPath,
	}
}

// Fonts: the Liberation Sans faces shipped with gonum.org/v1/plot; the SVG
// names Liberation Sans first and falls back to the metric-compatible Arial.
var fonts = font.NewCache(liberation.Collection())

const svgFontFamily = "Liberation Sans,Arial,Helvetica,sans-serif"

func fontFace(size float64, bold bool) font.Face {
	f := font.Font{Variant: "Sans"}
	if bold {
		f.Weight = stdfont.WeightBold
	}
	return fonts.Lookup(f, font.Points(size))
}

// textWidth returns the width in pixels of s at the given size.
func textWidth(s string, size float64, bold bool) float64 {
	face := fontFace(size, bold)
	return face.Width(s).Points()
}

// ---------------------------------------------------------------- PNG

// Image renders the figure to an RGBA image of Width×Scale by Height×Scale
// pixels.
func (f *Figure) Image() *image.RGBA {
	dpi := int(math.Round(72 * f.scale))
	s := float64(dpi) / 72
	cv := vgimg.NewWith(vgimg.UseWH(vg.Length(f.width), vg.Length(f.height)), vgimg.UseDPI(dpi),
		vgimg.UseBackgroundColor(f.background))
	dst := cv.Image().(xdraw.Image)
	H := f.height
	pt := func(x, y float64) vg.Point { return vg.Point{X: vg.Length(x), Y: vg.Length(H - y)} }
	circle := func(x, y, r float64) vg.Path {
		var p vg.Path
		p.Move(pt(x+r, y))
		p.Arc(pt(x, y), vg.Length(r), 0, 2*math.Pi)
		p.Close()
		return p
	}
	for _, it := range f.items {
		switch it := it.(type) {
		case pointsItem:
			cols := make([]color.NRGBA, len(it.colors))
			for i, c := range it.colors {
				c.A = uint8(math.Round(float64(c.A) * it.alpha))
				cols[i] = c
			}
			for _, i := range it.order {
				cv.SetColor(cols[it.class[i]])
				cv.Fill(circle(float64(it.x[i]), float64(it.y[i]), it.r))
			}
		case circleItem:
			p := circle(it.x, it.y, it.r)
			if it.fill.A > 0 {
				cv.SetColor(it.fill)
				cv.Fill(p)
			}
			if it.stroke.A > 0 && it.lineWidth > 0 {
				cv.SetColor(it.stroke)
				cv.SetLineWidth(vg.Length(it.lineWidth))
				cv.Stroke(p)
			}
		case rectItem:
			var p vg.Path
			p.Move(pt(it.x, it.y))
			p.Line(pt(it.x+it.w, it.y))
			p.Line(pt(it.x+it.w, it.y+it.h))
			p.Line(pt(it.x, it.y+it.h))
			p.Close()
			if it.fill.A > 0 {
				cv.SetColor(it.fill)
				cv.Fill(p)
			}
			if it.stroke.A > 0 && it.lineWidth > 0 {
				cv.SetColor(it.stroke)
				cv.SetLineWidth(vg.Length(it.lineWidth))
				cv.Stroke(p)
			}
		case lineItem:
			var p vg.Path
			p.Move(pt(it.x1, it.y1))
			p.Line(pt(it.x2, it.y2))
			cv.SetColor(it.stroke)
			cv.SetLineWidth(vg.Length(it.lineWidth))
			cv.Stroke(p)
		case textItem:
			face := fontFace(it.size, it.bold)
			x := it.x
			switch it.anchor {
			case anchorMiddle:
				x -= face.Width(it.s).Points() / 2
			case anchorEnd:
				x -= face.Width(it.s).Points()
			}
			cv.SetColor(it.col)
			cv.FillString(face, pt(x, it.y), it.s)
		case chartItem:
			it.draw(draw.Canvas{Canvas: cv, Rectangle: vg.Rectangle{
				Min: vg.Point{X: vg.Length(it.x), Y: vg.Length(H - it.y - it.h)},
				Max: vg.Point{X: vg.Length(it.x + it.w), Y: vg.Length(H - it.y)},
			}})
		case imageItem:
			r := image.Rect(int(math.Round(it.x*s)), int(math.Round(it.y*s)),
				int(math.Round((it.x+it.w)*s)), int(math.Round((it.y+it.h)*s)))
			var interp xdraw.Interpolator = xdraw.CatmullRom
			if it.pixelated {
				interp = xdraw.NearestNeighbor
			}
			interp.Scale(dst, r, it.img, it.img.Bounds(), xdraw.Over, nil)
		}
	}
	return cv.Image().(*image.RGBA)
}

// WritePNG writes the figure as PNG.
func (f *Figure) WritePNG(w io.Writer) error {
	if err := png.Encode(w, f.Image()); err != nil {
		return fmt.Errorf("plots: encoding %s PNG: %w", f.kind, err)
	}
	return nil
}

// PNG returns the figure encoded as PNG.
func (f *Figure) PNG() ([]byte, error) {
	var b bytes.Buffer
	err := f.WritePNG(&b)
	return b.Bytes(), err
}

// ---------------------------------------------------------------- SVG

// num formats a coordinate with at most one decimal.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		return "0"
	}
	return strconvFloat(v)
}

func hexColor(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// paint writes a fill or stroke attribute with its opacity.
func paint(b *strings.Builder, attr string, c color.NRGBA) {
	if c.A == 0 {
		fmt.Fprintf(b, ` %s="none"`, attr)
		return
	}
	fmt.Fprintf(b, ` %s="%s"`, attr, hexColor(c))
	if c.A < 255 {
		fmt.Fprintf(b, ` %s-opacity="%s"`, attr, strconvFloat(math.Round(float64(c.A)/255*100)/100))
	}
}

// SVG returns the figure as an SVG document.
func (f *Figure) SVG() ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" `+
		`width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s">`+"\n",
		num(f.width), num(f.height), num(f.width), num(f.height), svgFontFamily)
	b.WriteString(`<rect width="100%" height="100%"`)
	paint(&b, "fill", f.background)
	b.WriteString("/>\n")
	for _, it := range f.items {
		switch it := it.(type) {
		case pointsItem:
			b.WriteString(`<g class="points">` + "\n")
			byClass := make([][]int32, len(it.colors))
			for i := range it.x {
				byClass[it.class[i]] = append(byClass[it.class[i]], int32(i))
			}
			r := num(it.r)
			for c, idx := range byClass {
				if len(idx) == 0 {
					continue
				}
				b.WriteString(`<g class="class"`)
				if it.names != nil {
					fmt.Fprintf(&b, ` data-class="%s"`, xmlEscape(it.names[c]))
				}
				fill := it.colors[c]
				fill.A = uint8(math.Round(float64(fill.A) * it.alpha))
				paint(&b, "fill", fill)
				b.WriteString(">\n")
				for _, i := range idx {
					fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%s"/>`, num(float64(it.x[i])), num(float64(it.y[i])), r)
					b.WriteByte('\n')
				}
				b.WriteString("</g>\n")
			}
			b.WriteString("</g>\n")
		case circleItem:
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="%s"`, num(it.x), num(it.y), num(it.r))
			paint(&b, "fill", it.fill)
			if it.stroke.A > 0 && it.lineWidth > 0 {
				paint(&b, "stroke", it.stroke)
				fmt.Fprintf(&b, ` stroke-width="%s"`, num(it.lineWidth))
			}
			b.WriteString("/>\n")
		case rectItem:
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s"`, num(it.x), num(it.y), num(it.w), num(it.h))
			paint(&b, "fill", it.fill)
			if it.stroke.A > 0 && it.lineWidth > 0 {
				paint(&b, "stroke", it.stroke)
				fmt.Fprintf(&b, ` stroke-width="%s"`, num(it.lineWidth))
			}
			b.WriteString("/>\n")
		case lineItem:
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"`, num(it.x1), num(it.y1), num(it.x2), num(it.y2))
			paint(&b, "stroke", it.stroke)
			fmt.Fprintf(&b, ` stroke-width="%s"/>`+"\n", num(it.lineWidth))
		case textItem:
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s"`, num(it.x), num(it.y), num(it.size))
			if it.bold {
				b.WriteString(` font-weight="bold"`)
			}
			switch it.anchor {
			case anchorMiddle:
				b.WriteString(` text-anchor="middle"`)
			case anchorEnd:
				b.WriteString(` text-anchor="end"`)
			}
			if it.col != (color.NRGBA{0, 0, 0, 255}) {
				paint(&b, "fill", it.col)
			}
			fmt.Fprintf(&b, ">%s</text>\n", xmlEscape(it.s))
		case imageItem:
			uri, err := pngDataURI(it.img)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&b, `<image x="%s" y="%s" width="%s" height="%s" preserveAspectRatio="none"`,
				num(it.x), num(it.y), num(it.w), num(it.h))
			if it.pixelated {
				b.WriteString(` style="image-rendering:pixelated"`)
			}
			fmt.Fprintf(&b, ` xlink:href="%s"/>`+"\n", uri)
		case chartItem:
			svg, err := chartSVG(it)
			if err != nil {
				return nil, err
			}
			b.WriteString(svg)
		case groupItem:
			if it.end {
				b.WriteString("</g>\n")
				continue
			}
			fmt.Fprintf(&b, `<g class="%s"`, xmlEscape(it.class))
			if it.dataClass != "" {
				fmt.Fprintf(&b, ` data-class="%s"`, xmlEscape(it.dataClass))
			}
			b.WriteString(">\n")
		}
	}
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}

// chartSVG draws a chart with gonum's SVG canvas (vgsvg) and returns it as a
// nested <svg> element placed at the chart's position. vgsvg sizes its
// document in points over a viewBox in the same units; the nested element
// gets the figure's pixels instead, so that one unit is one CSS pixel as in
// the rest of the figure.
func chartSVG(it chartItem) (string, error) {
	cv := vgsvg.New(vg.Length(it.w), vg.Length(it.h))
	it.draw(draw.New(cv))
	var doc bytes.Buffer
	if _, err := cv.WriteTo(&doc); err != nil {
		return "", fmt.Errorf("plots: drawing a chart as SVG: %w", err)
	}
	s := doc.String()
	start := strings.Index(s, "<svg")
	if start < 0 {
		return "", fmt.Errorf("plots: gonum's SVG canvas wrote no <svg> element")
	}
	s = s[start:]
	loc := svgPointSize.FindStringIndex(s)
	if loc == nil || loc[0] > strings.Index(s, ">") {
		return "", fmt.Errorf("plots: gonum's SVG canvas wrote an unexpected header: %.120s", s)
	}
	return s[:loc[0]] + fmt.Sprintf(`x="%s" y="%s" width="%s" height="%s"`,
		num(it.x), num(it.y), num(it.w), num(it.h)) + s[loc[1]:], nil
}

// svgPointSize matches the size attributes of vgsvg's <svg> element.
var svgPointSize = regexp.MustCompile(`width="[0-9.e+-]+pt" height="[0-9.e+-]+pt"`)

// WriteSVG writes the figure as SVG.
func (f *Figure) WriteSVG(w io.Writer) error {
	svg, err := f.SVG()
	if err != nil {
		return err
	}
	if _, err := w.Write(svg); err != nil {
		return fmt.Errorf("plots: writing %s SVG: %w", f.kind, err)
	}
	return nil
}

// Save writes the figure to path, as SVG if the name ends in ".svg" and as
// PNG otherwise.
func (f *Figure) Save(path string) error {
	var data []byte
	var err error
	if strings.EqualFold(filepath.Ext(path), ".svg") {
		data, err = f.SVG()
	} else {
		data, err = f.PNG()
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("plots: saving %s: %w", f.kind, err)
	}
	return nil
}
