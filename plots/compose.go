package plots

import (
	"fmt"
	"image"
	"math"
)

// Row places figures side by side, top-aligned, in one new figure (for
// comparisons: the maps of a few runs in one picture, PNG or SVG, in one
// font). The new figure takes the pixel density (Scale) of the first.
func Row(figs ...*Figure) (*Figure, error) {
	if len(figs) == 0 {
		return nil, fmt.Errorf("plots: Row of no figures")
	}
	out := &Figure{scale: figs[0].scale, background: figs[0].background, kind: "row"}
	for i, f := range figs {
		if f == nil {
			return nil, fmt.Errorf("plots: Row: figure %d is nil", i)
		}
		if f.background != out.background {
			out.add(rectItem{x: out.width, y: 0, w: f.width, h: f.height, fill: f.background})
		}
		for _, it := range f.items {
			out.add(shiftItem(it, out.width, 0))
		}
		out.width += f.width
		out.height = math.Max(out.height, f.height)
	}
	return out, nil
}

// shiftItem returns it moved by (dx, dy) pixels.
func shiftItem(it item, dx, dy float64) item {
	switch it := it.(type) {
	case pointsItem:
		x, y := make([]float32, len(it.x)), make([]float32, len(it.y))
		for i := range it.x {
			x[i], y[i] = it.x[i]+float32(dx), it.y[i]+float32(dy)
		}
		it.x, it.y = x, y
		return it
	case circleItem:
		it.x, it.y = it.x+dx, it.y+dy
		return it
	case rectItem:
		it.x, it.y = it.x+dx, it.y+dy
		return it
	case lineItem:
		it.x1, it.y1, it.x2, it.y2 = it.x1+dx, it.y1+dy, it.x2+dx, it.y2+dy
		return it
	case textItem:
		it.x, it.y = it.x+dx, it.y+dy
		return it
	case imageItem:
		it.x, it.y = it.x+dx, it.y+dy
		return it
	case chartItem:
		it.x, it.y = it.x+dx, it.y+dy
		return it
	}
	return it // groupItem: no position
}

// ImageGrid draws images in a grid of Grid(cols) columns (default: all in
// one row), each enlarged to ThumbnailSize pixels (default 64; small
// images are enlarged without smoothing, so pixels stay crisp), with its
// caption (e.g. the class name; nil or "" for none) under it in the
// figures' font. Size sets the width only where it is wider than the grid
// needs; the height follows from the rows. Title adds a title.
func ImageGrid(images []image.Image, captions []string, opts ...Option) (*Figure, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("plots: ImageGrid of no images")
	}
	if captions != nil && len(captions) != len(images) {
		return nil, fmt.Errorf("plots: ImageGrid: %d captions for %d images", len(captions), len(images))
	}
	c := newConfig(opts)
	cols := len(images)
	if c.gridColsSet {
		cols = min(c.gridCols, len(images))
	}
	cell := 64.0
	if c.thumbSize > 0 {
		cell = float64(c.thumbSize)
	}
	size := c.fontSize * 0.9
	capH := 0.0
	for _, s := range captions {
		if s != "" {
			capH = size * 1.5
		}
	}
	const gap = 6.0
	rows := (len(images) + cols - 1) / cols
	top := float64(margin)
	titleH := 0.0
	if c.title != "" {
		titleH = c.fontSize*1.35*1.3 + 6
	}
	gridW := float64(cols)*(cell+gap) - gap
	c.width = int(math.Ceil(math.Max(float64(c.width), gridW+2*margin)))
	if !c.sizeSet {
		c.width = int(math.Ceil(gridW + 2*margin))
	}
	c.height = int(math.Ceil(top + titleH + float64(rows)*(cell+capH+gap) - gap + margin))
	f := newFigure(c, "images")
	if c.title != "" {
		ts := c.fontSize * 1.35
		f.text(f.width/2, top+ts, c.title, ts, true, black, anchorMiddle)
	}
	x0 := (f.width - gridW) / 2
	for i, img := range images {
		x := x0 + float64(i%cols)*(cell+gap)
		y := top + titleH + float64(i/cols)*(cell+capH+gap)
		b := img.Bounds()
		w, h := cell, cell
		if b.Dx() > b.Dy() { // keep the aspect ratio inside the square cell
			h = cell * float64(b.Dy()) / float64(b.Dx())
		} else if b.Dy() > b.Dx() {
			w = cell * float64(b.Dx()) / float64(b.Dy())
		}
		f.add(imageItem{x: x + (cell-w)/2, y: y + (cell-h)/2, w: w, h: h, img: img,
			pixelated: float64(max(b.Dx(), b.Dy()))*1.5 < cell})
		if captions != nil && captions[i] != "" {
			f.text(x+cell/2, y+cell+size*1.15, ellipsize(captions[i], cell+gap, size, false), size, false, black, anchorMiddle)
		}
	}
	return f, nil
}

// WithTitle returns a copy of f with a title band above it (bold, centred;
// a title wider than the figure is shortened with an ellipsis), e.g. the
// scale of the runs over a Row of their maps, so that a picture copied out
// of its notebook still says what it shows.
func (f *Figure) WithTitle(title string) *Figure {
	const size = 14.0
	band := size*1.35 + 10
	out := &Figure{width: f.width, height: f.height + band, scale: f.scale, background: f.background,
		kind: f.kind, outputPath: f.outputPath}
	out.text(f.width/2, size+6, ellipsize(title, f.width-2*margin, size, true), size, true, black, anchorMiddle)
	for _, it := range f.items {
		out.add(shiftItem(it, 0, band))
	}
	return out
}
