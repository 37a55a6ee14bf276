//go:build !noaccel

package accel_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX style.
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// TestFusedTiles checks the fused tile nodes against the same graph built
// without them: the shapes of tsimcne/nn's Winograd convolution (a Gather
// of rows with a zero row, products with constant matrices, a Transpose
// back to pixel order) and their gradients, with random index tables in
// which rows are gathered several times, from far-apart tiles too.
func TestFusedTiles(t *testing.T) {
	be := newFusedBackend(t)
	r := rand.New(rand.NewPCG(40, 41))
	for _, c := range []struct {
		batch, h, w, rowSize, q, p int
		zeros                      float64 // fraction of zeros in the constant matrices
		kron                       bool    // constant matrices that are Kronecker products (as Winograd's)
	}{
		{2, 4, 4, 3, 9, 5, 0, false},       // tiny: one chunk
		{16, 8, 8, 16, 36, 16, 0, false},   // many chunks, in parallel
		{16, 8, 8, 16, 36, 16, 0.6, false}, // the same, sparse: the row-combination kernel
		{16, 8, 8, 16, 36, 16, 0.4, true},  // Kronecker products: two passes of it
		{64, 4, 4, 40, 16, 4, 0.6, false},  // rows not a multiple of the vector width
	} {
		name := fmt.Sprintf("%+v", c)
		rows := c.batch * c.h * c.w
		tiles := c.batch * c.h * c.w / 4 // each "tile" covers a 2x2 block
		// Gather table [q, tiles, 1]: mostly rows near the tile, sometimes
		// the zero row (index rows) or any row.
		idx := make([]int32, c.q*tiles)
		for i := range idx {
			t := i % tiles
			switch r.IntN(8) {
			case 0:
				idx[i] = int32(rows)
			case 1:
				idx[i] = int32(r.IntN(rows))
			default:
				idx[i] = int32(min(rows-1, 4*t+r.IntN(6)))
			}
		}
		mIn := randomTensor(r, "f32", c.p, c.q) // p outputs from q taps
		mOut := randomTensor(r, "f32", 4, c.p)  // 2x2 outputs per tile
		if c.kron {
			mIn, mOut = kronTensor(r, c.p, c.q, c.zeros), kronTensor(r, 4, c.p, c.zeros)
		}
		for _, m := range []*tensors.Tensor{mIn, mOut} {
			if c.kron {
				break // zeros are in the factors
			}
			tensors.MutableFlatData(m, func(d []float32) {
				for i := range d {
					if r.Float64() < c.zeros {
						d[i] = 0
					}
				}
			})
		}
		x := randomTensor(r, "f32", c.batch, c.h, c.w, c.rowSize)
		w := randomTensor(r, "f32", c.batch, c.h, c.w, c.rowSize)
		fn := func(x, w *Node) []*Node {
			g := x.Graph()
			flat := Reshape(x, rows, c.rowSize)
			flat = Concatenate([]*Node{flat, ZerosLike(Slice(flat, AxisRange(0, 1)))}, 0)
			d := Gather(flat, Const(g, tensors.FromFlatDataAndDimensions(idx, c.q, tiles, 1)))
			v := DotGeneral(Const(g, mIn), []int{1}, nil, d, []int{0}, nil)  // [p, tiles, rowSize]
			v = Mul(v, v)                                                    // something non-linear in between
			y := DotGeneral(Const(g, mOut), []int{1}, nil, v, []int{0}, nil) // [4, tiles, rowSize]
			y = Reshape(y, 2, 2, c.batch, c.h/2, c.w/2, c.rowSize)
			y = TransposeAllAxes(y, 2, 3, 0, 4, 1, 5)
			y = Reshape(y, c.batch, c.h, c.w, c.rowSize)
			loss := ReduceAllSum(Mul(y, w))
			return append([]*Node{y}, Gradient(loss, x)...)
		}
		run := func(fuse bool) []*tensors.Tensor {
			prev := accel.FuseTilesForTest(fuse)
			defer accel.FuseTilesForTest(prev)
			builtBefore, runBefore := accel.TileOpsForTest()
			out, err := MustNewExec(be, fn).Exec(x, w)
			if err != nil {
				t.Fatalf("%s (fused tiles %v): %+v", name, fuse, err)
			}
			built, ran := accel.TileOpsForTest()
			// Forward: gather-transform, transform-permute; backward:
			// gather-transform (the Transpose's gradient), transform-scatter.
			if fuse && (built-builtBefore != 4 || ran-runBefore != 4) {
				t.Errorf("%s: %d fused tile nodes built and %d run, want 4 and 4", name, built-builtBefore, ran-runBefore)
			}
			if !fuse && built != builtBefore {
				t.Errorf("%s: fused tile nodes built with fusion off", name)
			}
			return out
		}
		want, got := run(false), run(true)
		for i := range want {
			a, b := tensors.MustCopyFlatData[float32](want[i]), tensors.MustCopyFlatData[float32](got[i])
			var num, den float64
			for j := range a {
				d := float64(a[j] - b[j])
				num += d * d
				den += float64(a[j]) * float64(a[j])
			}
			if rel := math.Sqrt(num / den); !(rel < 1e-5) {
				t.Errorf("%s: output #%d differs by %.2g (relative RMS) with the fused tile nodes", name, i, rel)
			}
		}
	}
}

// kronTensor returns a random [rows, cols] constant that is the Kronecker
// product k ⊗ k' of two [√rows, √cols] matrices with about the given
// fraction of zeros.
func kronTensor(r *rand.Rand, rows, cols int, zeros float64) *tensors.Tensor {
	rr, cc := int(math.Sqrt(float64(rows))), int(math.Sqrt(float64(cols)))
	factor := func() []float32 {
		k := make([]float32, rr*cc)
		for i := range k {
			if i == 0 || r.Float64() >= zeros {
				k[i] = float32(r.NormFloat64())
			}
		}
		return k
	}
	k1, k2 := factor(), factor()
	m := make([]float32, rows*cols)
	for a := range rr {
		for b := range rr {
			for ci := range cc {
				for d := range cc {
					m[(a*rr+b)*cols+ci*cc+d] = k1[a*cc+ci] * k2[b*cc+d]
				}
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(m, rows, cols)
}
