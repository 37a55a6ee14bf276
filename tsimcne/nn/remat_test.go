package nn

import (
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// TestRecomputeGathers checks that gathering the patches again in the
// backward pass changes nothing in the results (bit for bit) and that it
// does build a second Gather per 3x3 convolution, fed by the adjoint so that
// it cannot run during the forward pass; a pointwise convolution (no Gather)
// and a stride-2 1x1 one (a Gather smaller than its input) are left alone.
func TestRecomputeGathers(t *testing.T) {
	be := testBackend(t)
	if be.String() == "go" && !accel.Installed() {
		// patchProduct then splits the 3x3 convolution's product into
		// chunks, whose operand is a Reshape of the patches, not a Gather.
		t.Skip("tsimcne/accel is not installed: products on GoMLX's own kernel are chunked, and chunked patches are not recomputed")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const b, h, w, c, f = 2, 6, 6, 3, 4
	x := tensors.FromFlatDataAndDimensions(randSlice(rng, b*h*w*c), b, h, w, c)
	k3 := tensors.FromFlatDataAndDimensions(randSlice(rng, 3*3*c*f), 3, 3, c, f)
	k1 := tensors.FromFlatDataAndDimensions(randSlice(rng, f*f), 1, 1, f, f)
	r := tensors.FromFlatDataAndDimensions(randSlice(rng, b*3*3*f), b, 3, 3, f)

	run := func(recompute bool) (results [][]float32, gathers int, fedByAdjoint bool) {
		defer RecomputeGathers(RecomputeGathers(recompute))
		exec := MustNewExec(be, func(x, k3, k1, r *Node) []*Node {
			y := Conv2DWithKernel(x, k3, 1, 1)      // 3x3 patches: 9x the input
			y = Conv2DWithKernel(Tanh(y), k1, 2, 0) // 1x1, stride 2: a Gather of 1/4 of it
			y = Conv2DWithKernel(Tanh(y), k1, 1, 0) // pointwise: no Gather
			loss := ReduceAllSum(Mul(y, r))
			forwardEnd := loss.Id()
			grads := Gradient(loss, x, k3, k1)
			for _, node := range x.Graph().Nodes() {
				if node.Type() != NodeTypeGather {
					continue
				}
				gathers++
				if node.Id() > forwardEnd && dependsOnAny(node, func(n *Node) bool { return n.Id() > forwardEnd && n.Type() == NodeTypeSlice }) {
					fedByAdjoint = true
				}
			}
			return append([]*Node{loss}, grads...)
		})
		for _, res := range exec.MustExec(x, k3, k1, r) {
			results = append(results, flat32(t, res))
		}
		return
	}
	want, gathersOff, _ := run(false)
	got, gathersOn, fed := run(true)
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("result %d differs with recomputed gathers:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
	if gathersOff != 2 || gathersOn != 3 {
		t.Errorf("Gather nodes: %d without and %d with recomputation, want 2 and 3 (only the 3x3 patches recomputed)", gathersOff, gathersOn)
	}
	if !fed {
		t.Errorf("the recomputed Gather does not depend on the adjoint: it would run in the forward pass")
	}
}

// dependsOnAny reports whether some node that n (transitively) reads
// satisfies pred.
func dependsOnAny(n *Node, pred func(*Node) bool) bool {
	seen := map[*Node]bool{}
	stack := slices.Clone(n.Inputs())
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[m] {
			continue
		}
		seen[m] = true
		if pred(m) {
			return true
		}
		stack = append(stack, m.Inputs()...)
	}
	return false
}
