package loss_test

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/loss"
)

// The pure-Go backend prints its parallelism setting to stdout when it is
// created: create it before the examples run.
var _ = backend.MustDefault()

// The InfoNCE loss of a batch of two images: rows 0-1 are the first views,
// rows 2-3 the second views, so rows 0 and 2 (and 1 and 3) are positive
// pairs. Views close to their partner and far from the other image give a
// small loss; swapping the partners gives a large one. (For training, the
// gradient comes from graph.Gradient or the trainer, see LossFn.)
func ExampleInfoNCE() {
	good := [][]float32{{2, 0}, {0, 2}, {2, 0.2}, {0.2, 2}}
	bad := [][]float32{{2, 0}, {0, 2}, {0.2, 2}, {2, 0.2}}
	for _, k := range []kernels.Kernel{kernels.Cauchy{}, kernels.Cosine{}} {
		for i, z := range [][][]float32{good, bad} {
			name := []string{"good", "bad"}[i]
			outs := graph.MustExecOnceN(backend.MustDefault(), func(z *graph.Node) []*graph.Node {
				t := loss.InfoNCETerms(k, z)
				return []*graph.Node{t.Loss, t.Attraction, t.Repulsion}
			}, z)
			fmt.Printf("%-15s %-4s loss=%.4f attraction=%.4f repulsion=%.4f\n", k, name,
				outs[0].Value(), outs[1].Value(), outs[2].Value())
		}
	}
	// Output:
	// cauchy          good loss=0.2259 attraction=0.0392 repulsion=0.1867
	// cauchy          bad  loss=2.2957 attraction=2.1090 repulsion=0.1867
	// cosine(tau=0.5) good loss=0.2899 attraction=-1.9901 repulsion=2.2800
	// cosine(tau=0.5) bad  loss=2.0809 attraction=-0.1990 repulsion=2.2800
}
