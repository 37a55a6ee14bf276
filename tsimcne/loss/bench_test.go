package loss

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// BenchmarkInfoNCE times the loss and its gradient with respect to the
// embeddings (one training step's share of the loss) on the default
// backend, for the paper's output widths (128-D in stage 1, 2-D after).
//
//	go test -run XXX -bench InfoNCE ./tsimcne/loss/
func BenchmarkInfoNCE(b *testing.B) {
	for _, k := range []kernels.Kernel{kernels.Cauchy{}, kernels.Cosine{}} {
		for _, bd := range [][2]int{{256, 2}, {512, 2}, {256, 128}, {512, 128}} {
			bsz, dim := bd[0], bd[1]
			b.Run(fmt.Sprintf("%s/B=%d/D=%d", k.Name(), bsz, dim), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				flat := make([]float32, 2*bsz*dim)
				for i := range flat {
					flat[i] = float32(rng.NormFloat64())
				}
				z := tensors.FromFlatDataAndDimensions(flat, 2*bsz, dim)
				e := MustNewExec(backend.MustDefault(), func(z *Node) (*Node, *Node) {
					l := InfoNCE(k, z)
					return l, Gradient(l, z)[0]
				})
				e.MustExec(z) // compile
				b.ResetTimer()
				for range b.N {
					e.MustExec(z)
				}
			})
		}
	}
}
