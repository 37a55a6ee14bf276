package knn

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// refNeighbors is an independent, plain brute-force kNN: every distance in
// float64, summed in index order, sorted by (distance, index).
func refNeighbors(train, query []float32, dim, k int, metric Metric, self bool) (idx [][]int, dist [][]float64) {
	nt, nq := len(train)/dim, len(query)/dim
	for q := range nq {
		a := query[q*dim : (q+1)*dim]
		type cand struct {
			d float64
			i int
		}
		var cs []cand
		for t := range nt {
			if self && t == q {
				continue
			}
			b := train[t*dim : (t+1)*dim]
			var d float64
			if metric == Cosine {
				var ab, aa, bb float64
				for j := range a {
					ab += float64(a[j]) * float64(b[j])
					aa += float64(a[j]) * float64(a[j])
					bb += float64(b[j]) * float64(b[j])
				}
				d = 1 - ab/math.Sqrt(aa*bb)
			} else {
				for j := range a {
					x := float64(a[j]) - float64(b[j])
					d += x * x
				}
				d = math.Sqrt(d)
			}
			cs = append(cs, cand{d, t})
		}
		slices.SortFunc(cs, func(x, y cand) int {
			if c := cmp.Compare(x.d, y.d); c != 0 {
				return c
			}
			return cmp.Compare(x.i, y.i)
		})
		var ri []int
		var rd []float64
		for _, c := range cs[:k] {
			ri = append(ri, c.i)
			rd = append(rd, c.d)
		}
		idx = append(idx, ri)
		dist = append(dist, rd)
	}
	return idx, dist
}

// randomPoints returns n points of dimension dim: with grid, small integers
// (0..3, so that many distances tie exactly), else Gaussian floats.
func randomPoints(r *rand.Rand, n, dim int, grid bool) []float32 {
	p := make([]float32, n*dim)
	for i := range p {
		if grid {
			p[i] = float32(r.IntN(4))
		} else {
			p[i] = float32(r.NormFloat64())
		}
	}
	return p
}

// prefixes returns the first k entries of each row.
func prefixes(idx [][]int, dist [][]float64, k int) ([][]int, [][]float64) {
	pi := make([][]int, len(idx))
	pd := make([][]float64, len(dist))
	for i := range idx {
		pi[i], pd[i] = idx[i][:k], dist[i][:k]
	}
	return pi, pd
}

// checkList compares a NeighborList with the reference: indices exactly,
// distances to 1e-9 (the summation orders differ).
func checkList(t *testing.T, name string, got *NeighborList, idx [][]int, dist [][]float64) {
	t.Helper()
	if got.N != len(idx) {
		t.Fatalf("%s: N=%d, want %d", name, got.N, len(idx))
	}
	for q := range idx {
		gi, gd := got.Of(q)
		if !slices.Equal(gi, idx[q]) {
			t.Fatalf("%s: query %d: neighbours %v, want %v (distances %v, want %v)", name, q, gi, idx[q], gd, dist[q])
		}
		for j := range gd {
			if math.Abs(gd[j]-dist[q][j]) > 1e-9*(1+dist[q][j]) {
				t.Fatalf("%s: query %d: distance %d = %v, want %v", name, q, j, gd[j], dist[q][j])
			}
		}
	}
}

// withKernels runs f with each micro-kernel this CPU can run.
func withKernels(t *testing.T, f func(t *testing.T, k kernelKind)) {
	saved := kernel
	defer func() { kernel = saved }()
	for k := kernelGo; k <= bestKernel; k++ {
		kernel = k
		f(t, k)
	}
}

func TestSearchMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// 17, 33, 100: kernel plus scalar tail; 1100: two dimension chunks
	// (1024 + 64) and a tail of 12.
	dims := []int{1, 2, 3, 5, 16, 17, 33, 100, 1100}
	if testing.Short() {
		dims = []int{1, 2, 3, 17, 1100}
	}
	withKernels(t, func(t *testing.T, kern kernelKind) {
		for _, dim := range dims {
			for _, grid := range []bool{true, false} {
				for _, metric := range []Metric{Euclidean, Cosine} {
					if metric == Cosine && (grid || dim == 1) {
						// Integer points include zero vectors, and in 1-D
						// all cosine distances are 0 or 2: cosine is checked
						// on Gaussian points of 2 or more dimensions.
						continue
					}
					// 259 queries: three query blocks of 128, the last one
					// of 3 (not a multiple of 4); 261 train points: the last
					// train block of 64 is partial and not a multiple of 4.
					nt, nq := 261, 259
					train := randomPoints(r, nt, dim, grid)
					query := randomPoints(r, nq, dim, grid)
					// The reference for k=40; its prefixes serve smaller k.
					allI, allD := refNeighbors(train, query, dim, 40, metric, false)
					allSelfI, allSelfD := refNeighbors(train, train, dim, 40, metric, true)
					for _, k := range []int{1, 4, 15, 40} {
						refI, refD := prefixes(allI, allD, k)
						selfI, selfD := prefixes(allSelfI, allSelfD, k)
						for _, alg := range []Algorithm{KDTree, BruteForce, Auto} {
							if alg != BruteForce && kern != bestKernel {
								continue // only brute force uses the kernel: once is enough
							}
							if alg == KDTree && dim > 33 {
								continue // valid but slow: nothing to prune
							}
							name := fmt.Sprintf("kernel=%v dim=%d grid=%v %v k=%d %v", kern, dim, grid, metric, k, alg)
							opts := []Option{WithMetric(metric), WithAlgorithm(alg), WithWorkers(3)}
							got, err := Query(train, query, dim, k, opts...)
							if err != nil {
								t.Fatalf("%s: Query: %v", name, err)
							}
							checkList(t, name+" Query", got, refI, refD)
							got, err = Neighbors(train, dim, k, opts...)
							if err != nil {
								t.Fatalf("%s: Neighbors: %v", name, err)
							}
							checkList(t, name+" Neighbors", got, selfI, selfD)
						}
					}
				}
			}
		}
	})
}

// TestLargeOffset: points that share a large offset, where float32
// |a|^2+|b|^2-2a.b alone would return wrong neighbours (the brute-force search
// must centre them), and nearly parallel vectors for Cosine.
func TestLargeOffset(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	const dim, nt, nq, k = 20, 300, 100, 15
	for _, c := range []struct {
		metric         Metric
		offset, spread float64
	}{
		{Euclidean, 1000, 0.01},
		{Cosine, 10, 0.1},
	} {
		gen := func(n int) []float32 {
			p := make([]float32, n*dim)
			for i := range p {
				p[i] = float32(c.offset + c.spread*r.NormFloat64())
			}
			return p
		}
		train, query := gen(nt), gen(nq)
		refI, refD := refNeighbors(train, query, dim, k, c.metric, false)
		selfI, selfD := refNeighbors(train, train, dim, k, c.metric, true)
		withKernels(t, func(t *testing.T, kern kernelKind) {
			for _, alg := range []Algorithm{BruteForce, KDTree} {
				name := fmt.Sprintf("%v %v kernel=%v", c.metric, alg, kern)
				opts := []Option{WithMetric(c.metric), WithAlgorithm(alg)}
				got, err := Query(train, query, dim, k, opts...)
				if err != nil {
					t.Fatal(err)
				}
				checkList(t, name+" Query", got, refI, refD)
				got, err = Neighbors(train, dim, k, opts...)
				if err != nil {
					t.Fatal(err)
				}
				checkList(t, name+" Neighbors", got, selfI, selfD)
			}
		})
	}
}

// TestRefinement: ten points whose squared norms differ by less than float32
// resolution, so that their float32 keys tie; the exact re-ranking of the
// k+margin candidates must find the truly nearest.
func TestRefinement(t *testing.T) {
	const dim = 20
	var train []float32
	for i := range 10 {
		p := make([]float32, dim)
		p[0], p[1] = 1, float32(10-i)*1e-5 // |p|^2 = 1 + (10-i)^2 * 1e-10
		train = append(train, p...)
	}
	for range 10 { // far points, so that the data are not centred
		p := make([]float32, dim)
		p[0] = -5
		train = append(train, p...)
	}
	query := make([]float32, dim)
	withKernels(t, func(t *testing.T, kern kernelKind) {
		got, err := Query(train, query, dim, 3, WithAlgorithm(BruteForce))
		if err != nil {
			t.Fatal(err)
		}
		if idx, _ := got.Of(0); !slices.Equal(idx, []int{9, 8, 7}) {
			t.Errorf("kernel %v: neighbours %v, want [9 8 7]", kern, idx)
		}
	})
}

// TestTiesOrderedByIndex checks a hand-made case: on a 1-D line the points
// at equal distance come in index order, whatever the algorithm.
func TestTiesOrderedByIndex(t *testing.T) {
	// Points 0..5 at x = 2, 0, 1, 3, 1, 2 (dim 1 for the tree; the same
	// line padded with zeros to dim 20 for brute force).
	xs := []float32{2, 0, 1, 3, 1, 2}
	query := []float32{1}
	for _, dim := range []int{1, 20} {
		train := make([]float32, len(xs)*dim)
		q := make([]float32, dim)
		for i, x := range xs {
			train[i*dim] = x
		}
		q[0] = query[0]
		for _, alg := range []Algorithm{KDTree, BruteForce} {
			got, err := Query(train, q, dim, 6, WithAlgorithm(alg))
			if err != nil {
				t.Fatal(err)
			}
			// Distances: 0 (points 2, 4), 1 (0, 1, 5), 2 (3).
			want := []int{2, 4, 0, 1, 5, 3}
			if idx, _ := got.Of(0); !slices.Equal(idx, want) {
				t.Errorf("dim=%d %v: neighbours %v, want %v", dim, alg, idx, want)
			}
		}
	}
}

// TestIdenticalPoints checks that a collapsed map (all points equal) gives
// each point the k smallest other indices.
func TestIdenticalPoints(t *testing.T) {
	const n, k = 20000, 15
	points := make([]float32, 2*n)
	for i := range n {
		points[2*i], points[2*i+1] = 0.5, -2
	}
	got, err := Neighbors(points, 2, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 3, 14, 15, 16, 9999, n - 1} {
		var want []int
		for j := 0; len(want) < k; j++ {
			if j != i {
				want = append(want, j)
			}
		}
		idx, dist := got.Of(i)
		if !slices.Equal(idx, want) {
			t.Errorf("point %d: neighbours %v, want %v", i, idx, want)
		}
		for _, d := range dist {
			if d != 0 {
				t.Errorf("point %d: distance %v, want 0", i, d)
			}
		}
	}
}

// TestIdenticalPointsWork counts the leaves the k-d tree scans for each
// query of a collapsed map: the first leaves in index order, until the heap
// holds k points, and no other, since every other subtree is at the same
// distance 0 with larger indices. A search that did not skip such ties
// (gonum's) scans all n/kdLeafSize leaves per query, quadratic in n.
func TestIdenticalPointsWork(t *testing.T) {
	const n, k = 20000, 15
	points := make([]float32, 2*n)
	for i := range n {
		points[2*i], points[2*i+1] = 0.5, -2
	}
	set, err := newPointSet("point", points, 2, Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	tree := newKDTree(set, false)
	h := &kdHeap{k: k}
	idx, dist := make([]int, k), make([]float64, k)
	// Enough leaves for k+1 points (the query's own leaf may hold it).
	maxLeaves := (k+1+kdLeafSize-1)/kdLeafSize + 1
	for s, id := range tree.ids {
		h.leaves = 0
		tree.search(0, tree.coords[2*s:2*s+2], id, h)
		if h.leaves > maxLeaves {
			t.Fatalf("query %d scanned %d leaves, want at most %d (of %d)", id, h.leaves, maxLeaves, len(tree.nodes)/2+1)
		}
		h.sortInto(idx, dist, Euclidean)
	}
}

// TestKernels checks each micro-kernel against float64 dot products: exactly
// on small integers, to float32 rounding on Gaussian values.
func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	withKernels(t, func(t *testing.T, kern kernelKind) {
		for _, grid := range []bool{true, false} {
			for _, n := range []int{16, 32, 48, 512, 3072} {
				a := make([][]float32, 4)
				b := make([][]float32, 4)
				c := make([][]float32, 4)
				for i := range 4 {
					a[i] = randomPoints(r, 1, n, grid)
					b[i] = randomPoints(r, 1, n, grid)
					c[i] = []float32{float32(i), 1, 2, 3}
				}
				dot4x4(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3], n, c[0], c[1], c[2], c[3])
				for i := range 4 {
					for j := range 4 {
						want := float64([]float32{float32(i), 1, 2, 3}[j])
						for x := range n {
							want += float64(a[i][x]) * float64(b[j][x])
						}
						tol := 1e-5 * float64(n)
						if grid {
							tol = 0
						}
						if got := float64(c[i][j]); math.Abs(got-want) > tol {
							t.Errorf("kernel %v, n=%d, grid=%v: a%d.b%d = %v, want %v", kern, n, grid, i, j, got, want)
						}
					}
				}
			}
		}
	})
}

func TestVoteTieRule(t *testing.T) {
	var v voter
	for _, c := range []struct {
		labels []int
		dists  []float64
		want   int
	}{
		{[]int{7}, []float64{1}, 7},
		// Plain majority beats the nearest neighbour's class.
		{[]int{1, 2, 2}, []float64{0.1, 5, 6}, 2},
		// 2-2 tie: class 2's votes are nearer in sum (0.5+1 < 1+1).
		{[]int{2, 1, 1, 2}, []float64{0.5, 1, 1, 1}, 2},
		// 2-2 tie and equal sums: smallest label.
		{[]int{4, 3, 3, 4}, []float64{1, 1, 2, 2}, 3},
		{[]int{3, 4, 4, 3}, []float64{1, 1, 2, 2}, 3},
		// Three-way tie, one vote each: the nearest wins on sum.
		{[]int{9, 5, 6}, []float64{1, 2, 3}, 9},
		// 2-2 tie: the class seen second has the smaller sum (1.3 < 5.5).
		{[]int{1, 2, 2, 1}, []float64{0.5, 0.6, 0.7, 5}, 2},
		// Negative labels are labels like any other.
		{[]int{-1, 0}, []float64{1, 1}, -1},
	} {
		if got := v.vote(c.labels, c.dists); got != c.want {
			t.Errorf("vote(%v, %v) = %d, want %d", c.labels, c.dists, got, c.want)
		}
	}
}

// TestAccuracyTies builds ties in the geometry and checks the predictions
// through Accuracy with both algorithms.
func TestAccuracyTies(t *testing.T) {
	// 1-D: label 5 at x=+1, label 3 at x=-1, k=2. A query at 0 has one vote
	// each at equal distance: smallest label, 3. A query at 0.1 has equal
	// counts but class 5 nearer in sum: 5. Queries at +-3 likewise.
	train := []float32{1, -1}
	trainLabels := []int{5, 3}
	test := []float32{0, 0.1, -0.1, 3}
	testLabels := []int{3, 5, 3, 5}
	for _, alg := range []Algorithm{KDTree, BruteForce} {
		res, err := Accuracy(train, trainLabels, test, testLabels, 1, WithK(2), WithAlgorithm(alg))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{3, 5, 3, 5}; !slices.Equal(res.Predictions, want) {
			t.Errorf("%v: predictions %v, want %v", alg, res.Predictions, want)
		}
		if res.Accuracy != 1 || res.Correct != 4 || res.Total != 4 {
			t.Errorf("%v: accuracy %v (%d/%d), want 1 (4/4)", alg, res.Accuracy, res.Correct, res.Total)
		}
	}
}

// clusters returns n points of dimension dim in nClass Gaussian clusters of
// standard deviation sd around well-separated centres, labels = cluster.
func clusters(r *rand.Rand, n, dim, nClass int, sd float64) ([]float32, []int) {
	centres := make([]float64, nClass*dim)
	for i := range centres {
		centres[i] = 10 * r.NormFloat64()
	}
	p := make([]float32, n*dim)
	labels := make([]int, n)
	for i := range n {
		c := r.IntN(nClass)
		labels[i] = c
		for d := range dim {
			p[i*dim+d] = float32(centres[c*dim+d] + sd*r.NormFloat64())
		}
	}
	return p, labels
}

func TestAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range []int{2, 50} {
		// Separated clusters: perfect.
		train, trainLabels := clusters(r, 2000, dim, 5, 0.1)
		res, err := Accuracy(train[:1500*dim], trainLabels[:1500], train[1500*dim:], trainLabels[1500:], dim)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accuracy != 1 || res.BalancedAccuracy != 1 || res.K != DefaultK || res.Total != 500 {
			t.Errorf("dim=%d separated clusters: %v", dim, res)
		}
		if len(res.PerClass) != 5 {
			t.Errorf("dim=%d: %d classes, want 5", dim, len(res.PerClass))
		}
		total := 0
		for i, c := range res.PerClass {
			if c.Label != i {
				t.Errorf("PerClass[%d].Label = %d", i, c.Label)
			}
			total += c.Total
		}
		if total != 500 {
			t.Errorf("per-class totals add up to %d, want 500", total)
		}

		// Random labels: about chance (1/4), far from perfect.
		shuffled := slices.Clone(trainLabels)
		for i := range shuffled {
			shuffled[i] = r.IntN(4)
		}
		res, err = Accuracy(train[:1500*dim], shuffled[:1500], train[1500*dim:], shuffled[1500:], dim)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accuracy < 0.15 || res.Accuracy > 0.35 {
			t.Errorf("dim=%d random labels: accuracy %v, want about 0.25", dim, res.Accuracy)
		}
		// Predictions agree with the counts.
		correct := 0
		for i, p := range res.Predictions {
			if p == shuffled[1500+i] {
				correct++
			}
		}
		if correct != res.Correct {
			t.Errorf("predictions give %d correct, Result says %d", correct, res.Correct)
		}
	}
}

// TestAccuracyPerClass checks the per-class numbers on a hand-made case.
func TestAccuracyPerClass(t *testing.T) {
	// 1-D, k=1. Train: label 0 at 0, label 1 at 10. Test: three of class 0
	// near 0 (right), one of class 1 near 0 (wrong), one of class 1 at 10.
	train := []float32{0, 10}
	res, err := Accuracy(train, []int{0, 1}, []float32{0.1, 0.2, -0.3, 1, 9}, []int{0, 0, 0, 1, 1}, 1, WithK(1))
	if err != nil {
		t.Fatal(err)
	}
	want := []ClassAccuracy{{Label: 0, Correct: 3, Total: 3, Accuracy: 1}, {Label: 1, Correct: 1, Total: 2, Accuracy: 0.5}}
	if !slices.Equal(res.PerClass, want) || res.Accuracy != 0.8 || res.BalancedAccuracy != 0.75 {
		t.Errorf("got %v", res)
	}
}

func TestWorkersDoNotChangeResults(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, dim := range []int{2, 40} {
		p := randomPoints(r, 3000, dim, true)
		a, err := Neighbors(p, dim, 15, WithWorkers(1))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Neighbors(p, dim, 15, WithWorkers(7))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Indices, b.Indices) || !slices.Equal(a.Distances, b.Distances) {
			t.Errorf("dim=%d: 1 and 7 workers disagree", dim)
		}
	}
}

func TestHoldOutSplit(t *testing.T) {
	// 60 000 points, 10 classes of 6000, as CIFAR-10: 1000 per class held out.
	labels := make([]int, 60000)
	for i := range labels {
		labels[i] = (i * 7) % 10
	}
	train, test, err := HoldOutSplit(labels, 10000, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(test) != 10000 || len(train) != 50000 {
		t.Fatalf("sizes %d/%d, want 50000/10000", len(train), len(test))
	}
	if !slices.IsSorted(train) || !slices.IsSorted(test) {
		t.Error("index lists are not sorted")
	}
	seen := make([]int, len(labels))
	for _, i := range train {
		seen[i]++
	}
	for _, i := range test {
		seen[i]++
	}
	for i, s := range seen {
		if s != 1 {
			t.Fatalf("index %d appears %d times in train+test", i, s)
		}
	}
	counts := map[int]int{}
	for _, i := range test {
		counts[labels[i]]++
	}
	for c := range 10 {
		if counts[c] != 1000 {
			t.Errorf("class %d: %d held out, want 1000", c, counts[c])
		}
	}
	// Deterministic by seed, different for another seed.
	train2, test2, _ := HoldOutSplit(labels, 10000, 42)
	if !slices.Equal(train, train2) || !slices.Equal(test, test2) {
		t.Error("same seed gave a different split")
	}
	_, test3, _ := HoldOutSplit(labels, 10000, 43)
	if slices.Equal(test, test3) {
		t.Error("seeds 42 and 43 gave the same split")
	}
	// Not simply the first points of each class.
	if test[len(test)-1] < 50000 {
		t.Errorf("held-out points all among the first 50000: %d", test[len(test)-1])
	}
}

func TestHoldOutSplitShares(t *testing.T) {
	for _, c := range []struct {
		sizes map[int]int
		nTest int
		want  map[int]int
	}{
		{map[int]int{0: 10, 1: 20, 2: 30}, 6, map[int]int{0: 1, 1: 2, 2: 3}},
		// Equal remainders (2/3 each): the two smallest labels get the extra.
		{map[int]int{5: 1, 6: 1, 7: 1}, 2, map[int]int{5: 1, 6: 1, 7: 0}},
		// Largest remainder: 7*3/10 = 2.1, 3*3/10 = 0.9 -> 2 and 1.
		{map[int]int{0: 7, 1: 3}, 3, map[int]int{0: 2, 1: 1}},
		{map[int]int{0: 7, 1: 3}, 0, map[int]int{0: 0, 1: 0}},
		{map[int]int{0: 7, 1: 3}, 10, map[int]int{0: 7, 1: 3}},
	} {
		var labels []int
		for l, n := range c.sizes {
			for range n {
				labels = append(labels, l)
			}
		}
		r := rand.New(rand.NewPCG(9, 9))
		r.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
		train, test, err := HoldOutSplit(labels, c.nTest, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]int{}
		for l := range c.sizes {
			got[l] = 0
		}
		for _, i := range test {
			got[labels[i]]++
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) || len(train)+len(test) != len(labels) {
			t.Errorf("sizes %v, nTest %d: held out %v, want %v", c.sizes, c.nTest, got, c.want)
		}
	}
}

func TestHoldOutAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	points, labels := clusters(r, 3000, 2, 4, 3)
	res, err := HoldOutAccuracy(points, labels, 2, 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	trainIdx, testIdx, _ := HoldOutSplit(labels, 500, 7)
	if !slices.Equal(res.TestIndices, testIdx) {
		t.Fatal("TestIndices differ from HoldOutSplit's")
	}
	// Same as Accuracy on the gathered points.
	gatherPts := func(idx []int) []float32 {
		var out []float32
		for _, i := range idx {
			out = append(out, points[2*i:2*i+2]...)
		}
		return out
	}
	want, err := Accuracy(gatherPts(trainIdx), gather(labels, trainIdx), gatherPts(testIdx), gather(labels, testIdx), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Predictions, want.Predictions) || res.Accuracy != want.Accuracy {
		t.Errorf("HoldOutAccuracy %v, Accuracy on the same split %v", res.Accuracy, want.Accuracy)
	}
	if res.Accuracy < 0.5 || res.Accuracy == 1 {
		t.Errorf("overlapping clusters: accuracy %v, want between 0.5 and 1", res.Accuracy)
	}
}

func TestBadInput(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	good := []float32{0, 0, 1, 1, 2, 2, 3, 3} // 4 points in 2-D
	lab := []int{0, 1, 0, 1}
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"train labels", func() error {
			_, err := Accuracy(good, lab[:3], good, lab, 2)
			return err
		}, "3 train labels for 4 train points"},
		{"test labels", func() error {
			_, err := Accuracy(good, lab, good, lab[:2], 2)
			return err
		}, "2 test labels for 4 test points"},
		{"dim 0", func() error {
			_, err := Accuracy(good, lab, good, lab, 0)
			return err
		}, "dim=0"},
		{"dim negative", func() error {
			_, err := Neighbors(good, -2, 1)
			return err
		}, "dim=-2"},
		{"ragged", func() error {
			_, err := Accuracy(good[:7], lab, good, lab, 2)
			return err
		}, "7 values, not a multiple of dim=2"},
		{"k 0", func() error {
			_, err := Accuracy(good, lab, good, lab, 2, WithK(0))
			return err
		}, "k=0 out of range [1, 4]"},
		{"k too big", func() error {
			_, err := Accuracy(good, lab, good, lab, 2, WithK(5))
			return err
		}, "k=5 out of range [1, 4]"},
		{"default k too big", func() error {
			_, err := Accuracy(good, lab, good, lab, 2)
			return err
		}, "k=15 out of range"},
		{"NaN in train", func() error {
			p := slices.Clone(good)
			p[5] = nan
			_, err := Accuracy(p, lab, good, lab, 2, WithK(1))
			return err
		}, "train point 2 has non-finite coordinate NaN at dimension 1"},
		{"Inf in test", func() error {
			p := slices.Clone(good)
			p[6] = inf
			_, err := Accuracy(good, lab, p, lab, 2, WithK(1))
			return err
		}, "test point 3 has non-finite coordinate +Inf at dimension 0"},
		{"NaN high-D, first bad point named", func() error {
			// Bad points in two chunks of the parallel check.
			p := make([]float32, 3000*40)
			p[2500*40] = nan
			p[1500*40+39] = nan
			_, err := Neighbors(p, 40, 3)
			return err
		}, "point 1500 has non-finite coordinate NaN at dimension 39"},
		{"cosine zero", func() error {
			_, err := Accuracy(good, lab, good, lab, 2, WithK(1), WithMetric(Cosine))
			return err
		}, "train point 0 has zero norm"},
		{"empty test", func() error {
			_, err := Accuracy(good, lab, nil, nil, 2, WithK(1))
			return err
		}, "no test points"},
		{"neighbors k", func() error {
			_, err := Neighbors(good, 2, 4)
			return err
		}, "k=4 out of range [1, 3]"},
		{"query k", func() error {
			_, err := Query(good, good[:2], 2, 5)
			return err
		}, "k=5 out of range [1, 4]"},
		{"unknown metric", func() error {
			_, err := Neighbors(good, 2, 1, WithMetric(Metric(9)))
			return err
		}, "unknown metric"},
		{"hold-out labels", func() error {
			_, err := HoldOutAccuracy(good, lab[:2], 2, 1, 1)
			return err
		}, "2 labels for 4 points"},
		{"hold-out size", func() error {
			_, _, err := HoldOutSplit(lab, 5, 1)
			return err
		}, "hold-out size 5 out of range [0, 4]"},
		{"hold-out size negative", func() error {
			_, _, err := HoldOutSplit(lab, -1, 1)
			return err
		}, "hold-out size -1"},
	} {
		err := c.err()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}
