package plots

import "math"

// This file places the text labels of highlighted points (the outlier
// ranks of HighlightOutliers) so that they do not overlap: outliers often
// crowd into one part of the map, and labels all put at the same offset
// from their rings then cover each other.

// rect is an axis-aligned rectangle in figure pixels: top-left corner (x, y)
// and size (w, h).
type rect struct{ x, y, w, h float64 }

// intersects reports whether a and b share interior points (touching edges
// do not count).
func (a rect) intersects(b rect) bool {
	return a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h
}

// inside reports whether a lies within b.
func (a rect) inside(b rect) bool {
	return a.x >= b.x && a.y >= b.y && a.x+a.w <= b.x+b.w && a.y+a.h <= b.y+b.h
}

// nearest returns the point of a nearest to (px, py).
func (a rect) nearest(px, py float64) (x, y float64) {
	return math.Min(math.Max(px, a.x), a.x+a.w), math.Min(math.Max(py, a.y), a.y+a.h)
}

// hitsDisc reports whether a intersects the disc of radius r around (cx, cy).
func (a rect) hitsDisc(cx, cy, r float64) bool {
	x, y := a.nearest(cx, cy)
	return math.Hypot(x-cx, y-cy) < r
}

// labelAnchor is a ringed point at (x, y) with a label box of size (w, h)
// to place.
type labelAnchor struct {
	x, y, w, h float64
}

// labelSpot is where placeLabels put a label: its box, and whether the box
// is away from the ring, so that a leader line should join them.
type labelSpot struct {
	box    rect
	leader bool
}

// placeLabels places the label of each anchor, in order (the first gets the
// best spot), greedily: it tries positions around the anchor's ring (radius
// ringR) at growing distance, eight directions on the first round starting
// north-east (the label's usual place), sixteen further out, and takes the
// first box that intersects no box placed before it. It prefers, in turn, a
// box inside bounds that covers no ring, one inside bounds, and any; the
// last always exists, so no two boxes intersect, whatever the anchors and
// bounds.
func placeLabels(anchors []labelAnchor, ringR float64, bounds rect) []labelSpot {
	spots := make([]labelSpot, len(anchors))
	placed := make([]rect, 0, len(anchors))
	// ringKeepOut is the radius around another anchor a box must not enter
	// (the ring, its white halo and a pixel).
	ringKeepOut := ringR + 3
	free := func(b rect) bool {
		for _, p := range placed {
			if b.intersects(p) {
				return false
			}
		}
		return true
	}
	for j, a := range anchors {
		gap0 := ringR + 2
		step := math.Max(a.h, 4)
		// The farthest any placed box reaches from the anchor: beyond it
		// every candidate is free (all points of a candidate box lie at
		// least 0.9·gap from the anchor).
		reach := 0.0
		for _, p := range placed {
			reach = math.Max(reach, math.Hypot(math.Max(math.Abs(p.x-a.x), math.Abs(p.x+p.w-a.x)),
				math.Max(math.Abs(p.y-a.y), math.Abs(p.y+p.h-a.y))))
		}
		hitsRing := func(b rect) bool {
			for k, o := range anchors {
				if k != j && b.hitsDisc(o.x, o.y, ringKeepOut) {
					return true
				}
			}
			return false
		}
		diag := math.Hypot(bounds.w, bounds.h)
		found := false
		// Pass 0: inside bounds, covering no ring; pass 1: inside bounds;
		// pass 2: anywhere.
		for pass := 0; pass < 3 && !found; pass++ {
			// Inside bounds no box lies farther than the diagonal; the last
			// pass goes past the placed boxes.
			maxGap := gap0 + diag + step
			if pass == 2 {
				maxGap = gap0 + reach/0.9 + step
			}
			for level := 0; !found; level++ {
				gap := gap0 + float64(level)*step
				if gap > maxGap {
					break
				}
				n := 8
				if level > 0 {
					n = 16
				}
				for i := range n {
					b := labelBox(a, gap, math.Pi/4-2*math.Pi*float64(i)/float64(n))
					if (pass < 2 && !b.inside(bounds)) || !free(b) || (pass == 0 && hitsRing(b)) {
						continue
					}
					spots[j] = labelSpot{box: b, leader: level > 0}
					found = true
					break
				}
			}
		}
		if !found {
			// Unreachable: the last pass ends beyond every placed box. Put
			// the box below all of them all the same.
			bottom := a.y
			for _, p := range placed {
				bottom = math.Max(bottom, p.y+p.h)
			}
			spots[j] = labelSpot{box: rect{a.x, bottom + 1, a.w, a.h}, leader: true}
		}
		placed = append(placed, spots[j].box)
	}
	return spots
}

// labelBox returns the box of a's label placed in direction theta (radians,
// counter-clockwise from east, as seen on screen) at distance gap from the
// anchor: the box's corner facing the anchor, or the middle of its facing
// edge for nearly horizontal or vertical directions, is at that distance.
func labelBox(a labelAnchor, gap, theta float64) rect {
	ux, uy := math.Cos(theta), -math.Sin(theta) // screen y grows downwards
	px, py := a.x+gap*ux, a.y+gap*uy
	const side = 0.38 // |cos| above which the box lies wholly on one side
	b := rect{w: a.w, h: a.h}
	switch {
	case ux > side:
		b.x = px
	case ux < -side:
		b.x = px - a.w
	default:
		b.x = px - a.w/2
	}
	switch {
	case uy < -side:
		b.y = py - a.h
	case uy > side:
		b.y = py
	default:
		b.y = py - a.h/2
	}
	return b
}
