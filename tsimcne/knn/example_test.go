package knn_test

import (
	"fmt"

	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// A toy 2-D map with two classes, left and right; three neighbours vote.
func Example() {
	train := []float32{
		-2, 0, -1, 1, -1, -1, // class 0, on the left
		2, 0, 1, 1, 1, -1, // class 1, on the right
	}
	trainLabels := []int{0, 0, 0, 1, 1, 1}
	test := []float32{-1.5, 0.2, 1.5, 0.2, 0.9, 0}
	testLabels := []int{0, 1, 0}
	res, err := knn.Accuracy(train, trainLabels, test, testLabels, 2, knn.WithK(3))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("accuracy %.3f, predictions %v\n", res.Accuracy, res.Predictions)
	for _, c := range res.PerClass {
		fmt.Printf("class %d: %d/%d\n", c.Label, c.Correct, c.Total)
	}
	// Output:
	// accuracy 0.667, predictions [0 1 1]
	// class 0: 1/2
	// class 1: 1/1
}

// The paper's protocol on one embedding: hold out a stratified 20% (10 000
// of 60 000 for CIFAR-10) and classify it by its 15 nearest neighbours among
// the rest.
func ExampleHoldOutAccuracy() {
	// 100 points on a line: class 0 below 50, class 1 from 50 on.
	points := make([]float32, 100)
	labels := make([]int, 100)
	for i := range points {
		points[i] = float32(i)
		labels[i] = i / 50
	}
	res, err := knn.HoldOutAccuracy(points, labels, 1, 20, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("held out %d points, accuracy %.2f\n", len(res.TestIndices), res.Accuracy)
	// Output: held out 20 points, accuracy 1.00
}

// Each point's nearest other points, e.g. for outlier scores.
func ExampleNeighbors() {
	points := []float32{0, 0, 1, 0, 0, 2, 10, 10}
	nl, err := knn.Neighbors(points, 2, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range nl.N {
		idx, dist := nl.Of(i)
		fmt.Printf("point %d: %v at %.2f\n", i, idx, dist)
	}
	// Output:
	// point 0: [1 2] at [1.00 2.00]
	// point 1: [0 2] at [1.00 2.24]
	// point 2: [0 1] at [2.00 2.24]
	// point 3: [2 1] at [12.81 13.45]
}
