package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// refCase pairs a kernel with an independent float64 formula for its log-similarity.
type refCase struct {
	k    kernels.Kernel
	logq func(a, b []float64) float64
}

func d2(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return s
}

func refCases() []refCase {
	return []refCase{
		{kernels.Cauchy{}, func(a, b []float64) float64 { return math.Log(1 / (1 + d2(a, b))) }},
		{kernels.StudentT{DoF: 0.5}, func(a, b []float64) float64 { return math.Log(math.Pow(1+d2(a, b)/0.5, -0.75)) }},
		{kernels.StudentT{DoF: 3}, func(a, b []float64) float64 { return math.Log(math.Pow(1+d2(a, b)/3, -2)) }},
		{kernels.Gaussian{}, func(a, b []float64) float64 { return -d2(a, b) }},
		{kernels.Gaussian{Sigma: 2}, func(a, b []float64) float64 { return -d2(a, b) / 8 }},
		{kernels.Cosine{}, func(a, b []float64) float64 { return cosine(a, b) / 0.5 }},
		{kernels.Cosine{Temperature: 0.1}, func(a, b []float64) float64 { return cosine(a, b) / 0.1 }},
	}
}

func cosine(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// refLoss is the InfoNCE loss written directly from its definition, in
// float64, with q (not log q) summed as the reference does for Cauchy.
func refLoss(logq func(a, b []float64) float64, z [][]float64) (loss float64, perView []float64) {
	n := len(z)
	b := n / 2
	perView = make([]float64, n)
	for i := range n {
		var den float64
		for j := range n {
			if j != i {
				den += math.Exp(logq(z[i], z[j]))
			}
		}
		pos := (i + b) % n
		perView[i] = -math.Log(math.Exp(logq(z[i], z[pos])) / den)
		loss += perView[i] / float64(n)
	}
	return
}

// refGrad is the float64 central finite difference of refLoss.
func refGrad(logq func(a, b []float64) float64, z [][]float64) [][]float64 {
	grad := make([][]float64, len(z))
	for i := range z {
		grad[i] = make([]float64, len(z[i]))
		for a := range z[i] {
			orig := z[i][a]
			h := 1e-6 * math.Max(1, math.Abs(orig))
			z[i][a] = orig + h
			lp, _ := refLoss(logq, z)
			z[i][a] = orig - h
			lm, _ := refLoss(logq, z)
			z[i][a] = orig
			grad[i][a] = (lp - lm) / (2 * h)
		}
	}
	return grad
}

func randomPoints(rng *rand.Rand, n, d int, scale float64) [][]float64 {
	p := make([][]float64, n)
	for i := range p {
		p[i] = make([]float64, d)
		for j := range p[i] {
			p[i][j] = scale * rng.NormFloat64()
		}
	}
	return p
}

// round32 rounds to float32 so that the float64 reference sees the graph's inputs.
func round32(p [][]float64) [][]float64 {
	for _, row := range p {
		for j, v := range row {
			row[j] = float64(float32(v))
		}
	}
	return p
}

func toTensor(p [][]float64, f32 bool) *tensors.Tensor {
	n, d := len(p), len(p[0])
	if f32 {
		flat := make([]float32, 0, n*d)
		for _, row := range p {
			for _, v := range row {
				flat = append(flat, float32(v))
			}
		}
		return tensors.FromFlatDataAndDimensions(flat, n, d)
	}
	flat := make([]float64, 0, n*d)
	for _, row := range p {
		flat = append(flat, row...)
	}
	return tensors.FromFlatDataAndDimensions(flat, n, d)
}

func flat(t *tensors.Tensor) []float64 {
	switch v := t.Value().(type) {
	case float32:
		return []float64{float64(v)}
	case float64:
		return []float64{v}
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return v
	case [][]float32:
		var out []float64
		for _, r := range v {
			for _, x := range r {
				out = append(out, float64(x))
			}
		}
		return out
	case [][]float64:
		var out []float64
		for _, r := range v {
			out = append(out, r...)
		}
		return out
	}
	panic(fmt.Sprintf("unexpected value type %T", t.Value()))
}

// graphResult holds the graph's loss, terms and gradient for one input.
type graphResult struct {
	loss, attraction, repulsion float64
	perView, grad               []float64
}

func newLossExec(k kernels.Kernel) *Exec {
	return MustNewExec(backend.MustDefault(), func(z *Node) []*Node {
		terms := InfoNCETerms(k, z)
		return []*Node{terms.Loss, terms.Attraction, terms.Repulsion, terms.PerView, Gradient(terms.Loss, z)[0]}
	})
}

func run(e *Exec, z *tensors.Tensor) graphResult {
	out := e.MustExec(z)
	return graphResult{
		loss: flat(out[0])[0], attraction: flat(out[1])[0], repulsion: flat(out[2])[0],
		perView: flat(out[3]), grad: flat(out[4]),
	}
}

func TestInfoNCEMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, rc := range refCases() {
		e := newLossExec(rc.k)
		for _, bd := range [][2]int{{1, 2}, {2, 2}, {3, 2}, {5, 3}, {8, 2}, {4, 16}} {
			bsz, dim := bd[0], bd[1]
			for _, scale := range []float64{0.3, 2} {
				name := fmt.Sprintf("%s/B=%d/D=%d/scale=%g", rc.k, bsz, dim, scale)
				z := round32(randomPoints(rng, 2*bsz, dim, scale))
				wantLoss, wantPerView := refLoss(rc.logq, z)
				wantGrad := refGrad(rc.logq, z)
				for _, f32 := range []bool{true, false} {
					got := run(e, toTensor(z, f32))
					rtol, atol := 1e-12, 1e-9
					if f32 {
						rtol, atol = 2e-5, 2e-5
					}
					if math.Abs(got.loss-wantLoss) > atol+rtol*math.Abs(wantLoss) {
						t.Errorf("%s f32=%v: loss %.9g, want %.9g", name, f32, got.loss, wantLoss)
					}
					if d := got.attraction + got.repulsion - got.loss; math.Abs(d) > atol+rtol*math.Abs(wantLoss) {
						t.Errorf("%s f32=%v: attraction+repulsion-loss = %g", name, f32, d)
					}
					for i, w := range wantPerView {
						if math.Abs(got.perView[i]-w) > atol+rtol*math.Abs(w) {
							t.Errorf("%s f32=%v: perView[%d] %.9g, want %.9g", name, f32, i, got.perView[i], w)
						}
					}
					// The finite difference is accurate to ~1e-8 relative.
					gtol := 1e-6
					if f32 {
						gtol = 1e-4
					}
					for i := range z {
						for a := range z[i] {
							g, w := got.grad[i*dim+a], wantGrad[i][a]
							if math.IsNaN(g) || math.Abs(g-w) > gtol*(1+math.Abs(w)) {
								t.Errorf("%s f32=%v: grad[%d,%d] %.9g, want %.9g", name, f32, i, a, g, w)
							}
						}
					}
				}
			}
		}
	}
}

// TestInfoNCEGraphFiniteDifference checks graph.Gradient against central
// finite differences of the graph's own float64 loss.
func TestInfoNCEGraphFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, rc := range refCases() {
		e := newLossExec(rc.k)
		for _, bd := range [][2]int{{2, 2}, {3, 5}} {
			z := randomPoints(rng, 2*bd[0], bd[1], 1)
			base := run(e, toTensor(z, false))
			for i := range z {
				for a := range z[i] {
					orig := z[i][a]
					const h = 1e-6
					z[i][a] = orig + h
					lp := run(e, toTensor(z, false)).loss
					z[i][a] = orig - h
					lm := run(e, toTensor(z, false)).loss
					z[i][a] = orig
					fd := (lp - lm) / (2 * h)
					if g := base.grad[i*bd[1]+a]; math.Abs(g-fd) > 1e-6*(1+math.Abs(fd)) {
						t.Errorf("%s B=%d D=%d: graph grad[%d,%d] %.9g, finite difference %.9g", rc.k, bd[0], bd[1], i, a, g, fd)
					}
				}
			}
		}
	}
}

// TestInfoNCEGramForm runs the reference comparison with the Gram form of
// the squared distances forced.
func TestInfoNCEGramForm(t *testing.T) {
	defer func(old int) { kernels.DifferenceFormMaxElements = old }(kernels.DifferenceFormMaxElements)
	kernels.DifferenceFormMaxElements = 0
	rng := rand.New(rand.NewPCG(11, 12))
	for _, rc := range refCases()[:4] {
		e := newLossExec(rc.k)
		z := round32(randomPoints(rng, 12, 4, 1))
		wantLoss, _ := refLoss(rc.logq, z)
		wantGrad := refGrad(rc.logq, z)
		got := run(e, toTensor(z, true))
		if math.Abs(got.loss-wantLoss) > 1e-5*(1+math.Abs(wantLoss)) {
			t.Errorf("%s gram: loss %.9g, want %.9g", rc.k, got.loss, wantLoss)
		}
		for i := range z {
			for a := range z[i] {
				if g, w := got.grad[i*4+a], wantGrad[i][a]; math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
					t.Errorf("%s gram: grad[%d,%d] %.9g, want %.9g", rc.k, i, a, g, w)
				}
			}
		}
	}
}

func TestInfoNCEEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, rc := range refCases() {
		e := newLossExec(rc.k)

		// B=1: the denominator holds only the positive, so every view's ratio is 1:
		// loss 0 and gradient 0, whatever the kernel and the points.
		got := run(e, toTensor(randomPoints(rng, 2, 3, 2), true))
		if got.loss != 0 || got.attraction+got.repulsion > 1e-6 {
			t.Errorf("%s B=1: loss %g (attraction %g, repulsion %g), want 0", rc.k, got.loss, got.attraction, got.repulsion)
		}
		for i, g := range got.grad {
			if math.Abs(g) > 1e-6 {
				t.Errorf("%s B=1: grad[%d] = %g, want 0", rc.k, i, g)
			}
		}

		// Identical points: all similarities equal, loss log(2B-1), zero gradient, no NaN.
		for _, value := range []float64{0, 1.5} {
			const bsz = 4
			z := make([][]float64, 2*bsz)
			for i := range z {
				z[i] = []float64{value, -value, value}
			}
			got := run(e, toTensor(z, true))
			if want := math.Log(2*bsz - 1); math.Abs(got.loss-want) > 1e-6 {
				t.Errorf("%s identical points at %g: loss %g, want log(7) = %g", rc.k, value, got.loss, want)
			}
			for i, g := range got.grad {
				if math.IsNaN(g) || math.Abs(g) > 1e-5 {
					t.Errorf("%s identical points at %g: grad[%d] = %g, want 0", rc.k, value, i, g)
				}
			}
		}

		// Large distances: finite loss and gradient in float32.
		for _, scale := range []float64{1e4, 1e8} {
			got := run(e, toTensor(randomPoints(rng, 8, 2, scale), true))
			if math.IsNaN(got.loss) || math.IsInf(got.loss, 0) {
				t.Errorf("%s scale %g: loss %g", rc.k, scale, got.loss)
			}
			for i, g := range got.grad {
				if math.IsNaN(g) || math.IsInf(g, 0) {
					t.Errorf("%s scale %g: grad[%d] = %g", rc.k, scale, i, g)
				}
			}
		}
	}

	// At large distances the heavy-tailed kernels stay accurate in float32.
	z := round32(randomPoints(rng, 8, 2, 1e4))
	for _, rc := range refCases()[:3] {
		got := run(newLossExec(rc.k), toTensor(z, true))
		want, _ := refLoss(rc.logq, z)
		if math.Abs(got.loss-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("%s scale 1e4: loss %g, want %g", rc.k, got.loss, want)
		}
	}
}

func TestInfoNCEBadShapes(t *testing.T) {
	b := backend.MustDefault()
	for _, dims := range [][]int{{3, 2}, {1, 2}, {4}, {2, 2, 2}} {
		size := 1
		for _, d := range dims {
			size *= d
		}
		z := tensors.FromFlatDataAndDimensions(make([]float32, size), dims...)
		_, err := ExecOnce(b, func(z *Node) *Node { return InfoNCE(kernels.Cauchy{}, z) }, z)
		if err == nil || !strings.Contains(err.Error(), "loss.InfoNCE") {
			t.Errorf("shape %v: err = %v, want a clear loss.InfoNCE error", dims, err)
		}
	}
}

func TestLossFn(t *testing.T) {
	z := round32(randomPoints(rand.New(rand.NewPCG(1, 1)), 6, 2, 1))
	fn := LossFn(kernels.Cauchy{})
	got := flat(MustExecOnce(backend.MustDefault(), func(z *Node) *Node { return fn(nil, []*Node{z}) }, toTensor(z, true)))[0]
	want, _ := refLoss(refCases()[0].logq, z)
	if math.Abs(got-want) > 1e-5*(1+want) {
		t.Errorf("LossFn: %g, want %g", got, want)
	}
}

func TestWeightedLossFn(t *testing.T) {
	z := round32(randomPoints(rand.New(rand.NewPCG(2, 1)), 8, 2, 1))
	k := kernels.StudentT{DoF: 0.5}
	eval := func(rho float64) float64 {
		fn := WeightedLossFn(k, rho)
		return flat(MustExecOnce(backend.MustDefault(), func(z *Node) *Node { return fn(nil, []*Node{z}) }, toTensor(z, true)))[0]
	}
	// The reference's attraction: mean over views of -log q(i, pos(i)).
	var attraction float64
	for i := range z {
		attraction -= math.Log(math.Pow(1+d2(z[i], z[(i+4)%8])/0.5, -0.75)) / 8
	}
	plain, _ := refLoss(refCases()[1].logq, z)
	for _, rho := range []float64{1, 2, 4} {
		want := plain + (rho-1)*attraction
		if got := eval(rho); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("rho %g: loss %g, want %g", rho, got, want)
		}
	}
}
