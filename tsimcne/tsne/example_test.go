package tsne_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/gosimcne/gosimcne/tsimcne/knn"
	"github.com/gosimcne/gosimcne/tsimcne/tsne"
)

// Three clusters of 100 points in 20-D become three islands of a 2-D map;
// the kNN accuracy (k=15) of the map measures how well it keeps them apart.
func Example() {
	r := rand.New(rand.NewPCG(1, 2))
	const n, dim = 300, 20
	points := make([]float32, n*dim) // row-major: point i is points[i*dim:(i+1)*dim]
	labels := make([]int, n)
	for i := range n {
		labels[i] = i % 3
		for d := range dim {
			centre := 0.0
			if d == labels[i] {
				centre = 10 // cluster c sits 10 units out along axis c
			}
			points[i*dim+d] = float32(centre + r.NormFloat64())
		}
	}
	y, err := tsne.Embed(points, n, dim, tsne.WithSeed(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(y)/2, "points in 2-D")
	res, err := knn.HoldOutAccuracy(y, labels, 2, 60, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("kNN accuracy of the map: %.2f\n", res.Accuracy)
	// Output:
	// 300 points in 2-D
	// kNN accuracy of the map: 1.00
}

// EmbedContext reports the stages and the settings it used.
func ExampleEmbedContext() {
	r := rand.New(rand.NewPCG(3, 4))
	const n, dim = 60, 5
	points := make([]float32, n*dim)
	for i := range points {
		points[i] = float32(r.NormFloat64())
	}
	// 60 points are too few for perplexity 30: it is lowered to (60-1)/3.
	res, err := tsne.EmbedContext(context.Background(), points, n, dim, tsne.WithIterations(250))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("perplexity %.2f, %d neighbours, %v repulsion, %d iterations\n",
		res.Perplexity, res.K, res.Repulsion, res.Iterations)
	fmt.Println(res.Notes[0])
	// Output:
	// perplexity 19.67, 59 neighbours, exact repulsion, 500 iterations
	// perplexity 30 needs at least 91 points; lowered to 19.67 for 60 points
}
