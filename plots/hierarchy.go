package plots

import (
	"fmt"
	"math"
	"strconv"

	"image/color"

	"github.com/lucasb-eyer/go-colorful"
)

// Superclasses colours every class in a shade of its superclass's colour
// and makes the legend list the superclasses, which keeps a 100-class map
// readable: for CIFAR-100 pass Dataset.CoarseLabels and
// Dataset.CoarseClassNames (the labels stay the fine ones). coarse holds
// one superclass per point; every class must lie in a single superclass.
// The interactive page groups its legend by superclass (click a superclass
// to toggle all its classes). OutlierGallery frames images in the
// superclass colour.
func Superclasses(coarse []int, coarseNames []string) Option {
	return func(c *config) { c.coarse, c.coarseNames = coarse, coarseNames }
}

// hierarchy is the validated class → superclass mapping with its colours.
type hierarchy struct {
	fineToCoarse []int         // superclass of each class (-1: class without points)
	names        []string      // superclass names
	base         []color.NRGBA // superclass colours
	fine         []color.NRGBA // class colours: shades of their superclass colour
	members      [][]int       // classes of each superclass
}

// newHierarchy checks c.coarse against the points' labels; it returns nil
// when no Superclasses option was given.
func newHierarchy(p *points, c *config) (*hierarchy, error) {
	if c.coarse == nil {
		return nil, nil
	}
	if p.labels == nil {
		return nil, fmt.Errorf("plots: Superclasses needs labels")
	}
	if len(c.coarse) != p.n {
		return nil, fmt.Errorf("plots: %d superclass labels for %d points", len(c.coarse), p.n)
	}
	h := &hierarchy{fineToCoarse: make([]int, p.numClasses()), names: c.coarseNames}
	first := make([]int, p.numClasses()) // first point of each class, for the error message
	for f := range h.fineToCoarse {
		h.fineToCoarse[f] = -1
	}
	maxCoarse := -1
	for i, s := range c.coarse {
		if s < 0 || (c.coarseNames != nil && s >= len(c.coarseNames)) {
			return nil, fmt.Errorf("plots: superclass %d of point %d is out of range: %d superclass names", s, i, len(c.coarseNames))
		}
		maxCoarse = max(maxCoarse, s)
		f := p.labels[i]
		switch h.fineToCoarse[f] {
		case -1:
			h.fineToCoarse[f], first[f] = s, i
		case s:
		default:
			return nil, fmt.Errorf("plots: class %q is in superclass %d at point %d but in %d at point %d",
				p.classNames[f], h.fineToCoarse[f], first[f], s, i)
		}
	}
	if h.names == nil {
		h.names = make([]string, maxCoarse+1)
		for s := range h.names {
			h.names[s] = strconv.Itoa(s)
		}
	}
	h.base = c.classColors(len(h.names))
	h.members = make([][]int, len(h.names))
	for f, s := range h.fineToCoarse {
		if s >= 0 {
			h.members[s] = append(h.members[s], f)
		}
	}
	h.fine = make([]color.NRGBA, p.numClasses())
	for f := range h.fine {
		h.fine[f] = lightGrey
	}
	for s, fs := range h.members {
		for j, f := range fs {
			h.fine[f] = shade(h.base[s], j, len(fs))
		}
	}
	return h, nil
}

// shade returns the j-th of m shades of col: CIELAB lightness spread
// evenly over a range of min(0.05·(m-1), 0.2) centred on col's own (moved
// to stay within [0.3, 0.85]), hue and chroma kept. (go-colorful does the
// colour-space arithmetic.)
func shade(col color.NRGBA, j, m int) color.NRGBA {
	if m <= 1 {
		return col
	}
	c, _ := colorful.MakeColor(col)
	l, a, b := c.Lab()
	width := math.Min(0.05*float64(m-1), 0.2)
	lo := math.Max(0.3, math.Min(l-width/2, 0.85-width))
	nl := lo + width*float64(j)/float64(m-1)
	r, g, bl := colorful.Lab(nl, a, b).Clamped().RGB255()
	return color.NRGBA{r, g, bl, 255}
}
