package plots

import (
	"image/color"
	"math"
)

// legendLayout places the class names in as many columns as needed to fit
// the available height, shrinking the font (down to 7 px) while the legend
// would take more than 40% of the figure width.
type legendLayout struct {
	names         []string
	colors        []color.NRGBA
	size          float64 // font size
	rows, cols    int
	colW, rowH    float64
	width, height float64
}

func newLegend(names []string, colors []color.NRGBA, fontSize, availH, figW float64) *legendLayout {
	l := &legendLayout{names: names, colors: colors}
	k := len(names)
	for size := fontSize; ; size -= 0.5 {
		l.size = size
		l.rowH = math.Round(size*1.4*10) / 10
		maxRows := max(1, int(availH/l.rowH))
		l.cols = (k + maxRows - 1) / maxRows
		l.rows = (k + l.cols - 1) / l.cols
		var tw float64
		for _, s := range names {
			tw = math.Max(tw, textWidth(s, size, false))
		}
		l.colW = size*1.2 + tw + size*1.2
		l.width = float64(l.cols)*l.colW - size*0.8
		l.height = float64(l.rows) * l.rowH
		if l.width <= 0.4*figW || size <= 7 {
			return l
		}
	}
}

// draw adds the legend with its top-left corner at (x, y). Each entry is an
// SVG group of class "legend-entry" with the class name in data-class.
func (l *legendLayout) draw(f *Figure, x, y float64) {
	f.begin("legend", "")
	r := l.size * 0.38
	for i, name := range l.names {
		col, row := i/l.rows, i%l.rows
		ex := x + float64(col)*l.colW
		base := y + float64(row)*l.rowH + l.size
		f.begin("legend-entry", name)
		f.add(circleItem{x: ex + r, y: base - l.size*0.33, r: r, fill: l.colors[i%len(l.colors)]})
		f.text(ex+l.size*1.2, base, name, l.size, false, darkGrey, anchorStart)
		f.end()
	}
	f.end()
}
