//go:build !noaccel

package accel_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX style.
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// newFusedBackend returns a simplego backend wrapped by accel.WithFusedOps.
func newFusedBackend(t *testing.T) backends.Backend {
	t.Helper()
	be := accel.WithFusedOps(newBackend(t))
	if _, ok := be.(*accel.Backend); !ok {
		t.Fatalf("WithFusedOps returned %T, want *accel.Backend", be)
	}
	for _, op := range []backends.OpType{backends.OpTypeBatchNormForTraining, backends.OpTypeBatchNormForInference,
		backends.OpTypeBatchNormGradient, backends.OpTypeSelectAndScatterMax, backends.OpTypeReduceWindow} {
		if !be.Capabilities().Operations[op] {
			t.Errorf("capabilities lack %s", op)
		}
	}
	return be
}

// TestFusedBatchNorm checks the fused batch-norm ops (forward, gradients
// through the batch statistics, inference) against the element-wise
// formulation, for the feature axis last (NHWC activations, large enough to
// run in parallel) and elsewhere.
func TestFusedBatchNorm(t *testing.T) {
	fused := newFusedBackend(t)
	plain := fused // the formulations use no fused op (and tensors stay on one backend)
	r := rand.New(rand.NewPCG(30, 31))
	const eps = 1e-5
	cases := []struct {
		dims []int
		axis int
	}{
		{[]int{64, 8, 8, 16}, 3},
		{[]int{4, 3, 5}, 1},
		{[]int{6, 5}, 0},
		{[]int{2, 3, 4, 5}, 2},
		{[]int{7, 1}, 1},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%v/axis%d", c.dims, c.axis)
		f := c.dims[c.axis]
		x := randomTensor(r, "f32", c.dims...)
		// Shift and stretch the features so that the statistics matter.
		tensors.MutableFlatData(x, func(d []float32) {
			for i := range d {
				d[i] = d[i]*3 + 2
			}
		})
		scale, offset := randomTensor(r, "f32", f), randomTensor(r, "f32", f)
		w := randomTensor(r, "f32", c.dims...)
		var others []int
		for a := range c.dims {
			if a != c.axis {
				others = append(others, a)
			}
		}
		bcast := func(v, like *Node) *Node {
			dims := make([]int, like.Rank())
			for i := range dims {
				dims[i] = 1
			}
			dims[c.axis] = f
			return Reshape(v, dims...)
		}
		// Training: outputs y, mean, variance and d(sum(y·w))/d(x, scale, offset).
		fusedFn := func(x, scale, offset, w *Node) []*Node {
			y, mean, variance := InternalBatchNormForTraining(x, scale, offset, eps, c.axis)
			grads := Gradient(ReduceAllSum(Mul(y, w)), x, scale, offset)
			return append([]*Node{y, mean, variance}, grads...)
		}
		formulaFn := func(x, scale, offset, w *Node) []*Node {
			mean := ReduceMean(x, others...)
			centered := Sub(x, bcast(mean, x))
			variance := ReduceMean(Square(centered), others...)
			y := Add(Mul(centered, bcast(Div(scale, Sqrt(AddScalar(variance, eps))), x)), bcast(offset, x))
			grads := Gradient(ReduceAllSum(Mul(y, w)), x, scale, offset)
			return append([]*Node{y, mean, variance}, grads...)
		}
		before := accel.FusedOpsForTest()
		got := MustNewExec(fused, fusedFn).MustExec(x, scale, offset, w)
		if ran := accel.FusedOpsForTest() - before; ran != 4 { // stats, normalise, gradient sums, input gradient
			t.Errorf("%s: %d fused nodes ran, want 4", name, ran)
		}
		want := MustNewExec(plain, formulaFn).MustExec(x, scale, offset, w)
		assertOutputsClose(t, "training/"+name, got, want, 2e-5, 0)

		// Inference with given statistics (here: the batch's).
		mean, variance := want[1], want[2]
		got = MustNewExec(fused, func(x, scale, offset, mean, variance *Node) *Node {
			return InternalBatchNormForInference(x, scale, offset, mean, variance, eps, c.axis)
		}).MustExec(x, scale, offset, mean, variance)
		assertOutputsClose(t, "inference/"+name, got, want[:1], 2e-5, 0)
	}
}

// TestFusedBatchNormRefuses checks that the fused builder rejects what its
// kernels do not compute, with an error naming the op.
func TestFusedBatchNormRefuses(t *testing.T) {
	fused := newFusedBackend(t)
	x := tensors.FromFlatDataAndDimensions([]float64{1, 2, 3, 4}, 2, 2)
	v := tensors.FromFlatDataAndDimensions([]float64{1, 1}, 2)
	exec, err := NewExec(fused, func(x, s, o *Node) *Node {
		y, _, _ := InternalBatchNormForTraining(x, s, o, 1e-5, 1)
		return y
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = exec.Exec(x, v, v)
	if err == nil || !strings.Contains(err.Error(), "BatchNormForTraining") || !strings.Contains(err.Error(), "float32") {
		t.Errorf("float64 batch norm: err = %v, want an error naming BatchNormForTraining and float32", err)
	}
}

// TestFusedMaxPool checks max pooling over non-overlapping windows and its
// gradient against the Reshape + ReduceMax formulation (random inputs: no
// ties), a 2x2 and a 3x3 window (the unrolled and the generic kernel).
func TestFusedMaxPool(t *testing.T) {
	fused := newFusedBackend(t)
	plain := fused // the formulations use no fused op (and tensors stay on one backend)
	r := rand.New(rand.NewPCG(32, 33))
	for _, c := range []struct {
		dims   []int
		window int
	}{
		{[]int{64, 16, 16, 32}, 2},
		{[]int{3, 4, 6, 5}, 2},
		{[]int{2, 6, 9, 3}, 3},
	} {
		name := fmt.Sprintf("%v/window%d", c.dims, c.window)
		x := randomTensor(r, "f32", c.dims...)
		k := c.window
		out := []int{c.dims[0], c.dims[1] / k, c.dims[2] / k, c.dims[3]}
		w := randomTensor(r, "f32", out...)
		before := accel.FusedOpsForTest()
		got := MustNewExec(fused, func(x, w *Node) []*Node {
			y := MaxPool(x).Window(k).Done()
			return []*Node{y, Gradient(ReduceAllSum(Mul(y, w)), x)[0]}
		}).MustExec(x, w)
		if ran := accel.FusedOpsForTest() - before; ran != 2 {
			t.Errorf("%s: %d fused nodes ran, want 2 (ReduceWindow, SelectAndScatterMax)", name, ran)
		}
		want := MustNewExec(plain, func(x, w *Node) []*Node {
			d := x.Shape().Dimensions
			y := ReduceMax(Reshape(x, d[0], d[1]/k, k, d[2]/k, k, d[3]), 2, 4)
			return []*Node{y, Gradient(ReduceAllSum(Mul(y, w)), x)[0]}
		}).MustExec(x, w)
		assertOutputsClose(t, name, got, want, 0, 0)
	}
}

// TestFusedMaxPoolTies checks that a window's gradient goes to its first
// maximum only (XLA's and PyTorch's choice) and that overlapping windows,
// which the fused kernels do not handle, still pool through simplego.
func TestFusedMaxPoolTies(t *testing.T) {
	fused := newFusedBackend(t)
	x := tensors.FromFlatDataAndDimensions([]float32{
		1, 1, 0, 5,
		0, 1, 5, 5,
	}, 1, 2, 4, 1)
	got := MustNewExec(fused, func(x *Node) []*Node {
		y := MaxPool(x).Window(2).Done()
		return []*Node{y, Gradient(ReduceAllSum(MulScalar(y, 3)), x)[0]}
	}).MustExec(x)
	assertOutputsClose(t, "ties", got, []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions([]float32{1, 5}, 1, 1, 2, 1),
		tensors.FromFlatDataAndDimensions([]float32{
			3, 0, 0, 3,
			0, 0, 0, 0,
		}, 1, 2, 4, 1),
	}, 0, 0)

	overlapping := MustNewExec(fused, func(x *Node) *Node {
		return MaxPool(x).Window(2).Strides(1).Done()
	}).MustExec(x)
	assertOutputsClose(t, "overlapping windows (simplego)", overlapping, []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions([]float32{1, 5, 5}, 1, 1, 3, 1),
	}, 0, 0)
}
