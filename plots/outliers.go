package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"
)

// OutlierMethod selects the outlier score of ScoreOutliers.
type OutlierMethod int

const (
	// OutlierAuto uses OutlierLabel when labels are given, else OutlierDensity.
	OutlierAuto OutlierMethod = iota
	// OutlierLabel scores a point by how many of its k nearest map neighbours
	// carry another label:
	//
	//	score_i = d_i + t_i/(k+1)
	//	d_i     = #{j in kNN(i) : label_j != label_i} / k
	//	t_i     = 1 - exp(-r_i / D_i)
	//
	// where D_i is the distance to the k-th neighbour and r_i the distance to
	// the nearest other point with the same label (t_i = 1 if there is none).
	// d_i takes the values 0, 1/k, ..., 1 and decides the ranking; t_i only
	// breaks ties (t_i/(k+1) < 1/k), ranking first the points that are
	// farthest, relative to the local scale, from their own class: an image
	// of class A lying inside the cluster of class B comes before a point on
	// the border between A and B.
	OutlierLabel
	// OutlierDensity, for unlabelled data, scores a point by its distance to
	// its k-th neighbour relative to that of its neighbours (a simplified
	// local outlier factor):
	//
	//	score_i = (D_i + δ) / (mean_{j in kNN(i)} D_j + δ)
	//
	// with δ = 1e-9 times the diagonal of the map's bounding box. Points in
	// the middle of clusters score about 1; isolated points score higher.
	OutlierDensity
)

// String returns the method's name.
func (m OutlierMethod) String() string {
	switch m {
	case OutlierAuto:
		return "auto"
	case OutlierLabel:
		return "label disagreement"
	case OutlierDensity:
		return "relative kNN distance"
	}
	return fmt.Sprintf("OutlierMethod(%d)", int(m))
}

// OutlierScores holds an outlier score for every point of a map.
type OutlierScores struct {
	// Method is the score used (never OutlierAuto).
	Method OutlierMethod
	// K is the number of neighbours.
	K int
	// Score holds one score per point; higher is more outlying.
	Score []float64
	// NeighborLabel is the most common label among each point's k
	// neighbours (of tied labels, the one that reaches the count first,
	// counting from the nearest neighbour outwards); -1 when unlabelled.
	NeighborLabel []int
	// NeighborVotes is how many of the k neighbours carry NeighborLabel.
	NeighborVotes []int
	// KDist is each point's distance to its k-th nearest neighbour.
	KDist []float64

	xy     []float32
	labels []int
}

// Outlier is one point ranked by OutlierScores.Top.
type Outlier struct {
	// Rank is the 1-based rank (1 = most outlying).
	Rank int
	// Index is the point's index in the embedding (and in the images).
	Index int
	// Score is the point's outlier score.
	Score float64
	// Label is the point's label, -1 when unlabelled.
	Label int
	// NeighborLabel is the majority label of its neighbours (-1: unlabelled)
	// and NeighborVotes how many of the K neighbours carry it.
	NeighborLabel, NeighborVotes, K int
	// X, Y is the point's position on the map.
	X, Y float32
}

// ScoreOutliers computes an outlier score for every point of the map from
// its k nearest map neighbours (option K, default 10), by the method chosen
// with Method (default OutlierAuto). See OutlierLabel and OutlierDensity for
// the formulas. Neighbours at equal distance (exact duplicates, common in a
// collapsed map) are taken in index order, so the scores are deterministic.
func ScoreOutliers(xy []float32, labels []int, opts ...Option) (*OutlierScores, error) {
	c := newConfig(opts)
	p, err := newPoints(xy, labels, nil)
	if err != nil {
		return nil, err
	}
	if p.n < 2 {
		return nil, fmt.Errorf("plots: outlier scores need at least 2 points, got %d", p.n)
	}
	method := c.outlierMethod
	if method == OutlierAuto {
		method = OutlierDensity
		if labels != nil {
			method = OutlierLabel
		}
	}
	if method == OutlierLabel && labels == nil {
		return nil, fmt.Errorf("plots: outlier method %q needs labels", method)
	}
	if method != OutlierLabel && method != OutlierDensity {
		return nil, fmt.Errorf("plots: unknown outlier method %v", method)
	}
	k := min(c.k, p.n-1)
	nbr, dist, err := kNearest(xy, k)
	if err != nil {
		return nil, err
	}
	s := &OutlierScores{Method: method, K: k, xy: xy, labels: labels,
		Score: make([]float64, p.n), NeighborLabel: make([]int, p.n),
		NeighborVotes: make([]int, p.n), KDist: make([]float64, p.n)}
	for i := 0; i < p.n; i++ {
		s.KDist[i] = dist[i*k+k-1]
		s.NeighborLabel[i] = -1
	}
	if labels != nil {
		votes := make([]int, p.numClasses())
		for i := 0; i < p.n; i++ {
			best := -1
			for _, j := range nbr[i*k : (i+1)*k] {
				l := labels[j]
				votes[l]++
				if best < 0 || votes[l] > votes[best] {
					best = l
				}
			}
			s.NeighborLabel[i], s.NeighborVotes[i] = best, votes[best]
			for _, j := range nbr[i*k : (i+1)*k] {
				votes[labels[j]] = 0
			}
		}
	}
	switch method {
	case OutlierLabel:
		r, err := sameLabelDistance(p)
		if err != nil {
			return nil, err
		}
		for i := 0; i < p.n; i++ {
			other := 0
			for _, j := range nbr[i*k : (i+1)*k] {
				if labels[j] != labels[i] {
					other++
				}
			}
			var t float64
			switch {
			case math.IsInf(r[i], 1):
				t = 1
			case s.KDist[i] == 0:
				if r[i] > 0 {
					t = 1
				}
			default:
				t = 1 - math.Exp(-r[i]/s.KDist[i])
			}
			s.Score[i] = float64(other)/float64(k) + t/float64(k+1)
		}
	case OutlierDensity:
		minX, minY, maxX, maxY := p.bounds()
		delta := 1e-9 * math.Hypot(maxX-minX, maxY-minY)
		if delta == 0 {
			delta = 1e-30
		}
		for i := 0; i < p.n; i++ {
			var m float64
			for _, j := range nbr[i*k : (i+1)*k] {
				m += s.KDist[j]
			}
			m /= float64(k)
			s.Score[i] = (s.KDist[i] + delta) / (m + delta)
		}
	}
	return s, nil
}

// sameLabelDistance returns for each point the distance to the nearest other
// point with the same label (+Inf for a class of one point).
func sameLabelDistance(p *points) ([]float64, error) {
	r := make([]float64, p.n)
	byClass := make([][]int, p.numClasses())
	for i, l := range p.labels {
		byClass[l] = append(byClass[l], i)
	}
	for _, idx := range byClass {
		if len(idx) == 0 {
			continue
		}
		if len(idx) == 1 {
			r[idx[0]] = math.Inf(1)
			continue
		}
		d, err := nearestInSubset(p.xy, idx)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			r[i] = d[j]
		}
	}
	return r, nil
}

// Top returns the n highest-scoring points, most outlying first (ties in
// index order).
func (s *OutlierScores) Top(n int) []Outlier {
	idx := make([]int, len(s.Score))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.Score[idx[a]] > s.Score[idx[b]] })
	n = min(max(n, 0), len(idx))
	out := make([]Outlier, n)
	for r, i := range idx[:n] {
		o := Outlier{Rank: r + 1, Index: i, Score: s.Score[i], Label: -1,
			NeighborLabel: s.NeighborLabel[i], NeighborVotes: s.NeighborVotes[i], K: s.K,
			X: s.xy[2*i], Y: s.xy[2*i+1]}
		if s.labels != nil {
			o.Label = s.labels[i]
		}
		out[r] = o
	}
	return out
}

// FindOutliers scores all points (see ScoreOutliers) and returns the TopN
// (default 20) most outlying, most outlying first.
func FindOutliers(xy []float32, labels []int, opts ...Option) ([]Outlier, error) {
	s, err := ScoreOutliers(xy, labels, opts...)
	if err != nil {
		return nil, err
	}
	return s.Top(newConfig(opts).topN), nil
}

// OutlierGallery draws the images of the given outliers (from the Images
// option, required) in a grid of GalleryColumns columns (default 5), each
// with its rank, index, label, its neighbours' majority label and its map
// position. The image frame has the colour of the point's class, as on the
// Map (with Superclasses: of its superclass). The figure has the width set by Size; its height follows from the
// number of rows.
func OutlierGallery(outliers []Outlier, classNames []string, opts ...Option) (*Figure, error) {
	c := newConfig(opts)
	if c.images == nil {
		return nil, fmt.Errorf("plots: OutlierGallery needs the images (use the Images option)")
	}
	if err := c.images.Validate(); err != nil {
		return nil, fmt.Errorf("plots: images: %w", err)
	}
	if len(outliers) == 0 {
		return nil, fmt.Errorf("plots: OutlierGallery: no outliers given")
	}
	maxLabel := -1
	for _, o := range outliers {
		if o.Index < 0 || o.Index >= c.images.N {
			return nil, fmt.Errorf("plots: outlier #%d has index %d, outside the %d images of %q",
				o.Rank, o.Index, c.images.N, c.images.Name)
		}
		maxLabel = max(maxLabel, o.Label, o.NeighborLabel)
	}
	if classNames != nil && maxLabel >= len(classNames) {
		return nil, fmt.Errorf("plots: outlier label %d out of range: %d class names", maxLabel, len(classNames))
	}
	name := func(l int) string {
		if l < 0 {
			return "–"
		}
		if classNames == nil {
			return itoa(l)
		}
		return classNames[l]
	}
	colors := c.classColors(max(len(classNames), maxLabel+1))
	frameColor := func(o Outlier) color.NRGBA { return colors[o.Label] }
	if c.coarse != nil {
		// Superclasses: frame in the superclass colour, as in the map's legend.
		if len(c.coarse) != c.images.N {
			return nil, fmt.Errorf("plots: %d superclass labels for %d images", len(c.coarse), c.images.N)
		}
		maxCoarse := 0
		for _, s := range c.coarse {
			if s < 0 {
				return nil, fmt.Errorf("plots: negative superclass label %d", s)
			}
			maxCoarse = max(maxCoarse, s)
		}
		base := c.classColors(max(len(c.coarseNames), maxCoarse+1))
		frameColor = func(o Outlier) color.NRGBA { return base[c.coarse[o.Index]] }
	}

	cols := min(c.galleryCols, len(outliers))
	rows := (len(outliers) + c.galleryCols - 1) / c.galleryCols
	W := float64(c.width)
	size := c.fontSize * 0.9
	lineH := size * 1.3
	tileW := (W - 2*margin) / float64(cols)
	img := math.Min(tileW-14, 128)
	tileH := img + 8 + 4*lineH + 10
	top := float64(margin)
	title := c.title
	if title == "" {
		title = fmt.Sprintf("Top %d outliers (%s, k = %d)", len(outliers), methodOf(outliers), outliers[0].K)
	}
	ts := c.fontSize * 1.25
	c.height = int(math.Ceil(top + ts*1.3 + 8 + float64(rows)*tileH + margin))
	f := newFigure(c, "outliers")
	f.text(W/2, top+ts, title, ts, true, black, anchorMiddle)
	top += ts*1.3 + 8
	fit := func(s string, bold bool) string { return ellipsize(s, tileW-8, size, bold) }
	for j, o := range outliers {
		x := margin + float64(j%c.galleryCols)*tileW
		y := top + float64(j/c.galleryCols)*tileH
		ix := x + (tileW-img)/2
		f.begin("outlier", "")
		if o.Label >= 0 {
			f.add(rectItem{x: ix - 3, y: y - 3, w: img + 6, h: img + 6, fill: frameColor(o)})
		}
		f.add(imageItem{x: ix, y: y, w: img, h: img, img: c.images.ToImage(o.Index),
			pixelated: img >= 2*float64(c.images.Width)})
		ty := y + img + 6 + size
		f.text(x+tileW/2, ty, fit(fmt.Sprintf("#%d · index %d", o.Rank, o.Index), true), size, true, black, anchorMiddle)
		if o.Label >= 0 {
			f.text(x+tileW/2, ty+lineH, fit("label: "+name(o.Label), false), size, false, darkGrey, anchorMiddle)
			f.text(x+tileW/2, ty+2*lineH, fit(fmt.Sprintf("neighbours: %s %d/%d", name(o.NeighborLabel), o.NeighborVotes, o.K), false),
				size, false, darkGrey, anchorMiddle)
		} else {
			f.text(x+tileW/2, ty+lineH, fit(fmt.Sprintf("score %.2f", o.Score), false), size, false, darkGrey, anchorMiddle)
		}
		f.text(x+tileW/2, ty+3*lineH, fit(fmt.Sprintf("at (%.3g, %.3g)", o.X, o.Y), false), size, false, darkGrey, anchorMiddle)
		f.end()
	}
	return f, nil
}

// methodOf names the score used for a list of outliers.
func methodOf(outliers []Outlier) OutlierMethod {
	if outliers[0].Label >= 0 {
		return OutlierLabel
	}
	return OutlierDensity
}

// ellipsize shortens s with "…" until it fits width pixels.
func ellipsize(s string, width, size float64, bold bool) string {
	if textWidth(s, size, bold) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 1 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; textWidth(t, size, bold) <= width {
			return t
		}
	}
	return string(r)
}
