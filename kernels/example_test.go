package kernels_test

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// The pure-Go backend prints its parallelism setting to stdout when it is
// created: create it before the examples run, so that it is not part of
// their output.
var _ = backend.MustDefault()

// The t-SimCNE kernel as a GoMLX graph: log-similarities of all pairs of
// three 2-D points, computed on the pure-Go backend.
func ExampleCauchy() {
	z := [][]float32{{0, 0}, {1, 0}, {0, 2}}
	logQ := graph.MustExecOnce(backend.MustDefault(), func(z *graph.Node) *graph.Node {
		return graph.Exp(kernels.Cauchy{}.LogSimilarity(z, z))
	}, z)
	for _, row := range logQ.Value().([][]float32) {
		fmt.Printf("%.3f\n", row)
	}
	// Output:
	// [1.000 0.500 0.200]
	// [0.500 1.000 0.167]
	// [0.200 0.167 1.000]
}

// Kernels by name, as a command line would choose them, and their profile
// as a function of the squared distance, for plots.
func ExampleByName() {
	for _, spec := range []string{"cauchy", "student-t:0.5", "gaussian"} {
		k, err := kernels.Parse(spec)
		if err != nil {
			fmt.Println(err)
			return
		}
		dk := k.(kernels.DistanceKernel)
		fmt.Printf("%-22s q(d²=0)=%.3f q(d²=1)=%.3f q(d²=100)=%.5f\n", k, dk.Eval(0), dk.Eval(1), dk.Eval(100))
	}
	cos, _ := kernels.ByName("cosine") // SimCLR: exp(cos/τ), τ = 0.5
	fmt.Printf("%s: q(cos=1)=%.3f\n", cos, cos.(kernels.Cosine).EvalCos(1))
	// Output:
	// cauchy                 q(d²=0)=1.000 q(d²=1)=0.500 q(d²=100)=0.00990
	// student-t(dof=0.5)     q(d²=0)=1.000 q(d²=1)=0.439 q(d²=100)=0.01873
	// gaussian(sigma=0.7071) q(d²=0)=1.000 q(d²=1)=0.368 q(d²=100)=0.00000
	// cosine(tau=0.5): q(cos=1)=7.389
}
