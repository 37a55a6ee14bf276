package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// PCA settings. exactPCAMaxDim: up to this many dimensions (or points) the
// principal components come exactly from the covariance (or Gram) matrix,
// whose cost grows with the square of the dimension; above it a randomized
// PCA is cheaper (about 1 s per pass over 60 000 x 3072 float32 values with
// gonum's Sgemm on 2 cores). pcaOversample and pcaPowerIters are those of
// scikit-learn's randomized_svd (10 extra directions, 4 power iterations
// when the rank is more than a tenth of the dimension), enough for the
// leading 50 components of image data, whose spectrum falls fast.
// pcaBlockRows is the number of rows centred at a time.
const (
	exactPCAMaxDim = 100
	pcaOversample  = 10
	pcaPowerIters  = 4
	pcaBlockRows   = 2048
)

// pca returns the scores of the n points (row-major, dimension dim) on
// their top min(k, dim, n) principal components, n x min(k, dim, n)
// row-major, in order of falling variance. Each component's sign is fixed so that its largest score in
// absolute value is positive (the first such point when several tie), so
// the result does not depend on the algorithm's arbitrary signs.
func pca(points []float32, n, dim, k int, seed uint64, workers int) ([]float32, error) {
	k = min(k, dim, n)
	mean := columnMeans(points, n, dim, workers)
	var scores []float64
	var err error
	switch {
	case dim <= exactPCAMaxDim:
		scores, err = pcaCovariance(points, mean, n, dim, k, workers)
	case n <= exactPCAMaxDim || n < 2*(k+pcaOversample):
		scores, err = pcaGram(points, mean, n, dim, k, workers)
	default:
		scores, err = pcaRandomized(points, mean, n, dim, k, seed)
	}
	if err != nil {
		return nil, err
	}
	fixSigns(scores, n, k)
	out := make([]float32, n*k)
	for i, v := range scores {
		out[i] = float32(v)
	}
	return out, nil
}

// columnMeans returns the mean of every coordinate, summed in fixed chunks.
func columnMeans(points []float32, n, dim, workers int) []float64 {
	const grain = 1024
	partial := make([][]float64, numChunks(n, grain))
	forChunks(n, grain, workers, func(_, c, lo, hi int) {
		s := make([]float64, dim)
		for i := lo; i < hi; i++ {
			for d, v := range points[i*dim : (i+1)*dim] {
				s[d] += float64(v)
			}
		}
		partial[c] = s
	})
	mean := make([]float64, dim)
	for _, s := range partial {
		for d, v := range s {
			mean[d] += v
		}
	}
	for d := range mean {
		mean[d] /= float64(n)
	}
	return mean
}

// fixSigns flips each of the k columns of the n x k scores so that its
// entry of largest magnitude is positive.
func fixSigns(scores []float64, n, k int) {
	for c := range k {
		best, bi := -1.0, 0
		for i := range n {
			if a := math.Abs(scores[i*k+c]); a > best {
				best, bi = a, i
			}
		}
		if scores[bi*k+c] < 0 {
			for i := range n {
				scores[i*k+c] = -scores[i*k+c]
			}
		}
	}
}

// pcaCovariance computes the scores from the eigenvectors of the dim x dim
// covariance matrix, accumulated in float64 over fixed chunks of points.
func pcaCovariance(points []float32, mean []float64, n, dim, k, workers int) ([]float64, error) {
	const grain = 2048
	partial := make([][]float64, numChunks(n, grain))
	forChunks(n, grain, workers, func(_, c, lo, hi int) {
		cov := make([]float64, dim*dim)
		x := make([]float64, dim)
		for i := lo; i < hi; i++ {
			for d, v := range points[i*dim : (i+1)*dim] {
				x[d] = float64(v) - mean[d]
			}
			for a, xa := range x {
				row := cov[a*dim : a*dim+a+1]
				for b := range row {
					row[b] += xa * x[b]
				}
			}
		}
		partial[c] = cov
	})
	sym := mat.NewSymDense(dim, nil)
	for a := range dim {
		for b := 0; b <= a; b++ {
			s := 0.0
			for _, cov := range partial {
				s += cov[a*dim+b]
			}
			sym.SetSym(a, b, s/float64(n))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, true) {
		return nil, fmt.Errorf("eigendecomposition of the %dx%d covariance matrix failed", dim, dim)
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)          // ascending eigenvalues: the top k are the last columns
	top := make([]float64, k*dim) // component c is top[c*dim : (c+1)*dim]
	for c := range k {
		for d := range dim {
			top[c*dim+d] = vecs.At(d, dim-1-c)
		}
	}
	scores := make([]float64, n*k)
	forChunks(n, grain, workers, func(_, _, lo, hi int) {
		x := make([]float64, dim)
		for i := lo; i < hi; i++ {
			for d, v := range points[i*dim : (i+1)*dim] {
				x[d] = float64(v) - mean[d]
			}
			for c := range k {
				s := 0.0
				for d, v := range top[c*dim : (c+1)*dim] {
					s += x[d] * v
				}
				scores[i*k+c] = s
			}
		}
	})
	return scores, nil
}

// pcaGram computes the scores from the eigenvectors of the n x n Gram matrix
// of the centred points (for few points of high dimension): X = U S V^T
// gives scores X V = U S.
func pcaGram(points []float32, mean []float64, n, dim, k, workers int) ([]float64, error) {
	xc := make([]float64, n*dim)
	for i := range n {
		for d, v := range points[i*dim : (i+1)*dim] {
			xc[i*dim+d] = float64(v) - mean[d]
		}
	}
	gram := make([]float64, n*n)
	forChunks(n, 16, workers, func(_, _, lo, hi int) {
		for a := lo; a < hi; a++ {
			xa := xc[a*dim : (a+1)*dim]
			for b := 0; b <= a; b++ {
				xb := xc[b*dim : (b+1)*dim]
				s := 0.0
				for d, v := range xa {
					s += v * xb[d]
				}
				gram[a*n+b] = s
				gram[b*n+a] = s
			}
		}
	})
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(n, gram), true) {
		return nil, fmt.Errorf("eigendecomposition of the %dx%d Gram matrix failed", n, n)
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	scores := make([]float64, n*k)
	for c := range k {
		col := n - 1 - c
		s := math.Sqrt(max(0, vals[col]))
		for i := range n {
			scores[i*k+c] = vecs.At(i, col) * s
		}
	}
	return scores, nil
}

// centredMatrix gives blocks of rows of the centred data as float32, so that
// the randomized PCA multiplies centred values (a large common offset would
// otherwise swamp the float32 products) without a centred copy of all the
// data.
type centredMatrix struct {
	points []float32
	mean   []float32
	n, dim int
	buf    []float32
}

// block returns rows [lo, hi) centred, valid until the next call.
func (m *centredMatrix) block(lo, hi int) blas32.General {
	if m.buf == nil {
		m.buf = make([]float32, pcaBlockRows*m.dim)
	}
	b := m.buf[:(hi-lo)*m.dim]
	for i := lo; i < hi; i++ {
		src := m.points[i*m.dim : (i+1)*m.dim]
		dst := b[(i-lo)*m.dim : (i-lo+1)*m.dim]
		for d, v := range src {
			dst[d] = v - m.mean[d]
		}
	}
	return blas32.General{Rows: hi - lo, Cols: m.dim, Stride: m.dim, Data: b}
}

// mulRight returns X_c W (n x l) for W of dim x l.
func (m *centredMatrix) mulRight(w []float32, l int) []float32 {
	out := make([]float32, m.n*l)
	W := blas32.General{Rows: m.dim, Cols: l, Stride: l, Data: w}
	for lo := 0; lo < m.n; lo += pcaBlockRows {
		hi := min(m.n, lo+pcaBlockRows)
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, m.block(lo, hi), W, 0,
			blas32.General{Rows: hi - lo, Cols: l, Stride: l, Data: out[lo*l : hi*l]})
	}
	return out
}

// mulLeftT returns X_c^T Q (dim x l) for Q of n x l, the blocks added in
// order.
func (m *centredMatrix) mulLeftT(q []float32, l int) []float32 {
	out := make([]float32, m.dim*l)
	O := blas32.General{Rows: m.dim, Cols: l, Stride: l, Data: out}
	for lo := 0; lo < m.n; lo += pcaBlockRows {
		hi := min(m.n, lo+pcaBlockRows)
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, m.block(lo, hi),
			blas32.General{Rows: hi - lo, Cols: l, Stride: l, Data: q[lo*l : hi*l]}, 1, O)
	}
	return out
}

// orthonormalize replaces the r x c matrix a (r >= c, row-major float32)
// by an orthonormal basis of its columns (Householder QR in float64) and
// returns the basis in float64 too.
func orthonormalize(a []float32, r, c int) ([]float64, error) {
	g := blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
	for i, v := range a {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("non-finite value in the randomized PCA")
		}
		g.Data[i] = float64(v)
	}
	tau := make([]float64, c)
	work := make([]float64, 1)
	lapack64.Geqrf(g, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(g, tau, work, len(work))
	work = make([]float64, 1)
	lapack64.Orgqr(g, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Orgqr(g, tau, work, len(work))
	for i, v := range g.Data {
		a[i] = float32(v)
	}
	return g.Data, nil
}

// pcaRandomized computes the top k scores by a randomized SVD of the
// centred data (Halko, Martinsson & Tropp 2011, algorithm 4.4 with
// re-orthonormalisation after every product): a Gaussian test matrix of
// l = k + pcaOversample columns, pcaPowerIters power iterations, then the
// SVD of the small l x dim projection B = Q^T X_c. The products run on
// float32 (gonum's parallel Sgemm), the orthonormalisations and the SVD in
// float64.
func pcaRandomized(points []float32, mean []float64, n, dim, k int, seed uint64) ([]float64, error) {
	l := min(k+pcaOversample, dim, n)
	m := &centredMatrix{points: points, n: n, dim: dim, mean: make([]float32, dim)}
	for d, v := range mean {
		m.mean[d] = float32(v)
	}
	r := rand.New(rand.NewPCG(seed, 0x9ca))
	omega := make([]float32, dim*l)
	for i := range omega {
		omega[i] = float32(r.NormFloat64())
	}
	y := m.mulRight(omega, l)
	q64, err := orthonormalize(y, n, l)
	if err != nil {
		return nil, err
	}
	for range pcaPowerIters {
		z := m.mulLeftT(y, l)
		if _, err := orthonormalize(z, dim, l); err != nil {
			return nil, err
		}
		y = m.mulRight(z, l)
		if q64, err = orthonormalize(y, n, l); err != nil {
			return nil, err
		}
	}
	// B^T = X_c^T Q (dim x l) = U_b S V_b^T, so X_c ~ Q B = (Q V_b) S U_b^T
	// and the scores X_c U_b are Q V_b S.
	bt := m.mulLeftT(y, l)
	a := blas64.General{Rows: dim, Cols: l, Stride: l, Data: make([]float64, dim*l)}
	for i, v := range bt {
		a.Data[i] = float64(v)
	}
	s := make([]float64, l)
	u := blas64.General{Stride: 1, Data: []float64{0}}
	vt := blas64.General{Rows: l, Cols: l, Stride: l, Data: make([]float64, l*l)}
	work := make([]float64, 1)
	lapack64.Gesvd(lapack.SVDNone, lapack.SVDAll, a, u, vt, s, work, -1)
	work = make([]float64, int(work[0]))
	if !lapack64.Gesvd(lapack.SVDNone, lapack.SVDAll, a, u, vt, s, work, len(work)) {
		return nil, fmt.Errorf("SVD of the %dx%d projection did not converge", dim, l)
	}
	// (Q V_b)[i][c] = sum_j Q[i][j] * Vt[c][j].
	scores := make([]float64, n*k)
	for i := range n {
		qi := q64[i*l : (i+1)*l]
		for c := range k {
			vc := vt.Data[c*l : (c+1)*l]
			t := 0.0
			for j, qv := range qi {
				t += qv * vc[j]
			}
			scores[i*k+c] = t * s[c]
		}
	}
	return scores, nil
}
