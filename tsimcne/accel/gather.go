//go:build !noaccel

package accel

import (
	"runtime"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Row gathers and scatter-adds: the im2col convolution of tsimcne/nn
// gathers rows of its flattened input, out[i] = x[idx[i]] (graph.Gather),
// and its gradient adds them back, dx[idx[i]] += dOut[i] (ScatterSum).
// simplego runs both element by element through generic index iterators;
// here whole rows are copied or added, on several goroutines. Only that
// pattern is handled (the index vector has size 1 and selects along axis 0,
// slices are whole rows, and the output keeps the row axes last); anything
// else, and indices out of range, go to simplego's own executors.

// gatherMinParallelBytes is the smallest gather or scatter split over
// goroutines.
const gatherMinParallelBytes = 1 << 18

// fastRowOps counts the Gathers and ScatterSums computed here (for tests).
var fastRowOps atomic.Int64

// rowIndices returns the indices as ints if they are int32 or int64, index
// rows 0..rows-1 of the operand (all in range), and the index vector has
// size 1 (indexVectorAxis is the implicit last axis or of dimension 1).
func rowIndices(backend *simplego.Backend, indices *simplego.Buffer, indexVectorAxis, rows int) (idx []int32, idx64 []int64, n int, ok bool) {
	shape, err := backend.BufferShape(indices)
	if err != nil || !(indexVectorAxis == shape.Rank() || (indexVectorAxis >= 0 && indexVectorAxis < shape.Rank() && shape.Dimensions[indexVectorAxis] == 1)) {
		return nil, nil, 0, false
	}
	data, err := backend.BufferData(indices)
	if err != nil {
		return nil, nil, 0, false
	}
	switch d := data.(type) {
	case []int32:
		for _, v := range d {
			if v < 0 || int(v) >= rows {
				return nil, nil, 0, false
			}
		}
		return d, nil, len(d), len(d) == shape.Size()
	case []int64:
		for _, v := range d {
			if v < 0 || v >= int64(rows) {
				return nil, nil, 0, false
			}
		}
		return nil, d, len(d), len(d) == shape.Size()
	}
	return nil, nil, 0, false
}

// rowShape checks that operand is [rows, rest...] and returns rows and the
// size of a row.
func rowShape(s shapes.Shape) (rows, rowSize int, ok bool) {
	if s.Rank() < 1 || s.Size() == 0 {
		return 0, 0, false
	}
	return s.Dimensions[0], s.Size() / s.Dimensions[0], true
}

// trailingAxes reports whether axes == [rank-n, ..., rank-1].
func trailingAxes(axes []int, rank, n int) bool {
	if len(axes) != n {
		return false
	}
	for i, a := range axes {
		if a != rank-n+i {
			return false
		}
	}
	return true
}

// bytesOf returns the bytes of a buffer's flat data (float32, float64,
// int32 or int64), so that Gather copies rows of any of them alike. (This
// reinterprets a Go slice, nothing of simplego's.)
func bytesOf(backend *simplego.Backend, buf *simplego.Buffer, shape shapes.Shape) ([]byte, bool) {
	data, err := backend.BufferData(buf)
	if err != nil {
		return nil, false
	}
	var ptr unsafe.Pointer
	var n int
	switch d := data.(type) {
	case []float32:
		ptr, n = unsafe.Pointer(unsafe.SliceData(d)), len(d)*4
	case []float64:
		ptr, n = unsafe.Pointer(unsafe.SliceData(d)), len(d)*8
	case []int32:
		ptr, n = unsafe.Pointer(unsafe.SliceData(d)), len(d)*4
	case []int64:
		ptr, n = unsafe.Pointer(unsafe.SliceData(d)), len(d)*8
	default:
		return nil, false
	}
	if n != shape.Size()*shape.DType.Size() || ptr == nil {
		return nil, false
	}
	return unsafe.Slice((*byte)(ptr), n), true
}

func tryGather(backend *simplego.Backend, node *simplego.Node, operand, indices *simplego.Buffer) (*simplego.Buffer, bool) {
	params := nodeGatherParams(node)
	if params == nil {
		return nil, false
	}
	opShape, err := backend.BufferShape(operand)
	if err != nil {
		return nil, false
	}
	outShape := nodeShape(node)
	rows, rowSize, ok := rowShape(opShape)
	r := opShape.Rank()
	if !ok || outShape.DType != opShape.DType || !slices.Equal(params.startIndexMap, []int{0}) ||
		!slices.Equal(params.collapsedSlicesAxes, []int{0}) || len(params.sliceSizes) != r || params.sliceSizes[0] != 1 ||
		!slices.Equal(params.sliceSizes[1:], opShape.Dimensions[1:]) || !trailingAxes(params.offsetOutputAxes, outShape.Rank(), r-1) {
		return nil, false
	}
	idx32, idx64, n, ok := rowIndices(backend, indices, params.indexVectorAxis, rows)
	if !ok || n*rowSize != outShape.Size() {
		return nil, false
	}
	src, ok := bytesOf(backend, operand, opShape)
	if !ok {
		return nil, false
	}
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	dst, ok := bytesOf(backend, out, outShape)
	if !ok {
		_ = backend.BufferFinalize(out)
		return nil, false
	}
	rowBytes := rowSize * opShape.DType.Size()
	workers := 1
	if len(dst) >= gatherMinParallelBytes {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk := max(1, (n+4*workers-1)/(4*workers))
	if rowBytes == 12 && idx32 != nil {
		// Rows of 3 float32 (the RGB patches of a first convolution):
		// copy() costs more than the 12 bytes it moves; plain loads and
		// stores are about 3x faster.
		src32 := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/4)
		dst32 := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)/4)
		parallelFor((n+chunk-1)/chunk, workers, func(c int) {
			hi := min(n, (c+1)*chunk)
			for i := c * chunk; i < hi; i++ {
				row := int(idx32[i]) * 3
				s := src32[row : row+3 : row+3]
				d := dst32[3*i : 3*i+3 : 3*i+3]
				d[0], d[1], d[2] = s[0], s[1], s[2]
			}
		})
		fastRowOps.Add(1)
		return out, true
	}
	if vecAVX2 && rowBytes%32 == 0 && idx32 != nil && opShape.DType.Size() == 4 {
		// Rows of whole 32-byte vectors: the AVX2 row gather, without a
		// memmove call per row (as for the Winograd tiles, tiles.go).
		src32 := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/4)
		dst32 := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)/4)
		rowSize := rowBytes / 4
		parallelFor((n+chunk-1)/chunk, workers, func(c int) {
			lo, hi := c*chunk, min(n, (c+1)*chunk)
			vecGatherRows(dst32[lo*rowSize:hi*rowSize], src32, idx32[lo:hi], rowSize)
		})
		fastRowOps.Add(1)
		return out, true
	}
	parallelFor((n+chunk-1)/chunk, workers, func(c int) {
		for i := c * chunk; i < min(n, (c+1)*chunk); i++ {
			var row int
			if idx32 != nil {
				row = int(idx32[i])
			} else {
				row = int(idx64[i])
			}
			copy(dst[i*rowBytes:(i+1)*rowBytes], src[row*rowBytes:(row+1)*rowBytes])
		}
	})
	fastRowOps.Add(1)
	return out, true
}

func tryScatterSum(backend *simplego.Backend, node *simplego.Node, operand, indices, updates *simplego.Buffer) (*simplego.Buffer, bool) {
	params := nodeScatterParams(node)
	if params == nil {
		return nil, false
	}
	opShape, err1 := backend.BufferShape(operand)
	upShape, err2 := backend.BufferShape(updates)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	outShape := nodeShape(node)
	rows, rowSize, ok := rowShape(opShape)
	if !ok || opShape.DType != dtypes.Float32 || upShape.DType != dtypes.Float32 || !outShape.Equal(opShape) ||
		!slices.Equal(params.insertedWindowAxes, []int{0}) || !slices.Equal(params.scatterAxesToOperandAxes, []int{0}) ||
		!trailingAxes(params.updateWindowAxes, upShape.Rank(), opShape.Rank()-1) ||
		upShape.Rank() < opShape.Rank()-1 || !slices.Equal(upShape.Dimensions[upShape.Rank()-(opShape.Rank()-1):], opShape.Dimensions[1:]) {
		return nil, false
	}
	idx32, idx64, n, ok := rowIndices(backend, indices, params.indexVectorAxis, rows)
	if !ok || n*rowSize != upShape.Size() {
		return nil, false
	}
	opData, err1 := backend.BufferData(operand)
	upData, err2 := backend.BufferData(updates)
	src, ok1 := opData.([]float32)
	upd, ok2 := upData.([]float32)
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return nil, false
	}
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	outData, _ := backend.BufferData(out)
	dst, ok := outData.([]float32)
	if !ok || len(dst) != len(src) {
		_ = backend.BufferFinalize(out)
		return nil, false
	}
	// Each goroutine owns a range of output rows: it copies them from the
	// operand and adds every update that targets them, in index order (the
	// same order of additions as simplego's).
	workers := 1
	if 4*len(upd) >= gatherMinParallelBytes {
		workers = runtime.GOMAXPROCS(0)
	}
	parts := workers
	rowsPerPart := (rows + parts - 1) / parts
	parallelFor(parts, workers, func(part int) {
		r0, r1 := part*rowsPerPart, min(rows, (part+1)*rowsPerPart)
		if r0 >= r1 {
			return
		}
		copy(dst[r0*rowSize:r1*rowSize], src[r0*rowSize:r1*rowSize])
		for i := range n {
			var row int
			if idx32 != nil {
				row = int(idx32[i])
			} else {
				row = int(idx64[i])
			}
			if row < r0 || row >= r1 {
				continue
			}
			addTo(dst[row*rowSize:(row+1)*rowSize], upd[i*rowSize:(i+1)*rowSize])
		}
	})
	fastRowOps.Add(1)
	return out, true
}

// addTo adds src to dst element-wise (len(src) == len(dst)).
func addTo(dst, src []float32) {
	dst = dst[:len(src)]
	i := vecAddTo(dst, src)
	for ; i+4 <= len(src); i += 4 {
		d := dst[i : i+4 : i+4]
		s := src[i : i+4 : i+4]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
	}
	for ; i < len(src); i++ {
		dst[i] += src[i]
	}
}
