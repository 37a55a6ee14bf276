package knn

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
)

// HoldOutSplit splits the points with the given labels into a training and a
// test part of nTest points, stratified by class: each class gives the test
// part its share of nTest (n_c*nTest/N, rounded by largest remainder so that
// the shares add up to nTest; equal remainders favour the smaller label), and
// the points of a class that go to the test part are drawn uniformly at
// random.
//
// Both index lists are sorted and together hold every index once. The split
// depends only on labels, nTest and seed: the random draws are a Fisher-Yates
// shuffle per class, in label order, driven by a PCG generator seeded with
// (seed, 0x6b6e6e) and reduced with a plain modulo, so they do not change with
// the Go version. It returns an error when nTest is outside [0, len(labels)].
func HoldOutSplit(labels []int, nTest int, seed uint64) (trainIdx, testIdx []int, err error) {
	n := len(labels)
	if nTest < 0 || nTest > n {
		return nil, nil, fmt.Errorf("knn: hold-out size %d out of range [0, %d]", nTest, n)
	}
	byClass := map[int][]int{}
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	classes := make([]int, 0, len(byClass))
	for l := range byClass {
		classes = append(classes, l)
	}
	slices.Sort(classes)

	// Shares by largest remainder.
	type share struct {
		label, quota int
		rem          int64 // remainder of n_c*nTest / n
	}
	shares := make([]share, len(classes))
	total := 0
	for i, l := range classes {
		p := int64(len(byClass[l])) * int64(nTest)
		shares[i] = share{label: l, quota: int(p / int64(n)), rem: p % int64(n)}
		total += shares[i].quota
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(shares[b].rem, shares[a].rem) })
	for _, i := range order[:nTest-total] {
		shares[i].quota++
	}

	rng := rand.New(rand.NewPCG(seed, 0x6b6e6e))
	testIdx = make([]int, 0, nTest)
	trainIdx = make([]int, 0, n-nTest)
	for i, l := range classes {
		idx := byClass[l] // ascending
		for j := len(idx) - 1; j > 0; j-- {
			r := int(rng.Uint64() % uint64(j+1))
			idx[j], idx[r] = idx[r], idx[j]
		}
		q := shares[i].quota
		testIdx = append(testIdx, idx[:q]...)
		trainIdx = append(trainIdx, idx[q:]...)
	}
	slices.Sort(testIdx)
	slices.Sort(trainIdx)
	return trainIdx, testIdx, nil
}
