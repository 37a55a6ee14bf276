package plots

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/spatial/kdtree"
)

// The k nearest map neighbours are found with gonum's k-d tree. (The
// t-SimCNE kNN classifier lives in tsimcne/knn; it works on the
// high-dimensional features and was written in parallel with this package,
// so we do not depend on it here: a 2-D k-d tree is all a map needs.)

// kdPoint is a map point with its index.
type kdPoint struct {
	x [2]float64
	i int
}

func (p kdPoint) Compare(c kdtree.Comparable, d kdtree.Dim) float64 {
	return p.x[d] - c.(kdPoint).x[d]
}
func (p kdPoint) Dims() int { return 2 }
func (p kdPoint) Distance(c kdtree.Comparable) float64 {
	q := c.(kdPoint)
	dx, dy := p.x[0]-q.x[0], p.x[1]-q.x[1]
	return dx*dx + dy*dy
}

type kdPoints []kdPoint

func (p kdPoints) Index(i int) kdtree.Comparable         { return p[i] }
func (p kdPoints) Len() int                              { return len(p) }
func (p kdPoints) Slice(start, end int) kdtree.Interface { return p[start:end] }
func (p kdPoints) Pivot(d kdtree.Dim) int {
	pl := kdPlane{d: d, p: p}
	return kdtree.Partition(pl, kdtree.MedianOfRandoms(pl, 100))
}

type kdPlane struct {
	d kdtree.Dim
	p kdPoints
}

func (p kdPlane) Len() int           { return len(p.p) }
func (p kdPlane) Less(i, j int) bool { return p.p[i].x[p.d] < p.p[j].x[p.d] }
func (p kdPlane) Swap(i, j int)      { p.p[i], p.p[j] = p.p[j], p.p[i] }
func (p kdPlane) Slice(start, end int) kdtree.SortSlicer {
	return kdPlane{d: p.d, p: p.p[start:end]}
}

// newTree builds a k-d tree of the given points (all points if idx is nil).
func newTree(xy []float32, idx []int) *kdtree.Tree {
	var pts kdPoints
	if idx == nil {
		pts = make(kdPoints, len(xy)/2)
		for i := range pts {
			pts[i] = kdPoint{x: [2]float64{float64(xy[2*i]), float64(xy[2*i+1])}, i: i}
		}
	} else {
		pts = make(kdPoints, len(idx))
		for j, i := range idx {
			pts[j] = kdPoint{x: [2]float64{float64(xy[2*i]), float64(xy[2*i+1])}, i: i}
		}
	}
	return kdtree.New(pts, false)
}

// queryPoint returns the point i of xy for a tree query.
func queryPoint(xy []float32, i int) kdPoint {
	return kdPoint{x: [2]float64{float64(xy[2*i]), float64(xy[2*i+1])}, i: i}
}

// nearest returns the k nearest neighbours of point i in t, other than i
// itself, sorted by distance, and their Euclidean distances.
func nearest(t *kdtree.Tree, xy []float32, i, k int) ([]int, []float64) {
	keep := kdtree.NewNKeeper(k + 1)
	t.NearestSet(keep, queryPoint(xy, i))
	nb := make([]int, 0, k)
	d := make([]float64, 0, k)
	for _, cd := range keep.Heap {
		if cd.Comparable == nil {
			continue
		}
		j := cd.Comparable.(kdPoint).i
		if j == i || len(nb) == k {
			continue
		}
		nb = append(nb, j)
		d = append(d, math.Sqrt(cd.Dist))
	}
	return nb, d
}

// parallelFor runs fn(i) for i in [0, n) on all CPUs.
func parallelFor(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/256))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// kNearest returns, for every point, its k nearest neighbours (flat N×k,
// sorted by distance) and their distances.
func kNearest(xy []float32, k int) (nbr []int32, dist []float64) {
	n := len(xy) / 2
	t := newTree(xy, nil)
	nbr = make([]int32, n*k)
	dist = make([]float64, n*k)
	parallelFor(n, func(i int) {
		nb, d := nearest(t, xy, i, k)
		for j := range nb {
			nbr[i*k+j] = int32(nb[j])
			dist[i*k+j] = d[j]
		}
	})
	return
}
