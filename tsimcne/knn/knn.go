// Package knn measures how well a map keeps classes apart: the k-nearest-
// neighbour classification accuracy that the t-SimCNE paper reports for every
// embedding (k = 15, Euclidean distance, in the 2-D output; also on 512-D
// backbone features and on raw pixels).
//
// Points are flat row-major []float32 with an explicit dimension, which is how
// the flat data of GoMLX tensors come out: point i is
// points[i*dim : (i+1)*dim]. Labels are []int, one per point.
//
// Two ways to evaluate:
//
//   - Accuracy: classify a test set by the labels of its k nearest points in a
//     training set.
//   - HoldOutAccuracy: hold out a stratified random subset of one embedding
//     (see HoldOutSplit) and classify it by the rest, as the paper does
//     (10 000 of 60 000 held out).
//
// Neighbors and Query return the neighbour lists themselves (the plots package
// uses them for outlier scores).
//
// # Search
//
// Neighbours are ordered by (distance, index): among points at exactly the
// same distance the one with the smaller index comes first, so results are
// deterministic and do not depend on the number of workers or on the
// algorithm. Two algorithms find them, chosen by dimension unless WithAlgorithm
// says otherwise:
//
//   - KDTree (dim <= 3, the 2-D maps): a k-d tree with exact float64
//     distances, queries run in parallel.
//   - BruteForce (dim > 3): all distances by |a|^2 + |b|^2 - 2 a.b with a
//     cache-blocked float32 dot-product kernel (AVX-512VL or AVX2/FMA
//     assembly on amd64, plain Go elsewhere), queries run in parallel. The
//     best k+margin candidates of each query (margin = max(8, k/2)) are then
//     re-ranked with exact float64 distances, so the float32 rounding of the
//     expansion cannot change the result unless more than the margin of
//     points lie within rounding error (about 1e-7 |a|^2) of the k-th
//     distance. Points that share an offset large against their spread are
//     centred first, so that the offset does not inflate that error.
//
// # Vote
//
// The predicted class is the majority class among the k neighbours. Ties
// between classes with the same number of votes go to the class whose votes
// have the smallest summed distance to the query, and if those sums are equal
// too, to the smallest label.
package knn

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// DefaultK is the number of neighbours of the paper's evaluation.
const DefaultK = 15

// Metric is the distance used to find neighbours.
type Metric int

const (
	// Euclidean is the L2 distance |a-b|; the paper's metric.
	Euclidean Metric = iota
	// Cosine is the cosine distance 1 - a.b/(|a||b|). Points of zero norm are
	// an error with this metric.
	Cosine
)

// String returns "euclidean" or "cosine".
func (m Metric) String() string {
	switch m {
	case Euclidean:
		return "euclidean"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// Algorithm selects how neighbours are searched. All algorithms return the
// same neighbours; they differ in speed only.
type Algorithm int

const (
	// Auto uses KDTree for dim <= 3 and BruteForce above.
	Auto Algorithm = iota
	// KDTree searches a k-d tree; fast in low dimension, valid in any.
	KDTree
	// BruteForce computes all query-to-train distances, blocked and
	// vectorised; the choice for high dimension.
	BruteForce
)

// String returns "auto", "kdtree" or "bruteforce".
func (a Algorithm) String() string {
	switch a {
	case Auto:
		return "auto"
	case KDTree:
		return "kdtree"
	case BruteForce:
		return "bruteforce"
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// kdTreeMaxDim is the largest dimension for which Auto picks KDTree.
const kdTreeMaxDim = 3

// Config holds the settings of an evaluation. The options set its fields
// over the defaults: K = DefaultK, Euclidean, Auto, GOMAXPROCS workers.
type Config struct {
	// K is the number of neighbours that vote (default DefaultK). Neighbors
	// and Query take k as an argument and ignore this field.
	K int
	// Metric is the distance (default Euclidean).
	Metric Metric
	// Algorithm is the search method (default Auto).
	Algorithm Algorithm
	// Workers is the number of goroutines (default runtime.GOMAXPROCS(0)).
	Workers int
}

// Option changes a Config.
type Option func(*Config)

// WithK sets the number of voting neighbours (default 15).
func WithK(k int) Option { return func(c *Config) { c.K = k } }

// WithMetric sets the distance (default Euclidean).
func WithMetric(m Metric) Option { return func(c *Config) { c.Metric = m } }

// WithAlgorithm forces a search algorithm (default Auto).
func WithAlgorithm(a Algorithm) Option { return func(c *Config) { c.Algorithm = a } }

// WithWorkers sets the number of goroutines; n <= 0 means
// runtime.GOMAXPROCS(0).
func WithWorkers(n int) Option { return func(c *Config) { c.Workers = n } }

// newConfig applies opts over the defaults and checks the result.
func newConfig(opts []Option) (Config, error) {
	c := Config{K: DefaultK}
	for _, o := range opts {
		o(&c)
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Metric != Euclidean && c.Metric != Cosine {
		return c, fmt.Errorf("knn: unknown metric %v", c.Metric)
	}
	if c.Algorithm != Auto && c.Algorithm != KDTree && c.Algorithm != BruteForce {
		return c, fmt.Errorf("knn: unknown algorithm %v", c.Algorithm)
	}
	return c, nil
}

// ClassAccuracy is the accuracy on the test points of one class.
type ClassAccuracy struct {
	// Label is the class.
	Label int
	// Correct of Total test points of this class were predicted as Label.
	Correct, Total int
	// Accuracy is Correct/Total.
	Accuracy float64
}

// Result is the outcome of a kNN evaluation.
type Result struct {
	// K and Metric are the settings used.
	K      int
	Metric Metric
	// Accuracy is Correct/Total over all test points.
	Accuracy float64
	// Correct of Total test points were predicted right.
	Correct, Total int
	// BalancedAccuracy is the mean of the per-class accuracies.
	BalancedAccuracy float64
	// PerClass holds one entry per label present among the test points,
	// sorted by label.
	PerClass []ClassAccuracy
	// Predictions holds the predicted label of each test point.
	Predictions []int
	// TestIndices is set by HoldOutAccuracy: the indices (into the points
	// given to it) of the held-out test points, in the order of Predictions.
	// It is nil for Accuracy.
	TestIndices []int
}

// String summarises r on one line per class after a header line.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kNN accuracy (k=%d, %s): %.4f (%d/%d), balanced %.4f",
		r.K, r.Metric, r.Accuracy, r.Correct, r.Total, r.BalancedAccuracy)
	for _, c := range r.PerClass {
		fmt.Fprintf(&b, "\n  class %d: %.4f (%d/%d)", c.Label, c.Accuracy, c.Correct, c.Total)
	}
	return b.String()
}

// Accuracy classifies each test point by the majority label of its k nearest
// training points (k = 15 unless WithK says otherwise) and returns the
// accuracy, per class and overall, and the predictions.
//
// train holds len(trainLabels) points of dimension dim, row-major; test holds
// len(testLabels) points. It returns an error for mismatched lengths, dim <= 0,
// k < 1 or k greater than the number of training points, an empty test set,
// non-finite coordinates (naming the point) and, with Cosine, points of zero
// norm.
func Accuracy(train []float32, trainLabels []int, test []float32, testLabels []int, dim int, opts ...Option) (*Result, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	trainSet, err := newPointSet("train", train, dim, cfg)
	if err != nil {
		return nil, err
	}
	if len(trainLabels) != trainSet.n {
		return nil, fmt.Errorf("knn: %d train labels for %d train points (%d values of dim %d)", len(trainLabels), trainSet.n, len(train), dim)
	}
	testSet, err := newPointSet("test", test, dim, cfg)
	if err != nil {
		return nil, err
	}
	if len(testLabels) != testSet.n {
		return nil, fmt.Errorf("knn: %d test labels for %d test points (%d values of dim %d)", len(testLabels), testSet.n, len(test), dim)
	}
	return evaluate(cfg, trainSet, trainLabels, testSet, testLabels)
}

// HoldOutAccuracy evaluates one embedding as the paper does: it holds out
// nTest points chosen at random, stratified by class (HoldOutSplit with seed),
// and classifies them by their k nearest neighbours among the other points.
// Result.TestIndices says which points were held out.
//
// The paper's setting is nTest = 10000 of the 60000 CIFAR images, k = 15.
// Errors are those of Accuracy and HoldOutSplit.
func HoldOutAccuracy(points []float32, labels []int, dim, nTest int, seed uint64, opts ...Option) (*Result, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	all, err := newPointSet("point", points, dim, cfg)
	if err != nil {
		return nil, err
	}
	if len(labels) != all.n {
		return nil, fmt.Errorf("knn: %d labels for %d points (%d values of dim %d)", len(labels), all.n, len(points), dim)
	}
	trainIdx, testIdx, err := HoldOutSplit(labels, nTest, seed)
	if err != nil {
		return nil, err
	}
	trainSet := all.subset(trainIdx)
	testSet := all.subset(testIdx)
	trainLabels := gather(labels, trainIdx)
	testLabels := gather(labels, testIdx)
	res, err := evaluate(cfg, trainSet, trainLabels, testSet, testLabels)
	if err != nil {
		return nil, err
	}
	res.TestIndices = testIdx
	return res, nil
}

// gather returns xs[idx[0]], xs[idx[1]], ...
func gather(xs []int, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// evaluate runs the search and the vote on validated point sets.
func evaluate(cfg Config, train *pointSet, trainLabels []int, test *pointSet, testLabels []int) (*Result, error) {
	if test.n == 0 {
		return nil, fmt.Errorf("knn: no test points")
	}
	if cfg.K < 1 || cfg.K > train.n {
		return nil, fmt.Errorf("knn: k=%d out of range [1, %d] (number of train points)", cfg.K, train.n)
	}
	nl := search(cfg, train, test, cfg.K, false)
	res := &Result{K: cfg.K, Metric: cfg.Metric, Total: test.n, Predictions: make([]int, test.n)}
	parallelFor(test.n, cfg.Workers, 1024, func(lo, hi int) {
		var v voter
		labels := make([]int, cfg.K)
		for i := lo; i < hi; i++ {
			idx, dist := nl.Of(i)
			for j, t := range idx {
				labels[j] = trainLabels[t]
			}
			res.Predictions[i] = v.vote(labels, dist)
		}
	})
	perClass := map[int]*ClassAccuracy{}
	for i, l := range testLabels {
		c := perClass[l]
		if c == nil {
			c = &ClassAccuracy{Label: l}
			perClass[l] = c
		}
		c.Total++
		if res.Predictions[i] == l {
			c.Correct++
			res.Correct++
		}
	}
	for _, c := range perClass {
		c.Accuracy = float64(c.Correct) / float64(c.Total)
		res.PerClass = append(res.PerClass, *c)
		res.BalancedAccuracy += c.Accuracy
	}
	slices.SortFunc(res.PerClass, func(a, b ClassAccuracy) int { return cmp.Compare(a.Label, b.Label) })
	res.BalancedAccuracy /= float64(len(res.PerClass))
	res.Accuracy = float64(res.Correct) / float64(res.Total)
	return res, nil
}
