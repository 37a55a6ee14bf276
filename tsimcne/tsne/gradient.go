package tsne

import "math"

// Chunk sizes of the parallel loops over points (fixed: see forChunks).
const (
	attrGrain  = 512
	exactGrain = 16
)

// attractive sets grad_i = exaggeration * sum_j p_ij w_ij (y_i - y_j), with
// w_ij = 1/(1+|y_i-y_j|^2), for the n points of y (n x 2), and returns
// sum_ij p_ij log w_ij when wantKL (else 0).
func attractive(P *csr, y []float64, exaggeration float64, grad []float64, workers int, wantKL bool) float64 {
	partial := make([]float64, numChunks(P.n, attrGrain))
	forChunks(P.n, attrGrain, workers, func(_, c, lo, hi int) {
		logSum := 0.0
		for i := lo; i < hi; i++ {
			xi, yi := y[2*i], y[2*i+1]
			var gx, gy float64
			start, end := P.rowPtr[i], P.rowPtr[i+1]
			cols, vals := P.cols[start:end], P.vals[start:end]
			for e, j := range cols {
				dx := xi - y[2*j]
				dy := yi - y[2*j+1]
				w := 1 / (1 + dx*dx + dy*dy)
				pw := vals[e] * w
				gx += pw * dx
				gy += pw * dy
				if wantKL {
					logSum += vals[e] * math.Log(w)
				}
			}
			grad[2*i] = exaggeration * gx
			grad[2*i+1] = exaggeration * gy
		}
		partial[c] = logSum
	})
	s := 0.0
	for _, v := range partial {
		s += v
	}
	return s
}

// entropyTerm returns sum_ij p_ij log p_ij, the constant part of the KL
// divergence.
func entropyTerm(P *csr) float64 {
	s := 0.0
	for _, p := range P.vals {
		if p > 0 {
			s += p * math.Log(p)
		}
	}
	return s
}

// exactRepulsion sets rep_i = sum_{j != i} w_ij^2 (y_i - y_j) for the n
// points of y (n x 2) and returns Z = sum_{i != j} w_ij, by summing over all
// pairs: O(n^2).
func exactRepulsion(y []float64, n int, rep []float64, workers int) float64 {
	partial := make([]float64, numChunks(n, exactGrain))
	forChunks(n, exactGrain, workers, func(_, c, lo, hi int) {
		z := 0.0
		for i := lo; i < hi; i++ {
			xi, yi := y[2*i], y[2*i+1]
			var rx, ry float64
			for j := range n {
				if j == i {
					continue
				}
				dx := xi - y[2*j]
				dy := yi - y[2*j+1]
				w := 1 / (1 + dx*dx + dy*dy)
				z += w
				w2 := w * w
				rx += w2 * dx
				ry += w2 * dy
			}
			rep[2*i] = rx
			rep[2*i+1] = ry
		}
		partial[c] = z
	})
	z := 0.0
	for _, v := range partial {
		z += v
	}
	return z
}

// klDivergence is the KL divergence of the map from the affinities, given
// entropy = sum p log p, logW = sum p log w and the normaliser Z: with
// q_ij = w_ij/Z and sum p = 1, KL = sum p log p - sum p log w + log Z.
func klDivergence(entropy, logW, z float64) float64 {
	return entropy - logW + math.Log(z)
}
