package plots

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"strconv"

	"gonum.org/v1/plot"
)

var (
	black     = color.NRGBA{0, 0, 0, 255}
	darkGrey  = color.NRGBA{0x44, 0x44, 0x44, 255}
	lightGrey = color.NRGBA{0xbb, 0xbb, 0xbb, 255}
	white     = color.NRGBA{255, 255, 255, 255}
)

// AutoPointStyle returns the point radius (CSS pixels) and opacity used by
// default for n points drawn over a data area of areaPx square pixels:
//
//	radius = clamp(0.3·sqrt(areaPx/n), 0.6, 4)
//	alpha  = clamp(0.9 − 0.15·log10(n/1000), 0.4, 0.9)
//
// Each point thus covers about a quarter of its share of the area (clusters,
// being denser, fill up), and opacity falls slowly with n so that dense
// regions stay distinguishable from sparse ones: for a 560×560 area, 100
// points get radius 4 and alpha 0.9, 10 000 points radius 1.7 and alpha
// 0.75, 60 000 points radius 0.7 and alpha 0.63.
func AutoPointStyle(n int, areaPx float64) (radius, alpha float64) {
	if n < 1 {
		n = 1
	}
	radius = math.Min(4, math.Max(0.6, 0.3*math.Sqrt(areaPx/float64(n))))
	alpha = math.Min(0.9, math.Max(0.4, 0.9-0.15*math.Log10(float64(n)/1000)))
	return
}

// mapLayout is a map figure under construction: title, legend, and the view
// that places the points.
type mapLayout struct {
	fig       *Figure
	cfg       *config
	p         *points
	v         view
	colors    []color.NRGBA
	r, alpha  float64
	px, py    []float32 // pixel position of each point
	legendTop float64
}

const margin = 12

// layoutMap places the title, the legend and the plot area, and computes
// the pixel position of every point.
func layoutMap(p *points, c *config, kind string) (*mapLayout, error) {
	f := newFigure(c, kind)
	l := &mapLayout{fig: f, cfg: c, p: p}
	W, H := f.width, f.height
	top := float64(margin)
	if c.title != "" {
		ts := c.fontSize * 1.35
		f.text(W/2, top+ts, c.title, ts, true, black, anchorMiddle)
		top += ts*1.3 + 6
	}
	h, err := newHierarchy(p, c)
	if err != nil {
		return nil, err
	}
	switch {
	case h != nil:
		l.colors = h.fine
	case p.labels != nil:
		l.colors = c.classColors(p.numClasses())
	default:
		l.colors = []color.NRGBA{unlabelledColor}
		if len(c.palette) > 0 {
			l.colors = c.classColors(1)
		}
	}
	var leg *legendLayout
	switch {
	case !c.legend || p.labels == nil:
	case h != nil:
		leg = newLegend(h.names, h.base, c.fontSize, H-top-margin, W)
	default:
		leg = newLegend(p.classNames, l.colors, c.fontSize, H-top-margin, W)
	}
	plotX, plotY := float64(margin), top
	plotW, plotH := W-2*margin, H-top-margin
	if leg != nil {
		plotW -= leg.width + margin
	}
	if c.axes {
		plotX += 44
		plotW -= 44
		plotH -= 22
	}
	if c.scaleBar && !c.axes {
		plotH -= c.fontSize * 1.6
	}
	plotW, plotH = math.Max(plotW, 10), math.Max(plotH, 10)
	l.v = fitView(p, plotX, plotY, plotW, plotH)
	if leg != nil {
		// Centre data rectangle and legend together, the legend beside the
		// data and top-aligned with it.
		g := l.v.w + margin + leg.width
		l.v.x0 = plotX + (W-margin-plotX-g)/2
		y := l.v.top()
		if y+leg.height > H-margin {
			y = top
		}
		leg.draw(f, l.v.x0+l.v.w+margin, y)
	}
	if c.axes {
		l.drawAxes()
	} else if c.scaleBar {
		l.drawScaleBar()
	}
	l.r, l.alpha = AutoPointStyle(p.n, l.v.w*l.v.h)
	if c.pointRadius > 0 {
		l.r = c.pointRadius
	}
	if c.alpha > 0 {
		l.alpha = c.alpha
	}
	l.px, l.py = make([]float32, p.n), make([]float32, p.n)
	for i := 0; i < p.n; i++ {
		x, y := l.v.px(float64(p.xy[2*i]), float64(p.xy[2*i+1]))
		l.px[i], l.py[i] = float32(x), float32(y)
	}
	return l, nil
}

// drawPoints adds the scatter, with the opacity multiplied by fade.
func (l *mapLayout) drawPoints(fade float64) {
	p := l.p
	it := pointsItem{x: l.px, y: l.py, class: make([]int32, p.n), colors: l.colors,
		r: l.r, alpha: l.alpha * fade, order: make([]int32, p.n)}
	if p.labels != nil {
		it.names = p.classNames
		for i, lab := range p.labels {
			it.class[i] = int32(lab)
		}
	}
	rng := rand.New(rand.NewPCG(l.cfg.seed, 0x9e3779b97f4a7c15))
	for i, j := range rng.Perm(p.n) {
		it.order[i] = int32(j)
	}
	l.fig.add(it)
}

// drawHighlights rings the points given by the Highlight options and writes
// their labels beside the rings, placed by placeLabels so that no two
// overlap: a label pushed away from its ring by others is joined to it by a
// thin leader line. Labels stay within the data rectangle (widened by a
// few pixels) while there is room.
func (l *mapLayout) drawHighlights() error {
	if len(l.cfg.highlight) == 0 {
		return nil
	}
	ringR := math.Max(4*l.r, 7)
	size := l.cfg.fontSize * 0.9
	var anchors []labelAnchor
	var texts []string
	for j, i := range l.cfg.highlight {
		if i < 0 || i >= l.p.n {
			return fmt.Errorf("plots: highlighted point %d out of range [0,%d)", i, l.p.n)
		}
		if j < len(l.cfg.highlightLabel) && l.cfg.highlightLabel[j] != "" {
			s := l.cfg.highlightLabel[j]
			anchors = append(anchors, labelAnchor{x: float64(l.px[i]), y: float64(l.py[i]),
				w: textWidth(s, size, true) + 3, h: size * 1.05})
			texts = append(texts, s)
		}
	}
	l.fig.begin("highlights", "")
	for _, i := range l.cfg.highlight {
		x, y := float64(l.px[i]), float64(l.py[i])
		l.fig.add(circleItem{x: x, y: y, r: ringR + 1, stroke: white, lineWidth: 3.5})
		l.fig.add(circleItem{x: x, y: y, r: ringR + 1, stroke: black, lineWidth: 1.6})
	}
	const pad = 4
	bounds := rect{x: l.v.x0 - pad, y: l.v.top() - pad, w: l.v.w + 2*pad, h: l.v.h + 2*pad}
	bounds.x, bounds.y = math.Max(bounds.x, 0), math.Max(bounds.y, 0)
	bounds.w = math.Min(bounds.x+bounds.w, l.fig.width) - bounds.x
	bounds.h = math.Min(bounds.y+bounds.h, l.fig.height) - bounds.y
	spots := placeLabels(anchors, ringR, bounds)
	for j, sp := range spots {
		if !sp.leader {
			continue
		}
		a := anchors[j]
		bx, by := sp.box.nearest(a.x, a.y)
		d := math.Hypot(bx-a.x, by-a.y)
		if d <= ringR+2 {
			continue
		}
		ux, uy := (bx-a.x)/d, (by-a.y)/d
		l.fig.add(lineItem{x1: a.x + ux*(ringR+2), y1: a.y + uy*(ringR+2), x2: bx, y2: by,
			stroke: darkGrey, lineWidth: 0.8})
	}
	for j, sp := range spots {
		b := sp.box
		l.fig.add(rectItem{x: b.x, y: b.y, w: b.w, h: b.h, fill: color.NRGBA{255, 255, 255, 210}})
		l.fig.text(b.x+1.5, b.y+size*0.85, texts[j], size, true, black, anchorStart)
	}
	l.fig.end()
	return nil
}

// drawScaleBar draws, under the lower left corner of the data rectangle, a
// bar of 1, 2 or 5 times a power of ten map units, the largest such length
// within a quarter of the rectangle's width, with its length written beside.
func (l *mapLayout) drawScaleBar() {
	v, f := l.v, l.fig
	units := v.w / v.s / 4
	if !(units > 0) || math.IsInf(units, 0) {
		return
	}
	p := math.Pow(10, math.Floor(math.Log10(units)))
	length := p
	for _, m := range []float64{2, 5} {
		if m*p <= units {
			length = m * p
		}
	}
	size := l.cfg.fontSize * 0.85
	x, y := v.x0, v.y0+size*0.9
	w := length * v.s
	f.begin("scale-bar", "")
	f.add(lineItem{x1: x, y1: y, x2: x + w, y2: y, stroke: darkGrey, lineWidth: 2})
	f.add(lineItem{x1: x, y1: y - 3, x2: x, y2: y + 3, stroke: darkGrey, lineWidth: 1})
	f.add(lineItem{x1: x + w, y1: y - 3, x2: x + w, y2: y + 3, stroke: darkGrey, lineWidth: 1})
	f.text(x+w+5, y+size*0.35, strconv.FormatFloat(length, 'g', -1, 64)+" units", size, false, darkGrey, anchorStart)
	f.end()
}

// drawAxes draws a light frame around the data rectangle with tick labels
// chosen by gonum/plot's default tick marker.
func (l *mapLayout) drawAxes() {
	v, f := l.v, l.fig
	size := l.cfg.fontSize * 0.8
	f.begin("axes", "")
	f.add(rectItem{x: v.x0, y: v.top(), w: v.w, h: v.h, stroke: lightGrey, lineWidth: 1})
	for _, t := range (plot.DefaultTicks{}).Ticks(v.minX, v.minX+v.w/v.s) {
		if t.Label == "" {
			continue
		}
		x, _ := v.px(t.Value, v.minY)
		f.add(lineItem{x1: x, y1: v.y0, x2: x, y2: v.y0 + 4, stroke: darkGrey, lineWidth: 1})
		f.text(x, v.y0+5+size, t.Label, size, false, darkGrey, anchorMiddle)
	}
	for _, t := range (plot.DefaultTicks{}).Ticks(v.minY, v.minY+v.h/v.s) {
		if t.Label == "" {
			continue
		}
		_, y := v.px(v.minX, t.Value)
		f.add(lineItem{x1: v.x0 - 4, y1: y, x2: v.x0, y2: y, stroke: darkGrey, lineWidth: 1})
		f.text(v.x0-6, y+size*0.35, t.Label, size, false, darkGrey, anchorEnd)
	}
	f.end()
}

// Map draws the embedding as a scatter plot coloured by label, with a legend
// of class names, equal scales on both axes and no axes (see Axes).
//
// xy holds the N points as flat row-major [N,2] data (x0, y0, x1, y1, ...),
// as the flat data of a GoMLX [N,2] tensor comes out. labels (nil for an
// unlabelled collection) holds one class index per point, and classNames
// names the classes (nil: they are numbered). To colour CIFAR-100 by its 20
// superclasses, pass Dataset.CoarseLabels and Dataset.CoarseClassNames.
//
// Useful options: Title, Size, Scale, PointRadius, Alpha, Colors, NoLegend,
// Axes, Superclasses, Highlight and HighlightOutliers.
func Map(xy []float32, labels []int, classNames []string, opts ...Option) (*Figure, error) {
	c := newConfig(opts)
	p, err := newPoints(xy, labels, classNames)
	if err != nil {
		return nil, err
	}
	l, err := layoutMap(p, c, "map")
	if err != nil {
		return nil, err
	}
	l.drawPoints(1)
	if err := l.drawHighlights(); err != nil {
		return nil, err
	}
	return l.fig, nil
}
