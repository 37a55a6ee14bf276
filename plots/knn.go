package plots

import (
	"fmt"

	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// The k nearest map neighbours are found with tsimcne/knn's k-d tree, the
// project's one k-d tree. It orders neighbours at equal distance by index
// and skips subtrees that cannot hold a better (distance, index) pair, so
// exact duplicates, common in a collapsed or early-training map, cost no
// more than distinct points (gonum's tree, used here before, visited the
// whole tree for every query among identical points: quadratic time).

// kNearest returns, for every point of xy (flat [N,2]), its k nearest other
// points (flat N×k, nearest first, ties by index) and their Euclidean
// distances.
func kNearest(xy []float32, k int) (nbr []int, dist []float64, err error) {
	l, err := knn.Neighbors(xy, 2, k, knn.WithAlgorithm(knn.KDTree))
	if err != nil {
		return nil, nil, fmt.Errorf("plots: %d nearest map neighbours: %w", k, err)
	}
	return l.Indices, l.Distances, nil
}

// nearestInSubset returns, for each point idx[j] of xy, the distance to the
// nearest other point of the subset idx (len(idx) >= 2).
func nearestInSubset(xy []float32, idx []int) ([]float64, error) {
	sub := make([]float32, 0, 2*len(idx))
	for _, i := range idx {
		sub = append(sub, xy[2*i], xy[2*i+1])
	}
	l, err := knn.Neighbors(sub, 2, 1, knn.WithAlgorithm(knn.KDTree))
	if err != nil {
		return nil, fmt.Errorf("plots: nearest map neighbour within a class: %w", err)
	}
	return l.Distances, nil
}
