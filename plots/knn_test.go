package plots

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// refOutliers is an independent brute-force version of ScoreOutliers for
// single points: every distance in float64, neighbours ordered by
// (distance, index), the scores by the formulas of OutlierLabel and
// OutlierDensity. The neighbours' k-th distances that OutlierDensity needs
// are computed on demand and kept.
type refOutliers struct {
	xy     []float32
	labels []int
	k      int
	kdist  map[int]float64
}

// neighbours returns the k nearest other points to i (with keep, only those
// j for which keep(j) holds), ordered by (distance, index), and their
// distances.
func (r *refOutliers) neighbours(i, k int, keep func(j int) bool) ([]int, []float64) {
	type cand struct {
		d float64
		j int
	}
	var cs []cand
	for j := range len(r.xy) / 2 {
		if j == i || (keep != nil && !keep(j)) {
			continue
		}
		dx := float64(r.xy[2*i]) - float64(r.xy[2*j])
		dy := float64(r.xy[2*i+1]) - float64(r.xy[2*j+1])
		cs = append(cs, cand{math.Sqrt(dx*dx + dy*dy), j})
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.j, b.j)
	})
	idx, dist := make([]int, 0, k), make([]float64, 0, k)
	for _, c := range cs[:min(k, len(cs))] {
		idx, dist = append(idx, c.j), append(dist, c.d)
	}
	return idx, dist
}

// kDist returns the distance from i to its k-th neighbour.
func (r *refOutliers) kDist(i int) float64 {
	if d, ok := r.kdist[i]; ok {
		return d
	}
	_, dist := r.neighbours(i, r.k, nil)
	r.kdist[i] = dist[r.k-1]
	return r.kdist[i]
}

// point returns the reference score, majority label, votes and k-th
// distance of point i.
func (r *refOutliers) point(i int, method OutlierMethod) (score float64, label, votes int, kdist float64) {
	nb, _ := r.neighbours(i, r.k, nil)
	kdist = r.kDist(i)
	label = -1
	if r.labels != nil {
		count := map[int]int{}
		for _, j := range nb {
			l := r.labels[j]
			count[l]++
			if label < 0 || count[l] > count[label] {
				label = l
			}
		}
		votes = count[label]
	}
	switch method {
	case OutlierLabel:
		other := 0
		for _, j := range nb {
			if r.labels[j] != r.labels[i] {
				other++
			}
		}
		_, same := r.neighbours(i, 1, func(j int) bool { return r.labels[j] == r.labels[i] })
		t := 1.0
		if len(same) > 0 {
			switch {
			case kdist > 0:
				t = 1 - math.Exp(-same[0]/kdist)
			case same[0] == 0:
				t = 0
			}
		}
		score = float64(other)/float64(r.k) + t/float64(r.k+1)
	case OutlierDensity:
		minX, minY := math.Inf(1), math.Inf(1)
		maxX, maxY := math.Inf(-1), math.Inf(-1)
		for j := range len(r.xy) / 2 {
			x, y := float64(r.xy[2*j]), float64(r.xy[2*j+1])
			minX, maxX, minY, maxY = min(minX, x), max(maxX, x), min(minY, y), max(maxY, y)
		}
		delta := 1e-9 * math.Hypot(maxX-minX, maxY-minY)
		if delta == 0 {
			delta = 1e-30
		}
		var m float64
		for _, j := range nb {
			m += r.kDist(j)
		}
		m /= float64(r.k)
		score = (kdist + delta) / (m + delta)
	}
	return score, label, votes, kdist
}

// checkOutliers compares ScoreOutliers with the brute-force reference on
// the given points (all points if queries is nil): neighbour labels, votes
// and k-th distances exactly, scores to 1e-12.
func checkOutliers(t *testing.T, name string, xy []float32, labels []int, method OutlierMethod, k int, queries []int) {
	t.Helper()
	s, err := ScoreOutliers(xy, labels, Method(method), K(k))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if s.Method != method || s.K != k {
		t.Fatalf("%s: method %v, K %d; want %v, %d", name, s.Method, s.K, method, k)
	}
	if queries == nil {
		for i := range len(xy) / 2 {
			queries = append(queries, i)
		}
	}
	ref := &refOutliers{xy: xy, labels: labels, k: k, kdist: map[int]float64{}}
	bad := 0
	for _, i := range queries {
		score, label, votes, kdist := ref.point(i, method)
		if s.NeighborLabel[i] != label || s.NeighborVotes[i] != votes || s.KDist[i] != kdist ||
			math.Abs(s.Score[i]-score) > 1e-12 {
			t.Errorf("%s: point %d: score %v, neighbour label %d (%d votes), k-th distance %v; "+
				"brute force: %v, %d (%d votes), %v", name, i, s.Score[i], s.NeighborLabel[i], s.NeighborVotes[i],
				s.KDist[i], score, label, votes, kdist)
			if bad++; bad == 10 {
				t.Fatalf("%s: stopping after 10 differences", name)
			}
		}
	}
}

// duplicateMap returns clusters with many exact duplicates: 300 copies of
// one point, 100 copies of each of 4 others, and a 10×10 integer grid with
// every node taken 3 times, with labels assigned at random among 4 classes.
func duplicateMap() ([]float32, []int) {
	rng := rand.New(rand.NewPCG(5, 9))
	var xy []float32
	add := func(x, y float32, copies int) {
		for range copies {
			xy = append(xy, x, y)
		}
	}
	add(3, 3, 300)
	for _, p := range [][2]float32{{-4, 0}, {-4, 0.5}, {8, 8}, {0, -6}} {
		add(p[0], p[1], 100)
	}
	for gx := range 10 {
		for gy := range 10 {
			add(float32(gx), float32(gy), 3)
		}
	}
	labels := make([]int, len(xy)/2)
	for i := range labels {
		labels[i] = rng.IntN(4)
	}
	// Shuffle the points so that duplicates do not sit at consecutive
	// indices.
	perm := rng.Perm(len(labels))
	shuffled := make([]float32, len(xy))
	for to, from := range perm {
		shuffled[2*to], shuffled[2*to+1] = xy[2*from], xy[2*from+1]
	}
	return shuffled, labels
}

// TestScoreOutliersMatchesBruteForce: on ordinary data (no ties) and on
// data full of exact duplicates, every score equals the brute-force
// reference's, ties among duplicates broken by index.
func TestScoreOutliersMatchesBruteForce(t *testing.T) {
	xy, labels, _ := plantedMap()
	checkOutliers(t, "planted map, label", xy, labels, OutlierLabel, 10, nil)
	checkOutliers(t, "planted map, density", xy, labels, OutlierDensity, 10, nil)
	xy, labels = duplicateMap()
	for _, k := range []int{1, 15} {
		checkOutliers(t, "duplicates, label", xy, labels, OutlierLabel, k, nil)
		checkOutliers(t, "duplicates, density", xy, labels, OutlierDensity, k, nil)
	}
}

// TestScoreOutliersCollapsedMap: 20 000 identical points (a collapsed map)
// plus 20 others. Each identical point's neighbours are the k other
// identical points of smallest index, so with labels cycling through 10
// classes the scores are known: 1 for points 1-9 (none of their neighbours
// shares their label), 0.9 for the others (one of ten does). gonum's k-d
// tree, used before, took seconds here (see
// BenchmarkScoreOutliersDuplicates) and returned whichever duplicates the
// tree's shape gave.
func TestScoreOutliersCollapsedMap(t *testing.T) {
	const n, k = 20000, 10
	xy, labels := collapsedMap(n)
	s, err := ScoreOutliers(xy, labels, K(k))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// Neighbours 0..10 without i: for i >= 10 the labels 0..9 once
		// each (9 of them another label; the tie between the labels goes
		// to label 0, reached first); for i < 10 the labels 0..9 without
		// i's own, and label 0 twice (points 0 and 10).
		wantScore, wantLabel, wantVotes := 0.9, 0, 1
		switch {
		case i == 0:
			wantLabel = 1 // points 1..10: labels 1..9 and 0; 1 comes first
		case i < 10:
			wantScore, wantVotes = 1, 2
		}
		if s.Score[i] != wantScore || s.NeighborLabel[i] != wantLabel || s.NeighborVotes[i] != wantVotes || s.KDist[i] != 0 {
			t.Fatalf("point %d: score %v, neighbour label %d (%d votes), k-th distance %v; want %v, %d (%d votes), 0",
				i, s.Score[i], s.NeighborLabel[i], s.NeighborVotes[i], s.KDist[i], wantScore, wantLabel, wantVotes)
		}
	}
	// The scattered points: against the brute-force reference.
	var queries []int
	for i := n; i < n+20; i++ {
		queries = append(queries, i)
	}
	checkOutliers(t, "collapsed map", xy, labels, OutlierLabel, k, queries)
}
