package plots

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// checkSpots fails when two label boxes intersect, a box has another size
// than asked, or (with inBounds) a box leaves bounds; it returns how many
// boxes cover another anchor's ring.
func checkSpots(t *testing.T, name string, anchors []labelAnchor, spots []labelSpot, ringR float64, bounds rect, inBounds bool) (coverRings int) {
	t.Helper()
	if len(spots) != len(anchors) {
		t.Fatalf("%s: %d spots for %d labels", name, len(spots), len(anchors))
	}
	for j, s := range spots {
		if s.box.w != anchors[j].w || s.box.h != anchors[j].h {
			t.Errorf("%s: label %d: box %+v, want size %vx%v", name, j, s.box, anchors[j].w, anchors[j].h)
		}
		if inBounds && !s.box.inside(bounds) {
			t.Errorf("%s: label %d: box %+v outside the bounds %+v", name, j, s.box, bounds)
		}
		for k := range j {
			if s.box.intersects(spots[k].box) {
				t.Errorf("%s: labels %d and %d overlap: %+v and %+v", name, k, j, spots[k].box, s.box)
			}
		}
		for k, o := range anchors {
			if k != j && s.box.hitsDisc(o.x, o.y, ringR+1) {
				coverRings++
			}
		}
		// A box away from its ring has a leader line; one next to it not.
		bx, by := s.box.nearest(anchors[j].x, anchors[j].y)
		d := math.Hypot(bx-anchors[j].x, by-anchors[j].y)
		if d > 2*(ringR+2) && !s.leader {
			t.Errorf("%s: label %d is %.1f px from its point without a leader line", name, j, d)
		}
		if d < ringR+1 {
			t.Errorf("%s: label %d at %.1f px from its point covers its ring (radius %v)", name, j, d, ringR)
		}
	}
	return coverRings
}

// TestPlaceLabelsCorner: 20 and then 60 labelled points crowded into the
// top-left corner of the bounds (as outliers can gather in a corner of the
// map), and 20 labelled copies of one point in the bottom-right corner: no
// two label boxes intersect, all stay inside the bounds, and while there is
// room none covers another point's ring.
func TestPlaceLabelsCorner(t *testing.T) {
	const ringR, h = 7.0, 11.34
	bounds := rect{x: 8, y: 30, w: 560, h: 520}
	rng := rand.New(rand.NewPCG(4, 2))
	corner := func(n int) []labelAnchor {
		var a []labelAnchor
		for i := range n {
			a = append(a, labelAnchor{x: bounds.x + 2 + 10*rng.Float64(), y: bounds.y + 2 + 10*rng.Float64(),
				w: 9 + 6*float64(len(fmt.Sprint(i+1))), h: h})
		}
		return a
	}
	for _, n := range []int{20, 60} {
		a := corner(n)
		name := fmt.Sprintf("%d points in a corner", n)
		if c := checkSpots(t, name, a, placeLabels(a, ringR, bounds), ringR, bounds, true); c > 0 {
			t.Errorf("%s: %d labels cover other rings", name, c)
		}
	}
	var same []labelAnchor
	for i := range 20 {
		same = append(same, labelAnchor{x: bounds.x + bounds.w - 1, y: bounds.y + bounds.h - 1, w: 15 + float64(i%3), h: h})
	}
	checkSpots(t, "20 identical points", same, placeLabels(same, ringR, bounds), ringR, bounds, true)
}

// TestPlaceLabelsNoRoom: more labels than fit in the bounds still get boxes
// that do not intersect (outside the bounds).
func TestPlaceLabelsNoRoom(t *testing.T) {
	const ringR = 7.0
	bounds := rect{x: 0, y: 0, w: 60, h: 40}
	var a []labelAnchor
	for i := range 40 {
		a = append(a, labelAnchor{x: 30 + float64(i%5), y: 20, w: 24, h: 11})
	}
	checkSpots(t, "no room", a, placeLabels(a, ringR, bounds), ringR, bounds, false)
}

// TestPlaceLabelsAlone: a label with room keeps the usual place, north-east
// of its ring and close to it, without a leader line.
func TestPlaceLabelsAlone(t *testing.T) {
	const ringR = 7.0
	a := []labelAnchor{{x: 300, y: 300, w: 20, h: 11}, {x: 100, y: 100, w: 14, h: 11}}
	spots := placeLabels(a, ringR, rect{0, 0, 600, 600})
	for j, s := range spots {
		b := s.box
		if s.leader || b.x < a[j].x || b.y+b.h > a[j].y || b.x > a[j].x+ringR+2 || b.y+b.h < a[j].y-ringR-2 {
			t.Errorf("label %d of (%v,%v): box %+v (leader %v), want just north-east of the ring", j, a[j].x, a[j].y, b, s.leader)
		}
	}
}

// TestMapOutlierLabelsDoNotOverlap draws a map whose 25 highlighted
// outliers sit in one corner (outliers_map.png of the tsimcne command) and
// checks the label boxes drawn: before placeLabels they were all put at the
// same offset from their rings and covered each other.
func TestMapOutlierLabelsDoNotOverlap(t *testing.T) {
	xy, labels, names := blobs(3, 300, 21)
	var out []Outlier
	for r := range 25 {
		i := len(labels)
		xy = append(xy, float32(-14+0.05*float64(r%5)), float32(-14+0.05*float64(r/5)))
		labels = append(labels, r%3)
		out = append(out, Outlier{Rank: r + 1, Index: i})
	}
	f, err := Map(xy, labels, names, HighlightOutliers(out), Size(500, 400))
	if err != nil {
		t.Fatal(err)
	}
	var boxes []rect
	in := false
	for _, it := range f.items {
		switch it := it.(type) {
		case groupItem:
			in = !it.end && it.class == "highlights"
		case rectItem:
			if in {
				boxes = append(boxes, rect{it.x, it.y, it.w, it.h})
			}
		}
	}
	if len(boxes) != len(out) {
		t.Fatalf("%d label boxes drawn, want %d", len(boxes), len(out))
	}
	for j, b := range boxes {
		if !b.inside(rect{0, 0, f.Width(), f.Height()}) {
			t.Errorf("label %d: box %+v outside the %vx%v figure", j+1, b, f.Width(), f.Height())
		}
		for k := range j {
			if b.intersects(boxes[k]) {
				t.Errorf("labels %d and %d overlap: %+v and %+v", k+1, j+1, boxes[k], b)
			}
		}
	}
	if _, err := f.PNG(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPlaceLabels200: 200 labels crowded into one corner, the worst
// case of the greedy search.
func BenchmarkPlaceLabels200(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	var a []labelAnchor
	for range 200 {
		a = append(a, labelAnchor{x: 10 + 10*rng.Float64(), y: 40 + 10*rng.Float64(), w: 24, h: 11})
	}
	for b.Loop() {
		placeLabels(a, 7, rect{8, 30, 560, 520})
	}
}
