package tsne

import (
	"cmp"
	"math"
	"slices"

	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// csr is the symmetric affinity matrix P in compressed sparse rows: the
// non-zero p_ij of row i are vals[rowPtr[i]:rowPtr[i+1]] in the columns
// cols[rowPtr[i]:rowPtr[i+1]], sorted. The values add up to 1.
type csr struct {
	n      int
	rowPtr []int
	cols   []int32
	vals   []float64
}

// neighbors returns the k exact nearest neighbours of every point
// (Euclidean, the point itself excluded), with the knn package's parallel
// search: brute force (about 0.6-1 s for 10 000 x 50-D and 11-15 s for
// 60 000 x 50-D at k = 90 on the 2-core development machine; exact
// neighbours are affordable at this size, so there is no approximate
// search), or a k-d tree for inputs of at most 3 dimensions.
func neighbors(points []float32, n, dim, k, workers int) (*knn.NeighborList, error) {
	nl, err := knn.Neighbors(points[:n*dim], dim, k, knn.WithWorkers(workers))
	if err != nil {
		return nil, err
	}
	return nl, nil
}

// Perplexity calibration: the bisection stops when the entropy is within
// entropyTol nats of log(perplexity), or after maxBisection steps.
const (
	entropyTol   = 1e-5
	maxBisection = 200
)

// calibrate fills p with the conditional probabilities p_j|i of one point
// over its neighbours at the given distances (ascending), a Gaussian whose
// precision is found by bisection so that the distribution's perplexity
// (exp of its entropy) matches the target. Distances are taken relative to
// the nearest neighbour's, which changes nothing after normalisation but
// keeps exp from underflowing for far-off points.
func calibrate(dist, p, d2 []float64, perplexity float64) {
	target := math.Log(perplexity)
	d0 := dist[0] * dist[0]
	mean := 0.0
	for j, d := range dist {
		d2[j] = d*d - d0
		mean += d2[j]
	}
	mean /= float64(len(dist))
	beta := 1.0
	if mean > 0 {
		beta = 1 / mean
	}
	lo, hi := 0.0, math.Inf(1)
	var sum float64
	for range maxBisection {
		sum = 0
		sumD := 0.0
		for j, d := range d2 {
			e := math.Exp(-beta * d)
			p[j] = e
			sum += e
			sumD += e * d
		}
		h := math.Log(sum) + beta*sumD/sum
		diff := h - target
		if math.Abs(diff) < entropyTol {
			break
		}
		if diff > 0 { // too flat: sharpen
			lo = beta
			if math.IsInf(hi, 1) {
				beta *= 2
			} else {
				beta = (beta + hi) / 2
			}
		} else {
			hi = beta
			beta = (beta + lo) / 2
		}
		if math.IsInf(beta, 0) || beta == 0 {
			break // all distances equal: the uniform distribution is the answer
		}
	}
	// sum >= 1: the nearest neighbour contributes exp(0).
	for j := range p {
		p[j] /= sum
	}
}

// affinities turns neighbour lists into the symmetric, normalised affinity
// matrix: p_j|i calibrated to the perplexity over each point's neighbours,
// then p_ij = (p_j|i + p_i|j) / sum, the sum being 2n.
func affinities(nl *knn.NeighborList, perplexity float64, workers int) *csr {
	n, k := nl.N, nl.K
	cond := make([]float64, n*k)
	forChunks(n, 256, workers, func(_, _, lo, hi int) {
		d2 := make([]float64, k)
		for i := lo; i < hi; i++ {
			_, dist := nl.Of(i)
			calibrate(dist, cond[i*k:(i+1)*k], d2, perplexity)
		}
	})

	// Every p_j|i goes into row i (column j) and row j (column i).
	counts := make([]int, n+1)
	for i := range n {
		counts[i] += k
		for _, j := range nl.Indices[i*k : (i+1)*k] {
			counts[j]++
		}
	}
	type entry struct {
		col int32
		val float64
	}
	ptr := make([]int, n+1)
	for i := range n {
		ptr[i+1] = ptr[i] + counts[i]
	}
	entries := make([]entry, ptr[n])
	fill := slices.Clone(ptr[:n])
	for i := range n {
		for r, j := range nl.Indices[i*k : (i+1)*k] {
			v := cond[i*k+r]
			entries[fill[i]] = entry{int32(j), v}
			fill[i]++
			entries[fill[j]] = entry{int32(i), v}
			fill[j]++
		}
	}
	// Sort each row by column and merge duplicates (pairs that are
	// neighbours both ways).
	lens := make([]int, n)
	forChunks(n, 256, workers, func(_, _, lo, hi int) {
		for i := lo; i < hi; i++ {
			row := entries[ptr[i]:ptr[i+1]]
			slices.SortFunc(row, func(a, b entry) int { return cmp.Compare(a.col, b.col) })
			m := 0
			for _, e := range row {
				if m > 0 && row[m-1].col == e.col {
					row[m-1].val += e.val
					continue
				}
				row[m] = e
				m++
			}
			lens[i] = m
		}
	})
	P := &csr{n: n, rowPtr: make([]int, n+1)}
	for i := range n {
		P.rowPtr[i+1] = P.rowPtr[i] + lens[i]
	}
	nnz := P.rowPtr[n]
	P.cols = make([]int32, nnz)
	P.vals = make([]float64, nnz)
	total := 0.0
	for i := range n {
		o := P.rowPtr[i]
		for m, e := range entries[ptr[i] : ptr[i]+lens[i]] {
			P.cols[o+m] = e.col
			P.vals[o+m] = e.val
			total += e.val
		}
	}
	for i := range P.vals {
		P.vals[i] /= total
	}
	return P
}
