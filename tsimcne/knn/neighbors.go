package knn

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// NeighborList holds the k nearest neighbours of N points, flat and
// row-major: the neighbours of point i are Indices[i*K:(i+1)*K], nearest
// first, at distances Distances[i*K:(i+1)*K] (Euclidean distance, or cosine
// distance 1-cos with Cosine). Ties in distance are ordered by index.
type NeighborList struct {
	// N is the number of points (queries) and K the neighbours of each.
	N, K int
	// Indices holds N*K neighbour indices.
	Indices []int
	// Distances holds the N*K matching distances.
	Distances []float64
}

// Of returns the neighbours of point i and their distances (sub-slices of
// Indices and Distances, not copies).
func (l *NeighborList) Of(i int) (indices []int, distances []float64) {
	return l.Indices[i*l.K : (i+1)*l.K], l.Distances[i*l.K : (i+1)*l.K]
}

// Neighbors returns, for each of the len(points)/dim points, its k nearest
// other points (the point itself is excluded, duplicates of it are not).
// Options WithMetric, WithAlgorithm and WithWorkers apply; WithK is ignored.
// It returns an error for dim <= 0, a length not divisible by dim, k < 1 or
// k >= number of points, non-finite coordinates (naming the point) and, with
// Cosine, points of zero norm.
func Neighbors(points []float32, dim, k int, opts ...Option) (*NeighborList, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	set, err := newPointSet("point", points, dim, cfg)
	if err != nil {
		return nil, err
	}
	if k < 1 || k > set.n-1 {
		return nil, fmt.Errorf("knn: k=%d out of range [1, %d] (number of points - 1)", k, set.n-1)
	}
	return search(cfg, set, set, k, true), nil
}

// Query returns, for each of the len(queries)/dim query points, its k
// nearest points in train (indices into train's points). Options WithMetric,
// WithAlgorithm and WithWorkers apply; WithK is ignored. Errors are as for
// Neighbors, with k <= number of train points.
func Query(train, queries []float32, dim, k int, opts ...Option) (*NeighborList, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	trainSet, err := newPointSet("train", train, dim, cfg)
	if err != nil {
		return nil, err
	}
	querySet, err := newPointSet("query", queries, dim, cfg)
	if err != nil {
		return nil, err
	}
	if k < 1 || k > trainSet.n {
		return nil, fmt.Errorf("knn: k=%d out of range [1, %d] (number of train points)", k, trainSet.n)
	}
	return search(cfg, trainSet, querySet, k, false), nil
}

// search dispatches to the k-d tree or the brute-force search. With self,
// train and query are the same set and query i does not get itself.
// Indices in the result are positions in train.
func search(cfg Config, train, query *pointSet, k int, self bool) *NeighborList {
	alg := cfg.Algorithm
	if alg == Auto {
		alg = BruteForce
		if train.dim <= kdTreeMaxDim {
			alg = KDTree
		}
	}
	if alg == KDTree {
		return kdSearch(cfg, train, query, k, self)
	}
	return bruteSearch(cfg, train, query, k, self)
}

// pointSet is a validated set of points: rows of data, or the rows listed in
// idx when idx is not nil.
type pointSet struct {
	data []float32
	idx  []int
	n    int
	dim  int
	// sqNorms[j] is |row j of data|^2 in float64, for every row of data.
	sqNorms []float64
}

// newPointSet checks data (dim > 0, whole rows, finite coordinates, and with
// Cosine no zero rows) and computes the squared norms. what names the set in
// errors ("train", "test", ...).
func newPointSet(what string, data []float32, dim int, cfg Config) (*pointSet, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("knn: dim=%d must be positive", dim)
	}
	if len(data)%dim != 0 {
		return nil, fmt.Errorf("knn: %s data has %d values, not a multiple of dim=%d", what, len(data), dim)
	}
	s := &pointSet{data: data, n: len(data) / dim, dim: dim}
	s.sqNorms = make([]float64, s.n)
	parallelFor(s.n, cfg.Workers, 1024, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s.sqNorms[i] = sqNorm64(data[i*dim : (i+1)*dim])
		}
	})
	// A NaN or infinite coordinate makes the squared norm NaN or infinite
	// (finite float32 squares cannot overflow float64).
	first := -1
	for i, n2 := range s.sqNorms {
		if math.IsNaN(n2) || math.IsInf(n2, 0) || (cfg.Metric == Cosine && n2 == 0) {
			first = i
			break
		}
	}
	if first >= 0 {
		row := data[first*dim : (first+1)*dim]
		for d, x := range row {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("knn: %s point %d has non-finite coordinate %v at dimension %d", what, first, x, d)
			}
		}
		return nil, fmt.Errorf("knn: %s point %d has zero norm: cosine distance undefined", what, first)
	}
	return s, nil
}

// subset returns the rows idx of s (which must not itself be a subset),
// sharing data and norms.
func (s *pointSet) subset(idx []int) *pointSet {
	return &pointSet{data: s.data, idx: idx, n: len(idx), dim: s.dim, sqNorms: s.sqNorms}
}

// id returns the row of data that holds point r of the set.
func (s *pointSet) id(r int) int {
	if s.idx != nil {
		return s.idx[r]
	}
	return r
}

// row returns the coordinates of point r.
func (s *pointSet) row(r int) []float32 {
	j := s.id(r)
	return s.data[j*s.dim : (j+1)*s.dim]
}

// sqNorm returns |point r|^2.
func (s *pointSet) sqNorm(r int) float64 { return s.sqNorms[s.id(r)] }

// sqNorm64 returns the squared norm of a in float64, summed in four lanes
// (the same order as sqDist64).
func sqNorm64(a []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x0, x1, x2, x3 := float64(a[i]), float64(a[i+1]), float64(a[i+2]), float64(a[i+3])
		s0 += x0 * x0
		s1 += x1 * x1
		s2 += x2 * x2
		s3 += x3 * x3
	}
	for ; i < len(a); i++ {
		x := float64(a[i])
		s0 += x * x
	}
	return (s0 + s1) + (s2 + s3)
}

// sqDist64 returns |a-b|^2 in float64, summed in four lanes.
func sqDist64(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := float64(a[i]) - float64(b[i])
		d1 := float64(a[i+1]) - float64(b[i+1])
		d2 := float64(a[i+2]) - float64(b[i+2])
		d3 := float64(a[i+3]) - float64(b[i+3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := float64(a[i]) - float64(b[i])
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// sqDistUnit64 returns |a/na - b/nb|^2 in float64 (na, nb the norms), summed
// as sqDist64; half of it is the cosine distance.
func sqDistUnit64(a, b []float32, na, nb float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := float64(a[i])/na - float64(b[i])/nb
		d1 := float64(a[i+1])/na - float64(b[i+1])/nb
		d2 := float64(a[i+2])/na - float64(b[i+2])/nb
		d3 := float64(a[i+3])/na - float64(b[i+3])/nb
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := float64(a[i])/na - float64(b[i])/nb
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// sqDistF64 is sqDist64 on float64 coordinates (the k-d tree's), with the
// same summation order so both searches agree to the last bit.
func sqDistF64(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// finalDistance turns the search key (squared Euclidean distance, or squared
// distance between unit vectors with Cosine) into the reported distance.
func finalDistance(metric Metric, sq float64) float64 {
	if metric == Cosine {
		return sq / 2
	}
	return math.Sqrt(sq)
}

// parallelFor calls fn on consecutive chunks [lo, hi) of [0, n) of at most
// grain items from up to workers goroutines.
func parallelFor(n, workers, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunks := (n + grain - 1) / grain
	workers = max(1, min(workers, chunks))
	if workers == 1 {
		fn(0, n)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks {
					return
				}
				fn(c*grain, min(n, (c+1)*grain))
			}
		})
	}
	wg.Wait()
}
