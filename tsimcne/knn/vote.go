package knn

// voter counts the votes of one query's neighbours; it keeps its scratch
// space between calls.
type voter struct {
	labels []int
	counts []int
	sums   []float64
}

// vote returns the majority label among labels (the neighbours' classes,
// nearest first) at distances dists. A tie in the number of votes goes to the
// class with the smallest sum of its voters' distances, then to the smallest
// label.
func (v *voter) vote(labels []int, dists []float64) int {
	v.labels, v.counts, v.sums = v.labels[:0], v.counts[:0], v.sums[:0]
	for i, l := range labels {
		j := 0
		for j < len(v.labels) && v.labels[j] != l {
			j++
		}
		if j == len(v.labels) {
			v.labels = append(v.labels, l)
			v.counts = append(v.counts, 0)
			v.sums = append(v.sums, 0)
		}
		v.counts[j]++
		v.sums[j] += dists[i]
	}
	best := 0
	for j := 1; j < len(v.labels); j++ {
		switch {
		case v.counts[j] > v.counts[best]:
			best = j
		case v.counts[j] < v.counts[best]:
		case v.sums[j] < v.sums[best]:
			best = j
		case v.sums[j] == v.sums[best] && v.labels[j] < v.labels[best]:
			best = j
		}
	}
	return v.labels[best]
}
