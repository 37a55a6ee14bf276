//go:build !noaccel

package accel

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Fused ops: batch normalisation.
//
// simplego lacks the backend ops BatchNormForTraining, BatchNormForInference
// and BatchNormGradient (its Builder embeds notimplemented.Builder for them),
// so a batch norm written with GoMLX's element-wise ops costs about 7 passes
// over the activations forward and 12 backward, each one a separate
// memory-bound op. Backend wraps a simplego backend with a Builder that
// implements the three ops as nodes of simplego's own graph, computed by
// this package's executors in 2 passes each way (statistics, then the
// normalisation; gradient sums, then the input gradient). GoMLX's graph
// package already differentiates BatchNormForTraining with
// BatchNormGradient (XLA's semantics: the gradient flows through the batch
// statistics), so nothing else changes.

// Backend is a GoMLX backend: simplego's, plus the fused batch-norm ops
// above, the max-pool ops of pool.go and the tile nodes of tiles.go. Create
// it with WithFusedOps (which also checks them).
type Backend struct {
	*simplego.Backend
}

// fusedBatchNormOps are the batch-norm op types Backend adds to
// simplego's capabilities.
var fusedBatchNormOps = []backends.OpType{
	backends.OpTypeBatchNormForTraining,
	backends.OpTypeBatchNormForInference,
	backends.OpTypeBatchNormGradient,
}

// WithFusedOps returns b wrapped in a Backend whose builders implement the
// batch normalisation ops, non-overlapping max-pooling with its gradient
// and the Winograd tile gathers and scatters (float32 only) with this
// package's kernels, or b unchanged when b is not simplego's backend, the
// fast executors are not installed (Install failed or was not called) or
// the fused ops' self-test failed.
//
// The first call that gets this far runs that self-test (about a
// millisecond): small graphs of every fused op, built by the Backend's
// builder and, from plain GoMLX ops, by simplego's, must give the same
// results; if they do not, the reason is logged once and no later call
// offers the fused ops. In programs built with the noaccel build tag it
// returns b.
func WithFusedOps(b backends.Backend) backends.Backend {
	sg, ok := b.(*simplego.Backend)
	if !ok || !Installed() || !fusedOpsChecked() {
		return b
	}
	return &Backend{Backend: sg}
}

// Capabilities implements backends.Backend: simplego's, plus the batch
// normalisation ops and SelectAndScatterMax (float32, see WithFusedOps).
func (b *Backend) Capabilities() backends.Capabilities {
	c := b.Backend.Capabilities().Clone()
	for _, op := range fusedBatchNormOps {
		c.Operations[op] = true
	}
	c.Operations[backends.OpTypeSelectAndScatterMax] = true
	return c
}

// Builder implements backends.Backend.
func (b *Backend) Builder(name string) backends.Builder {
	inner := b.Backend.Builder(name)
	sb, ok := inner.(*simplego.Builder)
	if !ok {
		return inner
	}
	return &builder{Builder: sb, backend: b.Backend}
}

// builder is simplego's Builder plus the fused ops.
type builder struct {
	*simplego.Builder
	backend *simplego.Backend
}

// bnKind says which kernel a fused batch-norm node runs.
type bnKind int

const (
	// bnStats: x -> [2, C]: batch mean and (biased) variance per feature.
	bnStats bnKind = iota
	// bnNormalize: x, stats [2, C], scale, offset -> normalised x.
	bnNormalize
	// bnInference: x, scale, offset, mean, variance -> normalised x.
	bnInference
	// bnGradSums: x, mean, variance, dy -> [2, C]: sum(dy), sum(dy·xhat).
	bnGradSums
	// bnGradInput: x, scale, mean, variance, dy, sums -> dx.
	bnGradInput
)

// bnParams is the data of a fused batch-norm node.
type bnParams struct {
	kind    bnKind
	epsilon float32
	axis    int
}

// nodes converts ops to simplego nodes of b's graph.
func (b *builder) nodes(op string, ops ...backends.Op) ([]*simplego.Node, error) {
	out := make([]*simplego.Node, len(ops))
	for i, o := range ops {
		n, ok := o.(*simplego.Node)
		if !ok || n == nil {
			return nil, fmt.Errorf("accel: %s: input #%d is not a simplego node (%T)", op, i, o)
		}
		out[i] = n
	}
	return out, nil
}

// checkBatchNorm checks the operand and the per-feature inputs of a batch
// norm op: float32, featureAxis in range, vectors of the feature size.
func checkBatchNorm(op string, x *simplego.Node, featureAxis int, vectors ...*simplego.Node) (shapes.Shape, error) {
	xs := nodeShape(x)
	if xs.DType != dtypes.Float32 {
		return xs, fmt.Errorf("accel: %s: only float32 is implemented for the pure-Go backend, got %s", op, xs)
	}
	if featureAxis < 0 || featureAxis >= xs.Rank() {
		return xs, fmt.Errorf("accel: %s: feature axis %d out of range for %s", op, featureAxis, xs)
	}
	c := xs.Dimensions[featureAxis]
	for i, v := range vectors {
		vs := nodeShape(v)
		if vs.DType != dtypes.Float32 || vs.Rank() != 1 || vs.Dimensions[0] != c {
			return xs, fmt.Errorf("accel: %s: per-feature input #%d must be float32[%d], got %s", op, i+1, c, vs)
		}
	}
	return xs, nil
}

// newBN adds a fused batch-norm node.
func (b *builder) newBN(kind bnKind, epsilon float32, axis int, shape shapes.Shape, inputs ...*simplego.Node) *simplego.Node {
	opType := backends.OpTypeBatchNormForTraining
	switch kind {
	case bnInference:
		opType = backends.OpTypeBatchNormForInference
	case bnGradSums, bnGradInput:
		opType = backends.OpTypeBatchNormGradient
	}
	n := builderNewNode(b.Builder, opType, shape, inputs...)
	setNodeData(n, &bnParams{kind: kind, epsilon: epsilon, axis: axis})
	return n
}

// rows splits a [2, C] node into its two rows, as [C] ops.
func (b *builder) rows(pair *simplego.Node, c int) (first, second backends.Op, err error) {
	row := func(i int) (backends.Op, error) {
		s, err := b.Slice(pair, []int{i, 0}, []int{i + 1, c}, []int{1, 1})
		if err != nil {
			return nil, err
		}
		return b.Reshape(s, c)
	}
	if first, err = row(0); err != nil {
		return nil, nil, err
	}
	second, err = row(1)
	return first, second, err
}

// BatchNormForTraining implements backends.Builder: the batch's mean and
// biased variance per feature, and x normalised with them.
func (b *builder) BatchNormForTraining(operand, scale, offset backends.Op, epsilon float32, featureAxis int) (
	normalized, batchMean, batchVariance backends.Op, err error) {
	const op = "BatchNormForTraining"
	n, err := b.nodes(op, operand, scale, offset)
	if err != nil {
		return nil, nil, nil, err
	}
	xs, err := checkBatchNorm(op, n[0], featureAxis, n[1], n[2])
	if err != nil {
		return nil, nil, nil, err
	}
	c := xs.Dimensions[featureAxis]
	stats := b.newBN(bnStats, epsilon, featureAxis, shapes.Make(dtypes.Float32, 2, c), n[0])
	normalizedNode := b.newBN(bnNormalize, epsilon, featureAxis, xs.Clone(), n[0], stats, n[1], n[2])
	batchMean, batchVariance, err = b.rows(stats, c)
	if err != nil {
		return nil, nil, nil, err
	}
	return normalizedNode, batchMean, batchVariance, nil
}

// BatchNormForInference implements backends.Builder: x normalised with the
// given mean and variance.
func (b *builder) BatchNormForInference(operand, scale, offset, mean, variance backends.Op, epsilon float32, featureAxis int) (
	backends.Op, error) {
	const op = "BatchNormForInference"
	n, err := b.nodes(op, operand, scale, offset, mean, variance)
	if err != nil {
		return nil, err
	}
	xs, err := checkBatchNorm(op, n[0], featureAxis, n[1:]...)
	if err != nil {
		return nil, err
	}
	return b.newBN(bnInference, epsilon, featureAxis, xs.Clone(), n...), nil
}

// BatchNormGradient implements backends.Builder: the gradients of
// BatchNormForTraining's normalised output with respect to the operand
// (through the batch statistics), the scale and the offset.
func (b *builder) BatchNormGradient(operand, scale, mean, variance, gradOutput backends.Op, epsilon float32, featureAxis int) (
	gradOperand, gradScale, gradOffset backends.Op, err error) {
	const op = "BatchNormGradient"
	n, err := b.nodes(op, operand, scale, mean, variance, gradOutput)
	if err != nil {
		return nil, nil, nil, err
	}
	xs, err := checkBatchNorm(op, n[0], featureAxis, n[1], n[2], n[3])
	if err != nil {
		return nil, nil, nil, err
	}
	if gs := nodeShape(n[4]); !gs.Equal(xs) {
		return nil, nil, nil, fmt.Errorf("accel: %s: gradient %s must have the operand's shape %s", op, gs, xs)
	}
	c := xs.Dimensions[featureAxis]
	x, sc, mu, v, dy := n[0], n[1], n[2], n[3], n[4]
	sums := b.newBN(bnGradSums, epsilon, featureAxis, shapes.Make(dtypes.Float32, 2, c), x, mu, v, dy)
	gradOperand = b.newBN(bnGradInput, epsilon, featureAxis, xs.Clone(), x, sc, mu, v, dy, sums)
	gradOffset, gradScale, err = b.rows(sums, c)
	if err != nil {
		return nil, nil, nil, err
	}
	return gradOperand, gradScale, gradOffset, nil
}

// fusedInputs returns the float32 data of a fused node's inputs (the fused
// ops of this package are float32 only); op names the node in errors.
func fusedInputs(backend *simplego.Backend, inputs []*simplego.Buffer, op string) ([][]float32, error) {
	data := make([][]float32, len(inputs))
	for i, in := range inputs {
		d, err := backend.BufferData(in)
		if err != nil {
			return nil, err
		}
		f, ok := d.([]float32)
		if !ok {
			return nil, fmt.Errorf("accel: %s: input #%d is %T, want []float32", op, i, d)
		}
		data[i] = f
	}
	return data, nil
}

// fusedOutput returns a fused node's output buffer and its data: input
// #reuse's buffer when the executor owns it and it has the node's shape
// (the kernels read each element before writing it; inputs[reuse] is then
// set to nil, as simplego expects), else a new one (always for reuse < 0).
func fusedOutput(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool,
	data [][]float32, reuse int, op string) (*simplego.Buffer, []float32) {
	shape := nodeShape(node)
	if reuse >= 0 && inputsOwned[reuse] {
		if s, err := backend.BufferShape(inputs[reuse]); err == nil && s.Equal(shape) {
			buf := inputs[reuse]
			inputs[reuse] = nil
			return buf, data[reuse]
		}
	}
	buf := backend.NewBuffer(shape)
	return buf, outputData(backend, buf, shape.Size(), op)
}
