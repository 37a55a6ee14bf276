package knn

import (
	"math"
)

// This file holds the k-d tree used for low-dimensional points (the 2-D maps).
//
// It is written here rather than taken from gonum.org/v1/gonum/spatial/kdtree
// for two reasons, both measured:
//   - Ties. gonum's search descends into every subtree whose splitting plane
//     is at distance <= the current k-th distance and its keepers do not order
//     equal distances by index. Exact duplicates are common in collapsed or
//     early-training maps; with all points equal each gonum query visits the
//     whole tree (quadratic time), and which duplicates are returned depends
//     on the tree's shape. Here neighbours are ordered by (distance, index),
//     and a subtree is skipped when it cannot hold a better pair: its box is
//     farther than the k-th distance, or exactly as far and all its indices
//     are larger.
//   - Speed. gonum keeps one point per node behind interfaces and allocates
//     per query (about 9 us per query, k=15, 50 000 2-D points, one core);
//     this tree keeps points in flat leaf buckets (see BenchmarkKDTreeGonum
//     for the comparison).

// kdLeafSize is the largest number of points in a leaf.
const kdLeafSize = 12

// kdNode is a node of the tree: the points in slots [lo, hi) of the tree
// order, split into children left and right, or a leaf (left < 0).
type kdNode struct {
	lo, hi      int32
	left, right int32
	// minID is the smallest point index in the subtree.
	minID int32
}

// kdTree is a k-d tree over float64 copies of the points.
type kdTree struct {
	dim int
	// coords holds the points in tree order, n*dim.
	coords []float64
	// ids[s] is the index (position in the point set) of slot s.
	ids   []int32
	nodes []kdNode
	// boxes holds per node the bounding box: dim minima then dim maxima.
	boxes []float64
}

// newKDTree builds a tree over the points of set; with cosine the points are
// scaled to unit length.
func newKDTree(set *pointSet, cosine bool) *kdTree {
	dim := set.dim
	n := set.n
	src := make([]float64, n*dim)
	for i := range n {
		row := set.row(i)
		scale := 1.0
		if cosine {
			scale = math.Sqrt(set.sqNorm(i))
		}
		for d, x := range row {
			if cosine {
				src[i*dim+d] = float64(x) / scale
			} else {
				src[i*dim+d] = float64(x)
			}
		}
	}
	t := &kdTree{dim: dim, ids: make([]int32, n)}
	for i := range t.ids {
		t.ids[i] = int32(i)
	}
	maxNodes := 1
	for m := n; m > kdLeafSize; m = (m + 1) / 2 {
		maxNodes = 2*maxNodes + 1
	}
	t.nodes = make([]kdNode, 0, maxNodes)
	t.boxes = make([]float64, 0, maxNodes*2*dim)
	t.build(src, 0, int32(n))
	// Gather the coordinates in tree order.
	t.coords = make([]float64, n*dim)
	for s, id := range t.ids {
		copy(t.coords[s*dim:(s+1)*dim], src[int(id)*dim:(int(id)+1)*dim])
	}
	return t
}

// build makes the node for slots [lo, hi) of t.ids (src holds coordinates by
// point index) and returns its number.
func (t *kdTree) build(src []float64, lo, hi int32) int32 {
	dim := t.dim
	me := int32(len(t.nodes))
	t.nodes = append(t.nodes, kdNode{lo: lo, hi: hi, left: -1, right: -1})
	// Bounding box and smallest index.
	box := make([]float64, 2*dim)
	for d := range dim {
		box[d], box[dim+d] = math.Inf(1), math.Inf(-1)
	}
	minID := int32(math.MaxInt32)
	for _, id := range t.ids[lo:hi] {
		p := src[int(id)*dim : (int(id)+1)*dim]
		for d, x := range p {
			box[d] = min(box[d], x)
			box[dim+d] = max(box[dim+d], x)
		}
		minID = min(minID, id)
	}
	t.boxes = append(t.boxes, box...)
	t.nodes[me].minID = minID
	if hi-lo <= kdLeafSize {
		return me
	}
	// Split at the median of the widest dimension; ties in the coordinate
	// are ordered by index, so the smaller indices of equal points go left.
	axis, width := 0, -1.0
	for d := range dim {
		if w := box[dim+d] - box[d]; w > width {
			axis, width = d, w
		}
	}
	mid := lo + (hi-lo)/2
	kdSelect(t.ids[lo:hi], int(mid-lo), func(a, b int32) bool {
		xa, xb := src[int(a)*dim+axis], src[int(b)*dim+axis]
		return xa < xb || (xa == xb && a < b)
	})
	left := t.build(src, lo, mid)
	right := t.build(src, mid, hi)
	t.nodes[me].left, t.nodes[me].right = left, right
	return me
}

// kdSelect reorders ids so that ids[m] is the element of rank m under less,
// with smaller elements before it and larger after (quickselect with a
// median-of-three pivot; less must be a strict total order).
func kdSelect(ids []int32, m int, less func(a, b int32) bool) {
	lo, hi := 0, len(ids)-1
	for hi > lo {
		// Median of three to ids[hi] as the pivot.
		mid := lo + (hi-lo)/2
		if less(ids[mid], ids[lo]) {
			ids[mid], ids[lo] = ids[lo], ids[mid]
		}
		if less(ids[hi], ids[lo]) {
			ids[hi], ids[lo] = ids[lo], ids[hi]
		}
		if less(ids[mid], ids[hi]) {
			ids[mid], ids[hi] = ids[hi], ids[mid]
		}
		pivot := ids[hi]
		store := lo
		for i := lo; i < hi; i++ {
			if less(ids[i], pivot) {
				ids[i], ids[store] = ids[store], ids[i]
				store++
			}
		}
		ids[store], ids[hi] = ids[hi], ids[store]
		switch {
		case m < store:
			hi = store - 1
		case m > store:
			lo = store + 1
		default:
			return
		}
	}
}

// boxSqDist returns the squared distance from q to the box of node.
func (t *kdTree) boxSqDist(node int32, q []float64) float64 {
	dim := t.dim
	box := t.boxes[int(node)*2*dim : (int(node)+1)*2*dim]
	var s float64
	for d, x := range q {
		if lo := box[d]; x < lo {
			s += (lo - x) * (lo - x)
		} else if hi := box[dim+d]; x > hi {
			s += (x - hi) * (x - hi)
		}
	}
	return s
}

// kdHeap is a bounded max-heap of (squared distance, index) pairs.
type kdHeap struct {
	k     int
	dists []float64
	ids   []int32
	// leaves counts the leaves search has scanned with this heap (the
	// search's work, checked by the tests).
	leaves int
}

// worse reports whether (da, ia) > (db, ib).
func worse(da float64, ia int32, db float64, ib int32) bool {
	return da > db || (da == db && ia > ib)
}

func (h *kdHeap) push(d float64, id int32) {
	n := len(h.dists)
	if n < h.k {
		h.dists = append(h.dists, d)
		h.ids = append(h.ids, id)
		for i := n; i > 0; {
			p := (i - 1) / 2
			if !worse(h.dists[i], h.ids[i], h.dists[p], h.ids[p]) {
				break
			}
			h.dists[p], h.dists[i] = h.dists[i], h.dists[p]
			h.ids[p], h.ids[i] = h.ids[i], h.ids[p]
			i = p
		}
		return
	}
	if !worse(h.dists[0], h.ids[0], d, id) {
		return
	}
	h.dists[0], h.ids[0] = d, id
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && worse(h.dists[r], h.ids[r], h.dists[l], h.ids[l]) {
			c = r
		}
		if !worse(h.dists[c], h.ids[c], h.dists[i], h.ids[i]) {
			break
		}
		h.dists[i], h.dists[c] = h.dists[c], h.dists[i]
		h.ids[i], h.ids[c] = h.ids[c], h.ids[i]
		i = c
	}
}

// skip reports whether a subtree at squared distance d with smallest index
// minID cannot improve a full heap.
func (h *kdHeap) skip(d float64, minID int32) bool {
	if len(h.dists) < h.k {
		return false
	}
	return d > h.dists[0] || (d == h.dists[0] && minID > h.ids[0])
}

// sortInto writes the heap's pairs in increasing order to ids and dists
// (emptying the heap), turning keys into distances.
func (h *kdHeap) sortInto(ids []int, dists []float64, metric Metric) {
	if n := len(h.dists); n <= 32 {
		// Insertion sort: cheaper than popping for the usual small k.
		for i := 1; i < n; i++ {
			d, id := h.dists[i], h.ids[i]
			j := i
			for ; j > 0 && worse(h.dists[j-1], h.ids[j-1], d, id); j-- {
				h.dists[j], h.ids[j] = h.dists[j-1], h.ids[j-1]
			}
			h.dists[j], h.ids[j] = d, id
		}
		for i := range n {
			ids[i] = int(h.ids[i])
			dists[i] = finalDistance(metric, h.dists[i])
		}
		h.dists, h.ids = h.dists[:0], h.ids[:0]
		return
	}
	for r := len(h.dists) - 1; r >= 0; r-- {
		ids[r] = int(h.ids[0])
		dists[r] = finalDistance(metric, h.dists[0])
		last := len(h.dists) - 1
		h.dists[0], h.ids[0] = h.dists[last], h.ids[last]
		h.dists, h.ids = h.dists[:last], h.ids[:last]
		// Restore the heap by sifting the new root down.
		n := last
		for i := 0; ; {
			l := 2*i + 1
			if l >= n {
				break
			}
			c := l
			if rr := l + 1; rr < n && worse(h.dists[rr], h.ids[rr], h.dists[l], h.ids[l]) {
				c = rr
			}
			if !worse(h.dists[c], h.ids[c], h.dists[i], h.ids[i]) {
				break
			}
			h.dists[i], h.dists[c] = h.dists[c], h.dists[i]
			h.ids[i], h.ids[c] = h.ids[c], h.ids[i]
			i = c
		}
	}
}

// search fills h with the nearest points to q, skipping index self (-1:
// none).
func (t *kdTree) search(node int32, q []float64, self int32, h *kdHeap) {
	nd := &t.nodes[node]
	if nd.left < 0 {
		h.leaves++
		dim := t.dim
		for s := nd.lo; s < nd.hi; s++ {
			id := t.ids[s]
			if id == self {
				continue
			}
			h.push(sqDistF64(q, t.coords[int(s)*dim:(int(s)+1)*dim]), id)
		}
		return
	}
	first, second := nd.left, nd.right
	d1, d2 := t.boxSqDist(first, q), t.boxSqDist(second, q)
	if d2 < d1 || (d2 == d1 && t.nodes[second].minID < t.nodes[first].minID) {
		first, second, d1, d2 = second, first, d2, d1
	}
	if !h.skip(d1, t.nodes[first].minID) {
		t.search(first, q, self, h)
	}
	if !h.skip(d2, t.nodes[second].minID) {
		t.search(second, q, self, h)
	}
}

// kdSearch answers all queries with a tree over train, in parallel. With
// self, query i is train point i and does not get itself; queries then run in
// tree order, so that consecutive queries touch the same leaves.
func kdSearch(cfg Config, train, query *pointSet, k int, self bool) *NeighborList {
	cosine := cfg.Metric == Cosine
	t := newKDTree(train, cosine)
	dim := train.dim
	out := &NeighborList{N: query.n, K: k, Indices: make([]int, query.n*k), Distances: make([]float64, query.n*k)}
	parallelFor(query.n, cfg.Workers, 256, func(lo, hi int) {
		h := &kdHeap{k: k, dists: make([]float64, 0, k), ids: make([]int32, 0, k)}
		q := make([]float64, dim)
		for r := lo; r < hi; r++ {
			qi, selfID := r, int32(-1)
			if self {
				selfID = t.ids[r]
				qi = int(selfID)
				copy(q, t.coords[r*dim:(r+1)*dim])
			} else {
				row := query.row(r)
				scale := 1.0
				if cosine {
					scale = math.Sqrt(query.sqNorm(r))
				}
				for d, x := range row {
					if cosine {
						q[d] = float64(x) / scale
					} else {
						q[d] = float64(x)
					}
				}
			}
			t.search(0, q, selfID, h)
			h.sortInto(out.Indices[qi*k:(qi+1)*k], out.Distances[qi*k:(qi+1)*k], cfg.Metric)
		}
	})
	return out
}
