package tsne

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// quick returns options for short runs in tests: fewer iterations than the
// defaults (100 + 200), enough to separate clear clusters.
func quick(opts ...Option) []Option {
	return append([]Option{WithEarlyExaggeration(12, 100), WithIterations(200)}, opts...)
}

// TestAffinities checks the calibrated affinities of 500 points: every
// conditional distribution has the asked perplexity, P is symmetric, has no
// self-affinity, sums to 1, and holds every neighbour pair.
func TestAffinities(t *testing.T) {
	const n, dim, k = 500, 8, 60
	const perplexity = 20.0
	r := rand.New(rand.NewPCG(3, 4))
	pts, _ := clusters(r, n, dim, 3, 2, 1)
	nl, err := neighbors(pts, n, dim, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The conditional distributions' perplexity.
	p, d2 := make([]float64, k), make([]float64, k)
	for i := range n {
		_, dist := nl.Of(i)
		calibrate(dist, p, d2, perplexity)
		h, s := 0.0, 0.0
		for _, v := range p {
			s += v
			if v > 0 {
				h -= v * math.Log(v)
			}
		}
		if math.Abs(s-1) > 1e-12 || math.Abs(math.Exp(h)-perplexity) > 1e-3 {
			t.Fatalf("point %d: conditional sums to %v with perplexity %v, want 1 and %v", i, s, math.Exp(h), perplexity)
		}
	}
	P := affinities(nl, perplexity, 2)
	dense := denseP(P)
	sum := 0.0
	for i := range n {
		if dense[i*n+i] != 0 {
			t.Errorf("p_%d,%d = %v, want 0", i, i, dense[i*n+i])
		}
		if !slices.IsSorted(P.cols[P.rowPtr[i]:P.rowPtr[i+1]]) {
			t.Errorf("row %d: columns not sorted", i)
		}
		for j := range n {
			v := dense[i*n+j]
			sum += v
			if v < 0 || math.Abs(v-dense[j*n+i]) > 1e-18 {
				t.Fatalf("p_%d,%d = %v, p_%d,%d = %v: want equal and non-negative", i, j, v, j, i, dense[j*n+i])
			}
		}
		idx, _ := nl.Of(i)
		for _, j := range idx {
			if dense[i*n+j] <= 0 {
				t.Errorf("neighbours %d, %d have no affinity", i, j)
			}
		}
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("P sums to %v, want 1", sum)
	}
}

// TestCalibrateEqualDistances: when all neighbours are equally far no
// precision reaches a perplexity below k; the result is the uniform
// distribution, not NaN.
func TestCalibrateEqualDistances(t *testing.T) {
	dist := []float64{2, 2, 2, 2, 2, 2}
	p, d2 := make([]float64, 6), make([]float64, 6)
	calibrate(dist, p, d2, 3)
	for _, v := range p {
		if math.Abs(v-1.0/6) > 1e-12 {
			t.Fatalf("p = %v, want uniform", p)
		}
	}
}

// TestGradientExaggerated compares the gradient with exaggeration 12 with
// the textbook one for 12 P (the early phase's objective), exact repulsion.
func TestGradientExaggerated(t *testing.T) {
	const n = 150
	P, y := testProblem(t, n, 10)
	p := denseP(P)
	for i := range p {
		p[i] *= 12
	}
	want := exactGrad(p, y, n)
	cfg := DefaultConfig()
	cfg.Workers = 2
	o := newOptimizer(&cfg, P, y, RepulsionExact)
	o.gradient(12, false)
	got := make([]float64, 2*n)
	for i, g := range o.grad {
		got[i] = 4 * g
	}
	if e := relErr(got, want); e > 1e-10 {
		t.Errorf("exaggerated gradient: relative error %.3g", e)
	}
}

// knnAccuracy returns the kNN accuracy (k=15) of a 2-D map, 20% held out.
func knnAccuracy(t *testing.T, y []float32, labels []int) float64 {
	t.Helper()
	res, err := knn.HoldOutAccuracy(y, labels, 2, len(labels)/5, 1)
	if err != nil {
		t.Fatal(err)
	}
	return res.Accuracy
}

// clusterStats returns, over the classes of a 2-D map, the smallest
// distance between two class centroids and the largest root-mean-square
// distance of a class's points to its centroid.
func clusterStats(y []float32, labels []int, nClass int) (minSep, maxSpread float64) {
	cx, cy, cnt := make([]float64, nClass), make([]float64, nClass), make([]float64, nClass)
	for i, l := range labels {
		cx[l] += float64(y[2*i])
		cy[l] += float64(y[2*i+1])
		cnt[l]++
	}
	for c := range nClass {
		cx[c] /= cnt[c]
		cy[c] /= cnt[c]
	}
	ss := make([]float64, nClass)
	for i, l := range labels {
		dx, dy := float64(y[2*i])-cx[l], float64(y[2*i+1])-cy[l]
		ss[l] += dx*dx + dy*dy
	}
	minSep = math.Inf(1)
	for a := range nClass {
		maxSpread = max(maxSpread, math.Sqrt(ss[a]/cnt[a]))
		for b := range a {
			minSep = min(minSep, math.Hypot(cx[a]-cx[b], cy[a]-cy[b]))
		}
	}
	return minSep, maxSpread
}

// TestClustersStaySeparated: six Gaussian clusters in 50-D, far apart
// against their spread, must come out as six separate islands, with both
// repulsion methods: kNN accuracy (k=15) 1 up to a point or two, and every
// pair of centroids further apart than three times the largest cluster's
// root-mean-square radius.
func TestClustersStaySeparated(t *testing.T) {
	const nClass = 6
	for _, tc := range []struct {
		n   int
		rep Repulsion
	}{{600, RepulsionExact}, {2400, RepulsionFFT}} {
		r := rand.New(rand.NewPCG(7, uint64(tc.n)))
		pts, labels := clusters(r, tc.n, 50, nClass, 2, 1)
		res, err := EmbedContext(context.Background(), pts, tc.n, 50, quick(WithRepulsion(tc.rep), WithSeed(3))...)
		if err != nil {
			t.Fatal(err)
		}
		if res.Repulsion != tc.rep {
			t.Errorf("ran with %v, asked for %v", res.Repulsion, tc.rep)
		}
		acc := knnAccuracy(t, res.Embedding, labels)
		sep, spread := clusterStats(res.Embedding, labels, nClass)
		t.Logf("n=%d, %v: KL %.4f, kNN accuracy %.4f, min centroid distance %.2f, max cluster radius %.2f, %v",
			tc.n, tc.rep, res.KL, acc, sep, spread, res.Times.Total)
		if acc < 0.99 {
			t.Errorf("n=%d, %v: kNN accuracy %.4f, want >= 0.99", tc.n, tc.rep, acc)
		}
		if sep < 3*spread {
			t.Errorf("n=%d, %v: centroids %.2f apart, clusters of radius up to %.2f: not separated", tc.n, tc.rep, sep, spread)
		}
	}
}

// TestFFTMatchesExactRun: the same 1500 points embedded with each repulsion
// method end at nearly the same KL divergence and the same neighbourhoods.
func TestFFTMatchesExactRun(t *testing.T) {
	const n, nClass = 1500, 5
	r := rand.New(rand.NewPCG(8, 9))
	pts, labels := clusters(r, n, 20, nClass, 1, 1) // overlapping clusters
	var kl [2]float64
	var acc [2]float64
	for i, rep := range []Repulsion{RepulsionExact, RepulsionFFT} {
		res, err := EmbedContext(context.Background(), pts, n, 20, quick(WithRepulsion(rep))...)
		if err != nil {
			t.Fatal(err)
		}
		kl[i], acc[i] = res.KL, knnAccuracy(t, res.Embedding, labels)
		t.Logf("%v: KL %.4f, kNN accuracy %.4f, %v", rep, kl[i], acc[i], res.Times.Optimize)
	}
	if math.Abs(kl[0]-kl[1]) > 0.02*kl[0] || math.Abs(acc[0]-acc[1]) > 0.05 {
		t.Errorf("exact and FFT runs differ: KL %.4f vs %.4f, kNN accuracy %.4f vs %.4f", kl[0], kl[1], acc[0], acc[1])
	}
}

// TestDeterministic: one seed gives the same map bit for bit, run after run
// and for 1 or 2 workers, with each repulsion method and with the
// randomized PCA of a high-dimensional input; another seed gives another
// map.
func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, dim int
		rep    Repulsion
	}{
		{"exact", 300, 20, RepulsionExact},
		{"fft", 300, 20, RepulsionFFT},
		{"randomized-pca", 400, 200, RepulsionFFT},
	} {
		r := rand.New(rand.NewPCG(10, 11))
		pts, _ := clusters(r, tc.n, tc.dim, 4, 1, 1)
		run := func(seed uint64, workers int) []float32 {
			y, err := Embed(pts, tc.n, tc.dim, WithEarlyExaggeration(12, 30), WithIterations(30),
				WithRepulsion(tc.rep), WithSeed(seed), WithWorkers(workers))
			if err != nil {
				t.Fatal(err)
			}
			return y
		}
		a, b, c := run(1, 2), run(1, 2), run(1, 1)
		if !slices.Equal(a, b) {
			t.Errorf("%s: two runs with seed 1 differ", tc.name)
		}
		if !slices.Equal(a, c) {
			t.Errorf("%s: 1 and 2 workers differ", tc.name)
		}
		if d := run(2, 2); slices.Equal(a, d) {
			t.Errorf("%s: seeds 1 and 2 give the same map", tc.name)
		}
	}
}

// TestPCA checks the randomized PCA against the exact one (from the
// covariance matrix) on 600 points of 150-D with a decaying spectrum, and
// the Gram-matrix path on 40 such points against the covariance path: the
// scores on each of the top 10 components agree to 1% (measured: 1e-7 for
// the first, 1.3e-3 for the 10th, whose variance is within 20% of the 11th's;
// a wrong or missing component would differ by order 1).
func TestPCA(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	const dim, k = 150, 10
	make := func(n int) []float32 {
		pts := make([]float32, n*dim)
		for i := range n {
			for c := range 30 { // 30 directions of falling variance, plus noise
				s := r.NormFloat64() * 10 / float64(c+1)
				for d := range dim {
					pts[i*dim+d] += float32(s * math.Sin(float64((c+1)*(d+1))))
				}
			}
			for d := range dim {
				pts[i*dim+d] += float32(0.01*r.NormFloat64() + 3) // noise and an offset
			}
		}
		return pts
	}
	compare := func(name string, got, want []float64, n int) {
		for c := range k {
			var num, den float64
			for i := range n {
				dd := got[i*k+c] - want[i*k+c]
				num += dd * dd
				den += want[i*k+c] * want[i*k+c]
			}
			if e := math.Sqrt(num / den); e > 1e-2 {
				t.Errorf("%s: component %d differs by %.3g (relative)", name, c, e)
			}
		}
	}
	pts := make(600)
	mean := columnMeans(pts, 600, dim, 2)
	exact, err := pcaCovariance(pts, mean, 600, dim, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	fixSigns(exact, 600, k)
	rnd, err := pcaRandomized(pts, mean, 600, dim, k, 1)
	if err != nil {
		t.Fatal(err)
	}
	fixSigns(rnd, 600, k)
	compare("randomized", rnd, exact, 600)

	few := make(40)
	mean = columnMeans(few, 40, dim, 2)
	exact, err = pcaCovariance(few, mean, 40, dim, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	fixSigns(exact, 40, k)
	gram, err := pcaGram(few, mean, 40, dim, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	fixSigns(gram, 40, k)
	compare("gram", gram, exact, 40)
}

// TestSmallInputLowersPerplexity: 40 points cannot have perplexity 30; it
// is lowered to 13 and a note says so.
func TestSmallInputLowersPerplexity(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 15))
	pts, _ := clusters(r, 40, 5, 2, 3, 1)
	res, err := EmbedContext(context.Background(), pts, 40, 5, quick()...)
	if err != nil {
		t.Fatal(err)
	}
	if res.Perplexity != 13 || res.K != 39 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "perplexity 30") {
		t.Errorf("perplexity %v, k %d, notes %q: want 13, 39 and a note", res.Perplexity, res.K, res.Notes)
	}
	for _, v := range res.Embedding {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN in the map")
		}
	}
}

// TestDegenerateInputs: identical points, one-dimensional points,
// duplicates and fewer points than principal components give finite maps.
func TestDegenerateInputs(t *testing.T) {
	same := make([]float32, 50*3)
	for i := range same {
		same[i] = 1.5
	}
	r := rand.New(rand.NewPCG(16, 17))
	line := make([]float32, 200)
	for i := range line {
		line[i] = float32(r.NormFloat64())
	}
	dup := append(slices.Clone(line[:100]), line[:100]...)
	wide := make([]float32, 40*200) // PCA to 50 dimensions keeps 40
	for i := range wide {
		wide[i] = float32(r.NormFloat64())
	}
	for _, tc := range []struct {
		name   string
		pts    []float32
		n, dim int
		rep    Repulsion
	}{
		{"identical", same, 50, 3, RepulsionExact},
		{"identical-fft", same, 50, 3, RepulsionFFT},
		{"1-D", line, 200, 1, RepulsionAuto},
		{"duplicates", dup, 200, 1, RepulsionFFT},
		{"fewer points than principal components", wide, 40, 200, RepulsionAuto},
	} {
		res, err := EmbedContext(context.Background(), tc.pts, tc.n, tc.dim, WithEarlyExaggeration(12, 30), WithIterations(30), WithRepulsion(tc.rep))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for _, v := range res.Embedding {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Errorf("%s: non-finite value in the map", tc.name)
				break
			}
		}
		t.Logf("%s: KL %.4f, notes %q", tc.name, res.KL, res.Notes)
	}
}

// TestInitialEmbedding: with no iterations the given map comes back as is.
func TestInitialEmbedding(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 19))
	pts, _ := clusters(r, 30, 4, 2, 3, 1)
	init := make([]float32, 60)
	for i := range init {
		init[i] = float32(r.NormFloat64())
	}
	y, err := Embed(pts, 30, 4, WithInitialEmbedding(init), WithEarlyExaggeration(12, 0), WithIterations(0))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y, init) {
		t.Error("the initial embedding was changed by zero iterations")
	}
}

// TestPCAInitialisation: the starting map is the top two principal
// components scaled to standard deviation 1e-4 (plus a 1% jitter).
func TestPCAInitialisation(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 21))
	const n, dim = 300, 5
	pts := make([]float32, n*dim)
	for i := range n {
		a, b := r.NormFloat64()*10, r.NormFloat64()*3
		pts[i*dim] = float32(a)   // the first component
		pts[i*dim+3] = float32(b) // the second
		pts[i*dim+1] = float32(0.1 * r.NormFloat64())
	}
	cfg := DefaultConfig()
	cfg.Workers = 2
	y, err := initialize(&cfg, pts, n, dim, nil, 0, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if sd := stdDev(y, n); math.Abs(sd-1e-4) > 3e-6 {
		t.Errorf("first coordinate's standard deviation %.4g, want 1e-4", sd)
	}
	var cx, cy float64 // correlation with the generating coordinates
	for i := range n {
		cx += y[2*i] * float64(pts[i*dim])
		cy += y[2*i+1] * float64(pts[i*dim+3])
	}
	if math.Abs(cx) < 1e-9 || math.Abs(cy) < 1e-9 {
		t.Errorf("the initialisation does not follow the principal components (%.3g, %.3g)", cx, cy)
	}
	x := make([]float64, 2*n)
	mean := 0.0
	for i := range n {
		mean += float64(pts[i*dim]) / n
	}
	for i := range n {
		x[2*i] = float64(pts[i*dim]) - mean
	}
	sdx := stdDev(x, n)
	for i := range n {
		// Up to the sign, the jitter (standard deviation 1e-6) and the
		// small mixing in of the noise coordinate, y = x * 1e-4/sd(x).
		want := x[2*i] * 1e-4 / sdx
		if math.Abs(math.Abs(y[2*i])-math.Abs(want)) > 5e-6 {
			t.Fatalf("point %d: x %.4g, want about +-%.4g", i, y[2*i], want)
		}
	}
}

// TestProgressAndCancel: OnProgress is called every ReportEvery iterations
// and at the end with falling KL, and cancelling the context stops the run
// with an error that wraps context.Canceled.
func TestProgressAndCancel(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 23))
	pts, _ := clusters(r, 200, 10, 3, 3, 1)
	var seen []int
	var kls []float64
	_, err := Embed(pts, 200, 10, WithEarlyExaggeration(12, 100), WithIterations(100), WithProgress(func(p Progress) {
		seen = append(seen, p.Iteration)
		kls = append(kls, p.KL)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{50, 100, 150, 200}; !slices.Equal(seen, want) {
		t.Errorf("progress at %v, want %v", seen, want)
	}
	if kls[len(kls)-1] >= kls[0] {
		t.Errorf("KL did not fall: %v", kls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	_, err = EmbedContext(ctx, pts, 200, 10, WithProgress(func(p Progress) {
		if p.Iteration == 100 {
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "iteration 100") {
		t.Errorf("cancelled at iteration 100: got %v", err)
	}
	_, err = EmbedContext(ctx, pts, 200, 10)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the start: got %v", err)
	}
}

// TestBadInput: invalid data and settings are errors that say what is
// wrong.
func TestBadInput(t *testing.T) {
	good := make([]float32, 20*3)
	for i := range good {
		good[i] = float32(i % 7)
	}
	nan := slices.Clone(good)
	nan[3*5+1] = float32(math.NaN())
	inf := slices.Clone(good)
	inf[3*7] = float32(math.Inf(-1))
	for _, tc := range []struct {
		name   string
		pts    []float32
		n, dim int
		opts   []Option
		want   string
	}{
		{"too few points", good[:9], 3, 3, nil, "at least 4"},
		{"zero dimension", good, 20, 0, nil, "dimension 0"},
		{"length mismatch", good[:59], 20, 3, nil, "59 values for 20 points"},
		{"n mismatch", good, 21, 3, nil, "60 values for 21 points"},
		{"NaN", nan, 20, 3, nil, "point 5 has a non-finite coordinate 1"},
		{"Inf", inf, 20, 3, nil, "point 7 has a non-finite coordinate 0"},
		{"perplexity", good, 20, 3, []Option{WithPerplexity(0)}, "perplexity 0"},
		{"perplexity NaN", good, 20, 3, []Option{WithPerplexity(math.NaN())}, "perplexity NaN"},
		{"iterations", good, 20, 3, []Option{WithIterations(-1)}, "iterations"},
		{"exaggeration", good, 20, 3, []Option{WithExaggeration(0)}, "exaggerations"},
		{"learning rate", good, 20, 3, []Option{WithLearningRate(-1)}, "learning rate"},
		{"momentum", good, 20, 3, []Option{WithConfig(func() Config { c := DefaultConfig(); c.FinalMomentum = 1; return c }())}, "momenta"},
		{"repulsion", good, 20, 3, []Option{WithRepulsion(Repulsion(7))}, "unknown repulsion"},
		{"init", good, 20, 3, []Option{WithInit(Initialization(5))}, "unknown initialisation"},
		{"initial embedding length", good, 20, 3, []Option{WithInitialEmbedding(make([]float32, 39))}, "39 values for 20 points"},
		{"initial embedding NaN", good, 20, 3, []Option{WithInitialEmbedding(append(make([]float32, 39), float32(math.NaN())))}, "point 19"},
	} {
		_, err := Embed(tc.pts, tc.n, tc.dim, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tsne: ") {
			t.Errorf("%s: got error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestNextSmooth checks the FFT lengths.
func TestNextSmooth(t *testing.T) {
	for x, want := range map[int]int{1: 1, 7: 8, 299: 300, 301: 320, 449: 450, 451: 480, 1001: 1024} {
		if got := nextSmooth(x); got != want {
			t.Errorf("nextSmooth(%d) = %d, want %d", x, got, want)
		}
	}
}
