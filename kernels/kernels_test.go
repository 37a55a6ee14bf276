package kernels

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// Closed forms written out independently of the package code.
func cauchyQ(d2 float64) float64       { return 1 / (1 + d2) }
func studentQ(nu, d2 float64) float64  { return math.Pow(1+d2/nu, -(nu+1)/2) }
func gaussQ(sigma, d2 float64) float64 { return math.Exp(-d2 / (2 * sigma * sigma)) }
func cosineQ(tau, cos float64) float64 { return math.Exp(cos / tau) }
func relErr(got, want float64) float64 { return math.Abs(got-want) / math.Max(1e-300, math.Abs(want)) }
func near(got, want, rtol float64) bool {
	return relErr(got, want) <= rtol || math.Abs(got-want) <= 1e-300
}

func TestEvalClosedForms(t *testing.T) {
	for _, d2 := range []float64{0, 1e-6, 0.3, 1, 2.5, 17, 1e3, 1e6} {
		checks := []struct {
			name      string
			k         DistanceKernel
			want      float64
			logIsSafe bool
		}{
			{"cauchy", Cauchy{}, cauchyQ(d2), true},
			{"t(1)", StudentT{DoF: 1}, cauchyQ(d2), true},
			{"t(0)=t(1)", StudentT{}, cauchyQ(d2), true},
			{"t(0.5)", StudentT{DoF: 0.5}, studentQ(0.5, d2), true},
			{"t(4)", StudentT{DoF: 4}, studentQ(4, d2), true},
			{"gauss", Gaussian{}, gaussQ(DefaultGaussianSigma, d2), true},
			{"gauss(2)", Gaussian{Sigma: 2}, gaussQ(2, d2), true},
		}
		for _, c := range checks {
			if got := c.k.Eval(d2); !near(got, c.want, 1e-12) {
				t.Errorf("%s.Eval(%g) = %g, want %g", c.name, d2, got, c.want)
			}
			if c.want > 0 {
				if got := c.k.LogEval(d2); math.Abs(got-math.Log(c.want)) > 1e-12*math.Max(1, math.Abs(got)) {
					t.Errorf("%s.LogEval(%g) = %g, want %g", c.name, d2, got, math.Log(c.want))
				}
			}
		}
	}
	// The Gaussian default matches the Cauchy kernel's curvature at 0: 1-d² to first order.
	const small = 1e-4
	if d := math.Abs(Gaussian{}.Eval(small) - Cauchy{}.Eval(small)); d > small*small {
		t.Errorf("default Gaussian and Cauchy differ by %g at d²=%g, want O(d⁴)", d, small)
	}
	// ν=1 is the Cauchy kernel bit for bit.
	for _, d2 := range []float64{0, 0.1, 3, 1e5} {
		if (StudentT{DoF: 1}).Eval(d2) != (Cauchy{}).Eval(d2) || (StudentT{}).LogEval(d2) != (Cauchy{}).LogEval(d2) {
			t.Errorf("StudentT(1) differs from Cauchy at d²=%g", d2)
		}
	}
	// Large ν tends to exp(-d²/2).
	if got, want := (StudentT{DoF: 1e7}).Eval(2), math.Exp(-1); !near(got, want, 1e-6) {
		t.Errorf("StudentT(1e7).Eval(2) = %g, want ≈ %g", got, want)
	}
	// Heavier tails below ν=1: at large distance q(ν=0.5) > q(ν=1).
	if a, b := (StudentT{DoF: 0.5}).Eval(1e4), (Cauchy{}).Eval(1e4); !(a > b) {
		t.Errorf("StudentT(0.5) tail %g should be heavier than Cauchy %g", a, b)
	}
	// Cosine.
	for _, c := range []float64{-1, -0.3, 0, 0.5, 1} {
		if got, want := (Cosine{}).EvalCos(c), cosineQ(0.5, c); !near(got, want, 1e-14) {
			t.Errorf("Cosine{}.EvalCos(%g) = %g, want %g", c, got, want)
		}
		if got, want := (Cosine{Temperature: 0.1}).LogEvalCos(c), c/0.1; !near(got, want, 1e-14) {
			t.Errorf("Cosine{0.1}.LogEvalCos(%g) = %g, want %g", c, got, want)
		}
	}
}

func TestLogSimilarityVec(t *testing.T) {
	a := []float64{1, 2, -1}
	b := []float64{0.5, -1, 3}
	d2 := 0.25 + 9 + 16
	if got := SquaredDistanceVec(a, b); got != d2 {
		t.Fatalf("SquaredDistanceVec = %g, want %g", got, d2)
	}
	cos := (0.5 - 2 - 3) / (math.Sqrt(6) * math.Sqrt(0.25+1+9))
	for _, c := range []struct {
		k    Kernel
		want float64
	}{
		{Cauchy{}, math.Log(cauchyQ(d2))},
		{StudentT{DoF: 0.3}, math.Log(studentQ(0.3, d2))},
		{Gaussian{Sigma: 3}, math.Log(gaussQ(3, d2))},
		{Cosine{Temperature: 0.2}, cos / 0.2},
	} {
		if got := c.k.LogSimilarityVec(a, b); !near(got, c.want, 1e-12) {
			t.Errorf("%s.LogSimilarityVec = %g, want %g", c.k, got, c.want)
		}
	}
	if got := (Cosine{}).LogSimilarityVec([]float64{0, 0}, []float64{1, 2}); got != 0 {
		t.Errorf("cosine with a zero vector = %g, want 0", got)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "different lengths") {
			t.Errorf("mismatched lengths: got panic %v, want a clear message", r)
		}
	}()
	SquaredDistanceVec([]float64{1}, []float64{1, 2})
}

func TestByNameAndParse(t *testing.T) {
	for _, c := range []struct {
		spec string
		want string
	}{
		{"cauchy", "cauchy"},
		{"Euclidean", "cauchy"},
		{"student-t", "student-t(dof=1)"},
		{"t:0.5", "student-t(dof=0.5)"},
		{"gaussian", "gaussian(sigma=0.7071)"},
		{"gauss:2", "gaussian(sigma=2)"},
		{"cosine", "cosine(tau=0.5)"},
		{"simclr:0.1", "cosine(tau=0.1)"},
	} {
		k, err := Parse(c.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
			continue
		}
		if k.String() != c.want {
			t.Errorf("Parse(%q) = %s, want %s", c.spec, k, c.want)
		}
		if !strings.HasPrefix(c.want, k.Name()) {
			t.Errorf("Parse(%q).Name() = %q", c.spec, k.Name())
		}
	}
	for _, bad := range []string{"", "laplace", "cauchy:1", "t:0", "t:-1", "gauss:nan", "cosine:abc", "t:+Inf"} {
		if k, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, k)
		}
	}
	if _, err := ByName("t", 1, 2); err == nil {
		t.Error("ByName with two parameters: want an error")
	}
	// Every canonical name is accepted.
	for _, name := range Names() {
		if k, err := ByName(name); err != nil || k.Name() != name {
			t.Errorf("ByName(%q) = %v, %v", name, k, err)
		}
	}
}

// randomPoints returns n points of dimension d, N(offset, scale²) per coordinate.
func randomPoints(rng *rand.Rand, n, d int, offset, scale float64) [][]float64 {
	p := make([][]float64, n)
	for i := range p {
		p[i] = make([]float64, d)
		for j := range p[i] {
			p[i][j] = offset + scale*rng.NormFloat64()
		}
	}
	return p
}

func round32(p [][]float64) [][]float64 {
	for _, row := range p {
		for j, v := range row {
			row[j] = float64(float32(v))
		}
	}
	return p
}

func toTensor32(p [][]float64) *tensors.Tensor {
	n, d := len(p), len(p[0])
	flat := make([]float32, 0, n*d)
	for _, row := range p {
		for _, v := range row {
			flat = append(flat, float32(v))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, n, d)
}

func toTensor64(p [][]float64) *tensors.Tensor {
	n, d := len(p), len(p[0])
	flat := make([]float64, 0, n*d)
	for _, row := range p {
		flat = append(flat, row...)
	}
	return tensors.FromFlatDataAndDimensions(flat, n, d)
}

func flat64(t *tensors.Tensor) []float64 {
	var out []float64
	switch v := t.Value().(type) {
	case [][]float32:
		for _, r := range v {
			for _, x := range r {
				out = append(out, float64(x))
			}
		}
	case [][]float64:
		for _, r := range v {
			out = append(out, r...)
		}
	default:
		panic("unexpected tensor value type")
	}
	return out
}

func TestSquaredDistancesForms(t *testing.T) {
	b := backend.MustDefault()
	rng := rand.New(rand.NewPCG(1, 2))
	forms := map[string]func(x, y *Node) *Node{
		"diff": SquaredDistancesDiff,
		"gram": SquaredDistancesGram,
		"auto": SquaredDistances,
	}
	for _, c := range []struct {
		n, m, d        int
		offset, spread float64
		rtol           float64 // relative to the squared spread
	}{
		{5, 7, 2, 0, 1, 1e-6},
		{6, 6, 16, 0, 3, 1e-6},
		{8, 3, 2, 1000, 1, 1e-5}, // far from the origin: centering keeps the Gram form accurate
	} {
		// Rounded to float32 first: the reference sees the same inputs as the graph.
		x := round32(randomPoints(rng, c.n, c.d, c.offset, c.spread))
		y := round32(randomPoints(rng, c.m, c.d, c.offset, c.spread))
		for name, fn := range forms {
			got := flat64(MustExecOnce(b, fn, toTensor32(x), toTensor32(y)))
			for i := range c.n {
				for j := range c.m {
					want := SquaredDistanceVec(x[i], y[j])
					if err := math.Abs(got[i*c.m+j] - want); err > c.rtol*c.spread*c.spread*float64(c.d)*10 {
						t.Errorf("%s n=%d d=%d offset=%g: d2[%d,%d] = %g, want %g", name, c.n, c.d, c.offset, i, j,
							got[i*c.m+j], want)
					}
				}
			}
		}
	}
	// Self distances: exact zero diagonal and finite (zero) gradient at coinciding points.
	x := randomPoints(rng, 4, 3, 0, 1)
	x[2] = append([]float64(nil), x[1]...) // two coinciding points
	for name, fn := range forms {
		outs := MustNewExec(b, func(z *Node) (*Node, *Node) {
			d2 := fn(z, z)
			return d2, Gradient(ReduceAllSum(d2), z)[0]
		}).MustExec(toTensor64(x))
		d2, grad := flat64(outs[0]), flat64(outs[1])
		for i := range 4 {
			if d2[i*4+i] != 0 {
				t.Errorf("%s: self distance d2[%d,%d] = %g, want exactly 0", name, i, i, d2[i*4+i])
			}
		}
		if d2[1*4+2] > 1e-12 {
			t.Errorf("%s: coinciding points have d2 = %g", name, d2[1*4+2])
		}
		// d/dx_i Σ_jk |x_j-x_k|² = 4 Σ_k (x_i - x_k) = 4 (n x_i - Σ_k x_k).
		for i := range 4 {
			for a := range 3 {
				var sum float64
				for k := range 4 {
					sum += x[k][a]
				}
				want := 4 * (4*x[i][a] - sum)
				if g := grad[i*3+a]; math.IsNaN(g) || math.Abs(g-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: gradient[%d,%d] = %g, want %g", name, i, a, g, want)
				}
			}
		}
	}
}

// TestSquaredDistancesFormChoice checks that the form follows
// DifferenceFormMaxDim and DifferenceFormMaxElements.
func TestSquaredDistancesFormChoice(t *testing.T) {
	b := backend.MustDefault()
	defer func(old int) { DifferenceFormMaxElements = old }(DifferenceFormMaxElements)
	usesGram := func(n, d int) bool {
		var gram bool
		MustExecOnce(b, func(z *Node) *Node {
			d2 := SquaredDistances(z, z)
			gram = strings.Contains(z.Graph().String(), "DotGeneral")
			return d2
		}, tensors.FromShape(shapes.Make(dtypes.Float32, n, d)))
		return gram
	}
	if usesGram(8, 2) {
		t.Error("D=2 should use the difference form")
	}
	if !usesGram(8, DifferenceFormMaxDim+1) {
		t.Errorf("D=%d should use the Gram form", DifferenceFormMaxDim+1)
	}
	DifferenceFormMaxElements = 8*8*2 - 1
	if !usesGram(8, 2) {
		t.Error("N·N·D above DifferenceFormMaxElements should use the Gram form")
	}
}

func TestLogSimilarityGraphMatchesVec(t *testing.T) {
	b := backend.MustDefault()
	rng := rand.New(rand.NewPCG(3, 4))
	x := randomPoints(rng, 6, 5, 0, 1.5)
	y := randomPoints(rng, 4, 5, 0, 1.5)
	y[3] = []float64{0, 0, 0, 0, 0} // a zero vector for the cosine kernel
	for _, k := range []Kernel{
		Cauchy{}, StudentT{DoF: 0.5}, StudentT{DoF: 5}, Gaussian{}, Gaussian{Sigma: 3}, Cosine{}, Cosine{Temperature: 0.07},
	} {
		got := flat64(MustExecOnce(b, k.LogSimilarity, toTensor64(x), toTensor64(y)))
		for i := range x {
			for j := range y {
				want := k.LogSimilarityVec(x[i], y[j])
				if math.Abs(got[i*len(y)+j]-want) > 1e-12*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: log q[%d,%d] = %g, want %g", k, i, j, got[i*len(y)+j], want)
				}
			}
		}
	}
	// StudentT{DoF: 1} is bit-for-bit the Cauchy kernel, also in float32.
	z := toTensor32(x)
	c := flat64(MustExecOnce(b, func(z *Node) *Node { return Cauchy{}.LogSimilarity(z, z) }, z))
	s := flat64(MustExecOnce(b, func(z *Node) *Node { return StudentT{DoF: 1}.LogSimilarity(z, z) }, z))
	for i := range c {
		if c[i] != s[i] {
			t.Fatalf("StudentT(1) differs from Cauchy at %d: %g vs %g", i, s[i], c[i])
		}
	}
}

func TestInvalidParametersPanicInGraph(t *testing.T) {
	b := backend.MustDefault()
	z := toTensor32([][]float64{{1, 2}, {3, 4}})
	for _, k := range []Kernel{StudentT{DoF: -1}, Gaussian{Sigma: -2}, Cosine{Temperature: -0.5}} {
		_, err := ExecOnce(b, func(z *Node) *Node { return k.LogSimilarity(z, z) }, z)
		if err == nil || !strings.Contains(err.Error(), "kernels.") {
			t.Errorf("%T with a negative parameter: err = %v, want a clear error", k, err)
		}
	}
	_, err := ExecOnce(b, func(x *Node) *Node { return SquaredDistances(x, Reshape(x, 4, 1)) }, z)
	if err == nil || !strings.Contains(err.Error(), "same width") {
		t.Errorf("mismatched widths: err = %v", err)
	}
}

func TestStudentTLogEvalNode(t *testing.T) {
	d2 := []float32{0, 0.5, 1, 4, 100}
	for _, nu := range []float64{0.3, 1, 2.5} {
		got := tensors.MustCopyFlatData[float32](MustExecOnce(backend.MustDefault(), func(d *Node) *Node {
			return StudentTLogEval(d, Scalar(d.Graph(), dtypes.Float32, nu))
		}, d2))
		for i, x := range d2 {
			want := StudentT{DoF: nu}.LogEval(float64(x))
			if math.Abs(float64(got[i])-want) > 1e-5*(1+math.Abs(want)) {
				t.Errorf("dof %g, d2 %g: %g, want %g", nu, x, got[i], want)
			}
		}
	}
}
