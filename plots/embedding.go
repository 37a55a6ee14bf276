package plots

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// points is a validated embedding with its labels.
type points struct {
	xy         []float32 // 2N, row-major
	n          int
	labels     []int    // nil or N entries in [0, len(classNames))
	classNames []string // one per class; synthesised ("0", "1", ...) if not given
	counts     []int    // points per class
}

// newPoints checks the embedding and labels: xy must hold 2N finite numbers,
// labels (if not nil) N values in [0, len(classNames)). When classNames is
// nil the classes are named by their number.
func newPoints(xy []float32, labels []int, classNames []string) (*points, error) {
	if len(xy)%2 != 0 {
		return nil, fmt.Errorf("plots: embedding has %d values, want 2 per point (flat row-major [N,2])", len(xy))
	}
	n := len(xy) / 2
	if n == 0 {
		return nil, fmt.Errorf("plots: embedding is empty")
	}
	for i, v := range xy {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("plots: embedding point %d has a non-finite coordinate %v", i/2, v)
		}
	}
	p := &points{xy: xy, n: n}
	if labels == nil {
		return p, nil
	}
	if len(labels) != n {
		return nil, fmt.Errorf("plots: %d labels for %d points", len(labels), n)
	}
	maxLabel := -1
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("plots: label %d of point %d is negative", l, i)
		}
		if classNames != nil && l >= len(classNames) {
			return nil, fmt.Errorf("plots: label %d of point %d is out of range: %d class names", l, i, len(classNames))
		}
		maxLabel = max(maxLabel, l)
	}
	if classNames == nil {
		classNames = make([]string, maxLabel+1)
		for c := range classNames {
			classNames[c] = strconv.Itoa(c)
		}
	}
	p.labels = labels
	p.classNames = classNames
	p.counts = make([]int, len(classNames))
	for _, l := range labels {
		p.counts[l]++
	}
	return p, nil
}

// numClasses is the number of classes (0 when unlabelled).
func (p *points) numClasses() int { return len(p.classNames) }

// label returns the label of point i, or -1 when unlabelled.
func (p *points) label(i int) int {
	if p.labels == nil {
		return -1
	}
	return p.labels[i]
}

// bounds returns the bounding box of the embedding.
func (p *points) bounds() (minX, minY, maxX, maxY float64) {
	minX, minY = math.Inf(1), math.Inf(1)
	maxX, maxY = math.Inf(-1), math.Inf(-1)
	for i := 0; i < p.n; i++ {
		x, y := float64(p.xy[2*i]), float64(p.xy[2*i+1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return
}

// checkImages verifies that ds holds one image per point.
func checkImages(ds *data.Dataset, n int) error {
	if ds == nil {
		return fmt.Errorf("plots: no images given (use the Images option)")
	}
	if err := ds.Validate(); err != nil {
		return fmt.Errorf("plots: images: %w", err)
	}
	if ds.N != n {
		return fmt.Errorf("plots: %d images in %q for %d points", ds.N, ds.Name, n)
	}
	if ds.Channels != 1 && ds.Channels != 3 && ds.Channels != 4 {
		return fmt.Errorf("plots: images in %q have %d channels, want 1, 3 or 4", ds.Name, ds.Channels)
	}
	return nil
}

// view maps embedding coordinates to figure pixels with equal scales on both
// axes (y grows upwards in the embedding, downwards in the figure).
type view struct {
	minX, minY float64 // embedding coordinates of the lower-left corner
	s          float64 // pixels per embedding unit
	x0, y0     float64 // pixel position of the lower-left corner
	w, h       float64 // pixel size of the fitted data rectangle
}

// fitView fits the bounding box of p, with a small margin, into the pixel
// rectangle (x, y, w, h), centred, keeping the aspect ratio equal.
func fitView(p *points, x, y, w, h float64) view {
	minX, minY, maxX, maxY := p.bounds()
	dx, dy := maxX-minX, maxY-minY
	span := math.Max(dx, dy)
	if span == 0 {
		span = 1
	}
	// Pad by 2% of the larger side, so that edge points are not cut.
	pad := 0.02 * span
	minX, maxX, minY, maxY = minX-pad, maxX+pad, minY-pad, maxY+pad
	dx, dy = maxX-minX, maxY-minY
	if dx == 2*pad {
		minX, maxX, dx = minX-span/2, maxX+span/2, dx+span
	}
	if dy == 2*pad {
		minY, maxY, dy = minY-span/2, maxY+span/2, dy+span
	}
	s := math.Min(w/dx, h/dy)
	v := view{minX: minX, minY: minY, s: s, w: dx * s, h: dy * s}
	v.x0 = x + (w-v.w)/2
	v.y0 = y + (h+v.h)/2
	return v
}

// px returns the figure position of embedding point (ex, ey).
func (v view) px(ex, ey float64) (float64, float64) {
	return v.x0 + (ex-v.minX)*v.s, v.y0 - (ey-v.minY)*v.s
}

// top returns the pixel y of the top of the fitted rectangle.
func (v view) top() float64 { return v.y0 - v.h }

func itoa(i int) string { return strconv.Itoa(i) }
