// Package loss implements the InfoNCE loss of t-SimCNE and SimCLR over the
// two augmented views of a batch, for any similarity kernel of package
// github.com/gosimcne/gosimcne/kernels.
//
// The embeddings of a batch of B images are z, shaped [2B, D]: rows 0..B-1
// are the first view of images 0..B-1 and rows B..2B-1 the second view, so
// the positive partner of row i is row (i+B) mod 2B. For each view i
//
//	ℓ_i = -log( q(i, pos(i)) / Σ_{j≠i} q(i, j) ),
//
// the sum running over the other 2B-1 views (the positive included), and
// the loss is the mean of ℓ_i over the 2B views. This is the loss of the
// Python reference (berenslab/t-simcne v0.3.12) for its "euclidean"
// (Cauchy), "gauss" and "cosine" metrics.
//
// Everything is computed in log space: the kernel gives log q, the
// denominator is a masked log-sum-exp with the diagonal replaced by the
// lowest finite value of the dtype (not -Inf, whose products with 0 make
// NaN in gradients). It runs, gradients included, on GoMLX's pure-Go
// backend.
package loss

import (
	"github.com/gomlx/exceptions"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own convention for graph code.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gosimcne/gosimcne/kernels"
)

// Terms holds the InfoNCE loss of a batch and its parts, for training and
// logging. Loss = Attraction + Repulsion (up to rounding).
type Terms struct {
	// Loss is the scalar mean of PerView: what is minimised.
	Loss *Node

	// PerView is ℓ_i for each of the 2B views, shaped [2B].
	PerView *Node

	// Attraction is the mean over the views of -log q(i, pos(i)): small when
	// the two views of each image are close (the reference logs it as "ta").
	Attraction *Node

	// Repulsion is the mean over the views of log Σ_{j≠i} q(i, j): small when
	// all views are far apart (the reference logs it as "ru").
	Repulsion *Node
}

// Weighted returns the loss with the attraction weighted by rho:
// rho·Attraction + Repulsion, or Loss itself for rho = 1.
func (t Terms) Weighted(rho float64) *Node {
	if rho == 1 {
		return t.Loss
	}
	return Add(MulScalar(t.Attraction, rho), t.Repulsion)
}

// InfoNCE returns the scalar InfoNCE loss of the views z, shaped [2B, D]
// (see the package documentation), under kernel k.
//
// It is a graph building function: it panics (GoMLX style) if z is not a
// float matrix with an even, positive number of rows.
func InfoNCE(k kernels.Kernel, z *Node) *Node {
	return InfoNCETerms(k, z).Loss
}

// InfoNCETerms is InfoNCE returning also the per-view losses and the
// attraction and repulsion parts.
func InfoNCETerms(k kernels.Kernel, z *Node) Terms {
	if k == nil {
		exceptions.Panicf("loss.InfoNCE: nil kernel")
	}
	n := checkViews(z)
	logQ := k.LogSimilarity(z, z) // [2B, 2B]
	if !logQ.Shape().Equal(shapes.Make(z.DType(), n, n)) {
		exceptions.Panicf("loss.InfoNCE: kernel %s returned shape %s for embeddings %s, wanted [%d, %d]",
			k, logQ.Shape(), z.Shape(), n, n)
	}
	return termsOfLogQ(logQ)
}

// checkViews panics (GoMLX style) unless z is a float matrix [2B, D] with
// 2B >= 2, and returns 2B.
func checkViews(z *Node) int {
	if z == nil || z.Rank() != 2 || !z.DType().IsFloat() {
		var s any = "nil"
		if z != nil {
			s = z.Shape()
		}
		exceptions.Panicf("loss.InfoNCE: embeddings must be a float matrix [2B, D], got %v", s)
	}
	n := z.Shape().Dim(0)
	if n < 2 || n%2 != 0 {
		exceptions.Panicf("loss.InfoNCE: embeddings need an even number 2B >= 2 of rows (two views per image), got shape %s",
			z.Shape())
	}
	return n
}

// InfoNCETermsStudentT is InfoNCETerms under the Student-t kernel with its
// degrees of freedom given as a scalar node (e.g. a trained parameter; see
// kernels.StudentTLogEval).
func InfoNCETermsStudentT(z, dof *Node) Terms {
	checkViews(z)
	return termsOfLogQ(kernels.StudentTLogEval(kernels.SquaredDistances(z, z), dof))
}

// termsOfLogQ is the InfoNCE loss given the [2B, 2B] log-similarities.
func termsOfLogQ(logQ *Node) Terms {
	g := logQ.Graph()
	dtype := logQ.DType()
	n := logQ.Shape().Dim(0)
	b := n / 2

	// Masks built from iotas: no [2B, 2B] constant is embedded in the graph.
	intShape := shapes.Make(dtypes.Int32, n, n)
	rows, cols := Iota(g, intShape, 0), Iota(g, intShape, 1)
	diagonal := Equal(rows, cols)
	// For i, j in [0, 2B): |i - j| == B exactly when j is i's other view.
	positive := Equal(Abs(Sub(rows, cols)), Scalar(g, dtypes.Int32, b))

	zeros := ZerosLike(logQ)
	logQPos := ReduceSum(Where(positive, logQ, zeros), 1) // [2B]

	// Masked log-sum-exp over j != i. The diagonal gets the lowest finite
	// value, whose exp after the shift is 0; the shift (row max over j != i,
	// always finite since 2B >= 2) carries no gradient, as in
	// graph.LogSoftmax.
	masked := Where(diagonal, BroadcastToShape(Const(g, dtype.LowestValue()), logQ.Shape()), logQ)
	rowMax := StopGradient(ReduceAndKeep(masked, ReduceMax, 1)) // [2B, 1]
	sumExp := ReduceSum(Exp(Sub(masked, rowMax)), 1)            // [2B], >= 1
	logSum := Add(Log(sumExp), Reshape(rowMax, n))              // [2B]

	perView := Sub(logSum, logQPos)
	return Terms{
		Loss:       ReduceAllMean(perView),
		PerView:    perView,
		Attraction: Neg(ReduceAllMean(logQPos)),
		Repulsion:  ReduceAllMean(logSum),
	}
}

// LossFn returns the InfoNCE loss under kernel k as a GoMLX loss function
// (losses.LossFn, also train.LossFn) for train.NewTrainer: labels are
// ignored (there are none in self-supervised training) and predictions[0]
// must be the [2B, D] embeddings of the two views.
func LossFn(k kernels.Kernel) losses.LossFn {
	return func(_, predictions []*Node) *Node {
		if len(predictions) == 0 {
			exceptions.Panicf("loss.LossFn: no predictions, want the [2B, D] embeddings as predictions[0]")
		}
		return InfoNCE(k, predictions[0])
	}
}

// WeightedLossFn is LossFn with the attraction term weighted by rho:
// rho·Attraction + Repulsion, t-SNE's exaggeration carried over to InfoNCE
// (rho > 1 pulls each image's two views together harder than the repulsion
// spreads the images apart; rho = 1 is exactly LossFn).
func WeightedLossFn(k kernels.Kernel, rho float64) losses.LossFn {
	if rho == 1 {
		return LossFn(k)
	}
	return func(_, predictions []*Node) *Node {
		if len(predictions) == 0 {
			exceptions.Panicf("loss.WeightedLossFn: no predictions, want the [2B, D] embeddings as predictions[0]")
		}
		return InfoNCETerms(k, predictions[0]).Weighted(rho)
	}
}

// StudentTLossFn is WeightedLossFn under a Student-t kernel whose degrees
// of freedom come with the predictions: predictions[0] are the [2B, D]
// embeddings, predictions[1] the scalar degrees of freedom (a trained
// parameter of the model function).
func StudentTLossFn(rho float64) losses.LossFn {
	return func(_, predictions []*Node) *Node {
		if len(predictions) < 2 {
			exceptions.Panicf("loss.StudentTLossFn: want the embeddings and the degrees of freedom as predictions, got %d", len(predictions))
		}
		return InfoNCETermsStudentT(predictions[0], predictions[1]).Weighted(rho)
	}
}
