package tsne

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// TestFFTPlanMatchesDFT compares the batched Stockham FFT with a direct
// O(n^2) DFT for lengths with every radix and on a block of columns inside a
// wider array.
func TestFFTPlanMatchesDFT(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 5, 8, 12, 16, 30, 45, 60, 64, 75, 100, 150, 240, 300, 384, 405} {
		const stride, c0, w = 7, 2, 4
		x := make([]complex128, n*stride)
		for i := range x {
			x[i] = complex(r.NormFloat64(), r.NormFloat64())
		}
		p := newFFTPlan(n)
		buf := make([]complex128, 2*n*w)
		for _, inverse := range []bool{false, true} {
			y := append([]complex128(nil), x...)
			p.transform(y, stride, c0, w, buf, inverse)
			sign := -1.0
			if inverse {
				sign = 1
			}
			maxErr := 0.0
			for c := range stride {
				for k := range n {
					want := x[k*stride+c]
					if c >= c0 && c < c0+w {
						want = 0
						for j := range n {
							want += x[j*stride+c] * cmplx.Exp(complex(0, sign*2*math.Pi*float64(j*k)/float64(n)))
						}
					}
					maxErr = max(maxErr, cmplx.Abs(y[k*stride+c]-want))
				}
			}
			if maxErr > 1e-9*float64(n) {
				t.Errorf("n=%d inverse=%v: max error %.3g", n, inverse, maxErr)
			}
		}
	}
}
