package tsne

import (
	"math"
	"math/rand/v2"
	"testing"
)

// clusters returns n points of dimension dim in nClass Gaussian clusters
// (standard deviation sd around centres drawn from N(0, 1) per coordinate,
// times spread) and their labels, point i in cluster i % nClass.
func clusters(r *rand.Rand, n, dim, nClass int, spread, sd float64) ([]float32, []int) {
	centres := make([]float64, nClass*dim)
	for i := range centres {
		centres[i] = r.NormFloat64() * spread
	}
	points := make([]float32, n*dim)
	labels := make([]int, n)
	for i := range n {
		c := i % nClass
		labels[i] = c
		for d := range dim {
			points[i*dim+d] = float32(centres[c*dim+d] + r.NormFloat64()*sd)
		}
	}
	return points, labels
}

// denseP returns the affinities of P as a dense n x n matrix.
func denseP(P *csr) []float64 {
	d := make([]float64, P.n*P.n)
	for i := range P.n {
		for e := P.rowPtr[i]; e < P.rowPtr[i+1]; e++ {
			d[i*P.n+int(P.cols[e])] = P.vals[e]
		}
	}
	return d
}

// exactKL returns the KL divergence of the map y from the dense affinities
// p, summed over all pairs in the textbook way.
func exactKL(p, y []float64, n int) float64 {
	z := 0.0
	for i := range n {
		for j := range n {
			if i != j {
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				z += 1 / (1 + dx*dx + dy*dy)
			}
		}
	}
	kl := 0.0
	for i := range n {
		for j := range n {
			if pij := p[i*n+j]; i != j && pij > 0 {
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				q := 1 / (1 + dx*dx + dy*dy) / z
				kl += pij * math.Log(pij/q)
			}
		}
	}
	return kl
}

// exactGrad returns the textbook gradient of the KL divergence,
// dKL/dy_i = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j), over all pairs.
func exactGrad(p, y []float64, n int) []float64 {
	z := 0.0
	for i := range n {
		for j := range n {
			if i != j {
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				z += 1 / (1 + dx*dx + dy*dy)
			}
		}
	}
	g := make([]float64, 2*n)
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			w := 1 / (1 + dx*dx + dy*dy)
			f := 4 * (p[i*n+j] - w/z) * w
			g[2*i] += f * dx
			g[2*i+1] += f * dy
		}
	}
	return g
}

// relErr returns |a-b| / |b|.
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// testProblem returns the affinities (perplexity 15) of n points in 4
// clusters of 10-D and a map for them: the points' first two coordinates
// scaled to span the given width.
func testProblem(t *testing.T, n int, width float64) (*csr, []float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	pts, _ := clusters(r, n, 10, 4, 3, 1)
	nl, err := neighbors(pts, n, 10, 45, 2)
	if err != nil {
		t.Fatal(err)
	}
	P := affinities(nl, 15, 2)
	y := make([]float64, 2*n)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range n {
		y[2*i], y[2*i+1] = float64(pts[i*10]), float64(pts[i*10+1])
		lo, hi = min(lo, y[2*i], y[2*i+1]), max(hi, y[2*i], y[2*i+1])
	}
	for i := range y {
		y[i] = (y[i] - lo) / (hi - lo) * width
	}
	return P, y
}

// TestExactGradientMatchesFiniteDifferences checks the reference itself:
// the textbook gradient against central differences of the KL divergence.
func TestExactGradientMatchesFiniteDifferences(t *testing.T) {
	const n = 60
	P, y := testProblem(t, n, 8)
	p := denseP(P)
	g := exactGrad(p, y, n)
	const eps = 1e-6
	fd := make([]float64, 2*n)
	for i := range y {
		old := y[i]
		y[i] = old + eps
		up := exactKL(p, y, n)
		y[i] = old - eps
		down := exactKL(p, y, n)
		y[i] = old
		fd[i] = (up - down) / (2 * eps)
	}
	if e := relErr(g, fd); e > 1e-6 {
		t.Errorf("textbook gradient vs finite differences: relative error %.3g", e)
	}
}

// TestGradient compares the optimiser's gradient (times 4: it follows a
// quarter of the KL's gradient) and KL divergence with the textbook O(n^2)
// ones on 200 points, for both repulsion methods, on maps of several widths:
// 0.001 (the start), 5 and 30 (the grid's 50 boxes per axis are 0.1 and 0.6
// wide), and 120 (120 boxes of width 1).
//
// Tolerances: the exact method differs by rounding only (1e-10). The FFT
// method's error is that of interpolating the squared Cauchy kernel with 3
// Lagrange nodes per box axis: 4e-5 at width 5, 5e-3 at width 30, and 7e-2
// at width 120, where 200 points lie so far apart that nearly all the
// repulsion comes from pairs in neighbouring boxes, interpolated at the
// coarsest resolution (dense maps of many points, where the far field
// counts, fare better: see TestFFTMatchesExactRun). So the defaults are
// held to 1e-2 up to width 30, and at width 120 the error must fall below
// 1e-2 with 5 nodes per box and below 1e-3 with 7 (the convergence that
// shows the scheme is right: a wrong sign, a missing term or an
// off-by-one node are errors of order 1 that more nodes do not cure). The
// KL divergence depends on the repulsion only through log Z, and Z is a sum
// of positive terms: it is held to 1e-3 (relative).
func TestGradient(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		width float64
		rep   Repulsion
		nodes int
		tol   float64
		klTol float64
	}{
		{1e-3, RepulsionExact, 3, 1e-10, 1e-10},
		{5, RepulsionExact, 3, 1e-10, 1e-10},
		{30, RepulsionExact, 3, 1e-10, 1e-10},
		{120, RepulsionExact, 3, 1e-10, 1e-10},
		{1e-3, RepulsionFFT, 3, 1e-2, 1e-3},
		{5, RepulsionFFT, 3, 1e-2, 1e-3},
		{30, RepulsionFFT, 3, 1e-2, 1e-3},
		{120, RepulsionFFT, 5, 1e-2, 1e-3},
		{120, RepulsionFFT, 7, 1e-3, 1e-3},
	} {
		P, y := testProblem(t, n, tc.width)
		p := denseP(P)
		want := exactGrad(p, y, n)
		wantKL := exactKL(p, y, n)
		cfg := DefaultConfig()
		cfg.Workers = 2
		cfg.InterpolationPoints = tc.nodes
		o := newOptimizer(&cfg, P, y, tc.rep)
		kl := o.gradient(1, true)
		got := make([]float64, 2*n)
		for i, g := range o.grad {
			got[i] = 4 * g
		}
		e := relErr(got, want)
		klErr := math.Abs(kl-wantKL) / wantKL
		t.Logf("width %g, %v, %d nodes: gradient relative error %.3g, KL %.6f vs %.6f", tc.width, tc.rep, tc.nodes, e, kl, wantKL)
		if e > tc.tol || klErr > tc.klTol {
			t.Errorf("width %g, %v, %d nodes: gradient relative error %.3g (tolerance %g), KL %.6f vs %.6f (tolerance %g)",
				tc.width, tc.rep, tc.nodes, e, tc.tol, kl, wantKL, tc.klTol)
		}
	}
}
