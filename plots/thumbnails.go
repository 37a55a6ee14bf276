package plots

import (
	"math"
)

// Thumbnails draws the map (faded) with image thumbnails on a grid over it,
// as in the figures of the t-SimCNE paper: the data rectangle is cut into
// square cells, Grid columns wide (default 20), and every cell that holds at
// least MinPoints points (default max(2, N/2000)) shows the image of the
// point nearest to the cell centre. With labels, each thumbnail gets a frame
// in its class colour (see ThumbnailFrame) and the legend is drawn.
//
// The images come from the Images option (required); image i belongs to
// point i. The SVG embeds each thumbnail as a base64 PNG.
func Thumbnails(xy []float32, labels []int, classNames []string, opts ...Option) (*Figure, error) {
	c := newConfig(opts)
	p, err := newPoints(xy, labels, classNames)
	if err != nil {
		return nil, err
	}
	if err := checkImages(c.images, p.n); err != nil {
		return nil, err
	}
	l, err := layoutMap(p, c, "thumbnails")
	if err != nil {
		return nil, err
	}
	l.drawPoints(0.45)
	cells := thumbnailCells(l, c)
	f := l.fig
	cell := l.v.w / float64(c.gridCols)
	frame := p.labels != nil && c.thumbFrame
	fw := 0.0
	if frame {
		fw = math.Max(1, math.Round(cell*0.06*2)/2)
	}
	gap := math.Max(0.5, cell*0.03)
	f.begin("thumbnails", "")
	for _, t := range cells {
		x := l.v.x0 + float64(t.col)*cell + gap
		y := l.v.top() + float64(t.row)*cell + gap
		s := cell - 2*gap
		if frame {
			f.add(rectItem{x: x, y: y, w: s, h: s, fill: l.colors[p.labels[t.index]]})
		} else {
			f.add(rectItem{x: x, y: y, w: s, h: s, fill: white})
		}
		f.add(imageItem{x: x + fw, y: y + fw, w: s - 2*fw, h: s - 2*fw, img: c.images.ToImage(t.index),
			pixelated: s >= 2.5*float64(c.images.Width)})
	}
	f.end()
	if err := l.drawHighlights(); err != nil {
		return nil, err
	}
	return f, nil
}

// thumbCell is an occupied grid cell and the point chosen for it.
type thumbCell struct{ col, row, index int }

// thumbnailCells returns the occupied cells of the thumbnail grid, in row
// order, each with the point nearest to its centre.
func thumbnailCells(l *mapLayout, c *config) []thumbCell {
	cols := c.gridCols
	cell := l.v.w / float64(cols)
	rows := max(1, int(math.Ceil(l.v.h/cell-1e-9)))
	minPts := c.thumbMinPoints
	if minPts <= 0 {
		minPts = max(2, l.p.n/2000)
	}
	count := make([]int, cols*rows)
	best := make([]int, cols*rows)
	bestD := make([]float64, cols*rows)
	top := l.v.top()
	for i := 0; i < l.p.n; i++ {
		fx := (float64(l.px[i]) - l.v.x0) / cell
		fy := (float64(l.py[i]) - top) / cell
		cx := min(max(int(fx), 0), cols-1)
		cy := min(max(int(fy), 0), rows-1)
		k := cy*cols + cx
		dx, dy := fx-(float64(cx)+0.5), fy-(float64(cy)+0.5)
		d := dx*dx + dy*dy
		if count[k] == 0 || d < bestD[k] {
			best[k], bestD[k] = i, d
		}
		count[k]++
	}
	var out []thumbCell
	for k, n := range count {
		if n >= minPts {
			out = append(out, thumbCell{col: k % cols, row: k / cols, index: best[k]})
		}
	}
	return out
}
