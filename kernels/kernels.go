// Package kernels holds the similarity kernels of contrastive neighbour
// embeddings: the Cauchy kernel of t-SimCNE, a Student-t kernel with
// adjustable tails, a Gaussian kernel and SimCLR's cosine similarity with a
// temperature.
//
// Each kernel computes log-similarities as a GoMLX graph function
// ([Kernel.LogSimilarity]), which the InfoNCE loss (package
// github.com/gosimcne/gosimcne/tsimcne/loss) turns into a masked
// log-sum-exp, and also in plain Go float64 for plots and reference checks
// ([Kernel.LogSimilarityVec], [DistanceKernel.Eval], [Cosine.EvalCos]).
//
// Everything here runs on GoMLX's pure-Go backend ("go", simplego),
// gradients included: the graph functions only use ops that the backend
// implements and that have gradients in GoMLX v0.26 (no Rsqrt, no Pad, no
// Reverse), and no Sqrt of a squared distance (whose gradient is infinite
// at 0).
package kernels

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/exceptions"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own convention for graph code.
)

// Kernel is a similarity kernel q(a, b) > 0 between embedding vectors.
type Kernel interface {
	// Name is the kernel's canonical name, as accepted by ByName:
	// "cauchy", "student-t", "gaussian" or "cosine".
	Name() string

	// String describes the kernel with its parameters, e.g. "student-t(dof=0.5)".
	String() string

	// LogSimilarity returns log q(x_i, y_j) for the rows of x, shaped [N, D],
	// and y, shaped [M, D], as an [N, M] node. Pass the same node twice for
	// all pairs of one set. It is a graph building function and panics
	// (GoMLX style) on invalid shapes or parameters.
	LogSimilarity(x, y *Node) *Node

	// LogSimilarityVec returns log q(a, b) for two vectors of equal length,
	// computed in plain Go float64.
	LogSimilarityVec(a, b []float64) float64
}

// DistanceKernel is a Kernel whose similarity depends only on the squared
// Euclidean distance d² = |a-b|² between the two vectors (all kernels here
// except Cosine).
type DistanceKernel interface {
	Kernel

	// Eval returns the similarity at squared distance d2 (plain Go, for plots).
	Eval(d2 float64) float64

	// LogEval returns log Eval(d2), computed without under- or overflow.
	LogEval(d2 float64) float64

	// LogEvalGraph maps a node of squared distances (any shape) to the
	// log-similarities, element-wise.
	LogEvalGraph(d2 *Node) *Node
}

// Kernel names accepted by ByName, besides the aliases listed there.
const (
	NameCauchy   = "cauchy"
	NameStudentT = "student-t"
	NameGaussian = "gaussian"
	NameCosine   = "cosine"
)

// Names lists the canonical kernel names accepted by ByName.
func Names() []string {
	return []string{NameCauchy, NameStudentT, NameGaussian, NameCosine}
}

// ByName returns a kernel given its name and optional parameter, for command
// lines and configuration files. Names are case-insensitive:
//
//   - "cauchy" (alias "euclidean", the reference's name for it): no parameter.
//   - "student-t" (aliases "studentt", "t"): params[0] is the degrees of
//     freedom ν > 0, default 1 (which is the Cauchy kernel).
//   - "gaussian" (alias "gauss"): params[0] is the width σ > 0, default
//     DefaultGaussianSigma.
//   - "cosine" (alias "simclr"): params[0] is the temperature τ > 0, default
//     DefaultTemperature.
func ByName(name string, params ...float64) (Kernel, error) {
	if len(params) > 1 {
		return nil, fmt.Errorf("kernel %q: at most one parameter, got %d (%v)", name, len(params), params)
	}
	param := func(what string) (float64, bool, error) {
		if len(params) == 0 {
			return 0, false, nil
		}
		p := params[0]
		if !(p > 0) || math.IsInf(p, 0) {
			return 0, false, fmt.Errorf("kernel %q: %s must be a positive finite number, got %v", name, what, p)
		}
		return p, true, nil
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case NameCauchy, "euclidean":
		if len(params) > 0 {
			return nil, fmt.Errorf("kernel %q takes no parameter, got %v", name, params)
		}
		return Cauchy{}, nil
	case NameStudentT, "studentt", "student_t", "t":
		p, ok, err := param("degrees of freedom")
		if err != nil {
			return nil, err
		}
		if !ok {
			p = 1
		}
		return StudentT{DoF: p}, nil
	case NameGaussian, "gauss":
		p, ok, err := param("sigma")
		if err != nil {
			return nil, err
		}
		if !ok {
			p = DefaultGaussianSigma
		}
		return Gaussian{Sigma: p}, nil
	case NameCosine, "simclr":
		p, ok, err := param("temperature")
		if err != nil {
			return nil, err
		}
		if !ok {
			p = DefaultTemperature
		}
		return Cosine{Temperature: p}, nil
	default:
		return nil, fmt.Errorf("unknown kernel %q, valid names are %q", name, Names())
	}
}

// Parse parses a kernel specification "name" or "name:param", e.g.
// "cauchy", "student-t:0.5", "gaussian:0.7071", "cosine:0.5", as used by
// command-line flags. See ByName for names and parameters.
func Parse(spec string) (Kernel, error) {
	name, paramStr, hasParam := strings.Cut(spec, ":")
	if !hasParam {
		return ByName(name)
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(paramStr), 64)
	if err != nil {
		return nil, fmt.Errorf("kernel spec %q: parameter: %w", spec, err)
	}
	return ByName(name, p)
}

// Cauchy is the t-SimCNE kernel q = 1/(1+d²), with log q = -log1p(d²).
// It equals StudentT{DoF: 1}.
type Cauchy struct{}

var _ DistanceKernel = Cauchy{}

// Name implements Kernel.
func (Cauchy) Name() string { return NameCauchy }

// String implements Kernel.
func (Cauchy) String() string { return NameCauchy }

// Eval implements DistanceKernel: 1/(1+d2).
func (Cauchy) Eval(d2 float64) float64 { return 1 / (1 + d2) }

// LogEval implements DistanceKernel: -log1p(d2).
func (Cauchy) LogEval(d2 float64) float64 { return -math.Log1p(d2) }

// LogEvalGraph implements DistanceKernel.
func (Cauchy) LogEvalGraph(d2 *Node) *Node { return Neg(Log1p(d2)) }

// LogSimilarity implements Kernel.
func (k Cauchy) LogSimilarity(x, y *Node) *Node { return k.LogEvalGraph(SquaredDistances(x, y)) }

// LogSimilarityVec implements Kernel.
func (k Cauchy) LogSimilarityVec(a, b []float64) float64 { return k.LogEval(SquaredDistanceVec(a, b)) }

// StudentT is the kernel shaped like the density of Student's t
// distribution with ν = DoF degrees of freedom, without its normalising
// constant:
//
//	q = (1 + d²/ν)^(-(ν+1)/2),   log q = -(ν+1)/2 · log1p(d²/ν).
//
// ν = 1 is exactly the Cauchy kernel; ν < 1 has heavier tails (q ~ d^-(ν+1)),
// which separates clusters more; ν → ∞ tends to the Gaussian exp(-d²/2).
// DoF 0 (the zero value) means 1.
//
// Other conventions exist: t-SNE's heavy-tailed kernels (Kobak et al. 2019)
// use (1 + d²/α)^(-α), and the unreleased 0.4 line of the Python reference
// uses (1 + 2d²/ν)^(-(ν+1)/2), i.e. this kernel at distances scaled by √2
// (so its "Cauchy" is 1/(1+2d²)). The paper's method (reference v0.3.12)
// has no Student-t kernel; this one was chosen so that DoF 1 reproduces it.
type StudentT struct {
	// DoF is the degrees of freedom ν > 0; 0 means 1.
	DoF float64
}

var _ DistanceKernel = StudentT{}

func (k StudentT) dof() float64 {
	if k.DoF == 0 {
		return 1
	}
	return k.DoF
}

func (k StudentT) check() {
	if nu := k.dof(); !(nu > 0) || math.IsInf(nu, 0) {
		exceptions.Panicf("kernels.StudentT: degrees of freedom must be positive and finite, got %v", k.DoF)
	}
}

// Name implements Kernel.
func (StudentT) Name() string { return NameStudentT }

// String implements Kernel.
func (k StudentT) String() string { return fmt.Sprintf("%s(dof=%.4g)", NameStudentT, k.dof()) }

// Eval implements DistanceKernel.
func (k StudentT) Eval(d2 float64) float64 {
	if k.dof() == 1 {
		return Cauchy{}.Eval(d2)
	}
	return math.Exp(k.LogEval(d2))
}

// LogEval implements DistanceKernel.
func (k StudentT) LogEval(d2 float64) float64 {
	nu := k.dof()
	if nu == 1 {
		return Cauchy{}.LogEval(d2)
	}
	return -(nu + 1) / 2 * math.Log1p(d2/nu)
}

// LogEvalGraph implements DistanceKernel.
func (k StudentT) LogEvalGraph(d2 *Node) *Node {
	k.check()
	nu := k.dof()
	if nu == 1 {
		// Exactly the Cauchy kernel, with no rounding from the scalings.
		return Cauchy{}.LogEvalGraph(d2)
	}
	return MulScalar(Log1p(MulScalar(d2, 1/nu)), -(nu+1)/2)
}

// LogSimilarity implements Kernel.
func (k StudentT) LogSimilarity(x, y *Node) *Node { return k.LogEvalGraph(SquaredDistances(x, y)) }

// StudentTLogEval is StudentT's log-similarity -(ν+1)/2 · log1p(d²/ν) with
// the degrees of freedom ν given as a graph node (a scalar, e.g. a trained
// parameter), so that the loss can differentiate with respect to ν too.
// d2 holds squared distances (any shape); dof must be positive.
func StudentTLogEval(d2, dof *Node) *Node {
	if dof.Rank() != 0 {
		exceptions.Panicf("kernels.StudentTLogEval: dof must be a scalar, got %s", dof.Shape())
	}
	dof = ConvertDType(dof, d2.DType())
	half := Scalar(d2.Graph(), d2.DType(), 0.5)
	return Neg(Mul(Mul(half, OnePlus(dof)), Log1p(Div(d2, dof))))
}

// LogSimilarityVec implements Kernel.
func (k StudentT) LogSimilarityVec(a, b []float64) float64 {
	return k.LogEval(SquaredDistanceVec(a, b))
}

// DefaultGaussianSigma is the default width of the Gaussian kernel, 1/√2:
// exp(-d²) matches the Cauchy kernel 1/(1+d²) ≈ 1-d² near 0, and is the
// reference's "gauss" metric (at its default temperature 1).
const DefaultGaussianSigma = math.Sqrt2 / 2

// Gaussian is the kernel q = exp(-d²/(2σ²)), log q = -d²/(2σ²).
// Sigma 0 (the zero value) means DefaultGaussianSigma.
type Gaussian struct {
	// Sigma is the width σ > 0; 0 means DefaultGaussianSigma.
	Sigma float64
}

var _ DistanceKernel = Gaussian{}

func (k Gaussian) sigma() float64 {
	if k.Sigma == 0 {
		return DefaultGaussianSigma
	}
	return k.Sigma
}

func (k Gaussian) check() {
	if s := k.sigma(); !(s > 0) || math.IsInf(s, 0) {
		exceptions.Panicf("kernels.Gaussian: sigma must be positive and finite, got %v", k.Sigma)
	}
}

// Name implements Kernel.
func (Gaussian) Name() string { return NameGaussian }

// String implements Kernel.
func (k Gaussian) String() string { return fmt.Sprintf("%s(sigma=%.4g)", NameGaussian, k.sigma()) }

// Eval implements DistanceKernel.
func (k Gaussian) Eval(d2 float64) float64 { return math.Exp(k.LogEval(d2)) }

// LogEval implements DistanceKernel.
func (k Gaussian) LogEval(d2 float64) float64 {
	s := k.sigma()
	return -d2 / (2 * s * s)
}

// LogEvalGraph implements DistanceKernel.
func (k Gaussian) LogEvalGraph(d2 *Node) *Node {
	k.check()
	s := k.sigma()
	return MulScalar(d2, -1/(2*s*s))
}

// LogSimilarity implements Kernel.
func (k Gaussian) LogSimilarity(x, y *Node) *Node { return k.LogEvalGraph(SquaredDistances(x, y)) }

// LogSimilarityVec implements Kernel.
func (k Gaussian) LogSimilarityVec(a, b []float64) float64 {
	return k.LogEval(SquaredDistanceVec(a, b))
}

// DefaultTemperature is SimCLR's (and the reference's) temperature τ for
// the cosine kernel.
const DefaultTemperature = 0.5

// Cosine is SimCLR's similarity q = exp(cos(a, b)/τ), log q = cos(a, b)/τ,
// where cos is the cosine of the angle between the vectors (their dot
// product after L2 normalisation). A zero vector has cosine 0 with
// everything. Temperature 0 (the zero value) means DefaultTemperature.
//
// Its gradient goes through the gradient of a matrix product, as
// SquaredDistancesGram's does (see there about its cost).
type Cosine struct {
	// Temperature τ > 0; 0 means DefaultTemperature.
	Temperature float64
}

var _ Kernel = Cosine{}

func (k Cosine) temperature() float64 {
	if k.Temperature == 0 {
		return DefaultTemperature
	}
	return k.Temperature
}

// Name implements Kernel.
func (Cosine) Name() string { return NameCosine }

// String implements Kernel.
func (k Cosine) String() string { return fmt.Sprintf("%s(tau=%.4g)", NameCosine, k.temperature()) }

// EvalCos returns the similarity exp(c/τ) for cosine c (plain Go, for plots).
func (k Cosine) EvalCos(c float64) float64 { return math.Exp(k.LogEvalCos(c)) }

// LogEvalCos returns the log-similarity c/τ for cosine c.
func (k Cosine) LogEvalCos(c float64) float64 { return c / k.temperature() }

// LogSimilarity implements Kernel: the dot products of the L2-normalised
// rows, divided by τ.
func (k Cosine) LogSimilarity(x, y *Node) *Node {
	tau := k.temperature()
	if !(tau > 0) || math.IsInf(tau, 0) {
		exceptions.Panicf("kernels.Cosine: temperature must be positive and finite, got %v", k.Temperature)
	}
	checkPair(x, y)
	// L2Normalize uses Sqrt on the squared norm with zero norms replaced by
	// 1 (no Rsqrt, which has no gradient in GoMLX v0.26).
	xn := L2Normalize(x, -1)
	yn := xn
	if y != x {
		yn = L2Normalize(y, -1)
	}
	cos := DotGeneral(xn, []int{1}, nil, yn, []int{1}, nil)
	return MulScalar(cos, 1/tau)
}

// LogSimilarityVec implements Kernel.
func (k Cosine) LogSimilarityVec(a, b []float64) float64 {
	checkVecs(a, b)
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return k.LogEvalCos(dot / (math.Sqrt(na) * math.Sqrt(nb)))
}
