package nn

import (
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
)

var fusedOps atomic.Bool

func init() { fusedOps.Store(true) }

// FusedOps sets whether BatchNorm (in training) and MaxPool2x2 use the
// backend's own ops where it has them and x is float32: BatchNormForTraining
// and BatchNormGradient for the batch norm, ReduceWindow and
// SelectAndScatterMax for the max-pool. XLA has them, and so has the
// pure-Go backend as tsimcne/backend creates it (tsimcne/accel.Backend:
// two passes over the activations each way for a batch norm instead of about
// twenty element-wise ops, one for a max-pool's gradient instead of six).
// Otherwise both are written with element-wise ops and reductions, which
// every backend trains. The results agree up to float32 rounding (and, for
// the max-pool's gradient, ties: the backend's op passes a window's gradient
// to its first maximum, the element-wise version to every maximum). On by
// default; it takes effect for graphs built afterwards. It returns the
// previous setting.
func FusedOps(on bool) (previous bool) { return fusedOps.Swap(on) }

// FusingOps reports the current FusedOps setting.
func FusingOps() bool { return fusedOps.Load() }

// useBackendOps reports whether FusedOps is on, x is float32 and x's
// backend has all the given ops.
func useBackendOps(x *Node, ops ...backends.OpType) bool {
	if !fusedOps.Load() || x.DType() != dtypes.Float32 {
		return false
	}
	has := x.Graph().Backend().Capabilities().Operations
	for _, op := range ops {
		if !has[op] {
			return false
		}
	}
	return true
}
