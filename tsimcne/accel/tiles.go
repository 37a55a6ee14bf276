//go:build !noaccel

package accel

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Fused ops: row gathers and scatters around products with a small constant
// matrix.
//
// tsimcne/nn's Winograd convolutions (nn/winograd.go) are written with ops
// GoMLX differentiates: the input tiles are a Gather of pixel rows, then a
// product with a constant transform matrix; the output transform is a
// product with another constant, then a Transpose back to pixel order. Their
// gradients are the same shapes mirrored (a transposed product, then a
// ScatterSum of the tiles into pixels; a Transpose, then a product). Each of
// those ops is one pass over a tensor 2.25x (F(4x4)) to 4x (F(2x2)) the size
// of the layer's activations, and on two cores these passes are bound by
// memory bandwidth: before this file they took about a quarter of cnn4's
// training step.
//
// Backend's builder recognises the two shapes when GoMLX builds them and
// emits one fused node instead, computing the same values chunk by chunk
// (a few dozen tiles, so that the chunk stays in L2):
//
//   - gather-transform: out[p, t, :] = Σ_q M[p,q] · src[idx[q,t], :], for
//     DotGeneral(constant M, rows) where rows is a Gather of whole rows with
//     constant indices, or a Reshape/Transpose chain that only permutes rows
//     (the last axis stays last): the rows are copied into a scratch chunk,
//     multiplied there and written once. The product is the GEMM's, or,
//     for a mostly-zero M, a sparse combination of rows (AVX2, vec.go), in
//     two passes when M is a Kronecker product k ⊗ k' as all of Winograd's
//     transforms are.
//   - transform-scatter: out[idx[q,t], :] += Σ_p M[q,p] · x[p, t, :], for
//     ScatterSum(operand, constant indices, DotGeneral(constant M, x)) of
//     whole rows, and, with "=" instead of "+=", for a Reshape/Transpose
//     chain over DotGeneral(constant M, x) that permutes rows.
//
// Only the values change hands: GoMLX's graph still holds the original ops,
// differentiates them as always, and the original nodes, now unused, are
// never executed (simplego runs only the nodes its outputs need). Anything
// that does not match exactly is built as before.

// tileChunkFloats is the target size of a chunk's scratch matrix.
const tileChunkFloats = 1 << 15

// tileKind says which kernel a fused tile node runs.
type tileKind int

const (
	tileGather  tileKind = iota // gather-transform
	tileScatter                 // transform-scatter, adding to the operand
	tilePermute                 // transform-scatter into a permutation of rows
)

// tileOp is the data of a fused tile node. Rows have rowSize elements;
// idx[q*tiles + t] is the source row (tileGather) or destination row
// (tileScatter, tilePermute) of position q of tile t; m is the dense
// constant matrix, [p, q] row-major for tileGather (p outputs from q
// gathered rows), [q, p] for the others (q scattered rows from p inputs).
type tileOp struct {
	kind                 tileKind
	p, q, tiles, rowSize int
	idx                  []int32
	m                    []float32
	// chunks are the tile boundaries of the chunks run in parallel; for
	// tileScatter no destination row is written by two chunks, except the
	// shared ones (accumulated per chunk, then added; see scatterChunks).
	chunks     []int
	shared     []int32
	sharedSlot map[int32]int // shared row -> its slot in the private sums
	// prog is m for the sparse row-combination kernel, used instead of the
	// GEMM where it can (vecRowComb) when m is mostly zeros (Winograd's
	// transforms: 37-56% non-zero).
	prog   rowProgram
	sparse bool
	// kron, when set, applies m as a Kronecker product in two passes of the
	// sparse kernel (kron[0] into a scratch of kronRows rows, then kron[1]),
	// fewer multiply-adds than prog for Winograd's F(4x4) transforms.
	kron        [2]rowProgram
	kronRows    int
	useKron     bool
	description string
}

// tileOpsRun counts the fused tile nodes executed (for tests).
var tileOpsRun atomic.Int64

// tileOpsBuilt counts the fused tile nodes built (for tests).
var tileOpsBuilt atomic.Int64

// withTileOps returns exec, except that fused tile nodes (whose data is a
// *tileOp) run here. They have no fallback in simplego: a failure is an
// error.
func withTileOps(exec nodeExecutor) nodeExecutor {
	return func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error) {
		if op, ok := nodeData(node).(*tileOp); ok {
			return execTileOp(backend, node, op, inputs, inputsOwned)
		}
		return exec(backend, node, inputs, inputsOwned)
	}
}

// execTileOp runs a fused tile node.
func execTileOp(backend *simplego.Backend, node *simplego.Node, op *tileOp, inputs []*simplego.Buffer, inputsOwned []bool) (out *simplego.Buffer, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("accel: fused %s: %v", op.description, r)
		}
	}()
	tileOpsRun.Add(1)
	data, err := fusedInputs(backend, inputs, "fused "+op.description)
	if err != nil {
		return nil, err
	}
	output := func(reuse int) (*simplego.Buffer, []float32) {
		return fusedOutput(backend, node, inputs, inputsOwned, data, reuse, op.description)
	}
	switch op.kind {
	case tileGather:
		buf, dst := output(-1)
		op.gather(dst, data[0])
		return buf, nil
	case tilePermute:
		buf, dst := output(-1)
		op.scatter(dst, data[0])
		return buf, nil
	default: // tileScatter: inputs operand, x; out = operand + the scatter
		buf, dst := output(0)
		if inputs[0] != nil { // not taken over: a new buffer
			copy(dst, data[0])
		}
		op.scatter(dst, data[1])
		return buf, nil
	}
}

// chunkStride returns the row stride of a scratch matrix of n columns:
// n, plus 16 when n is a multiple of 256 (rows 1 KiB apart thrash L1; the
// GEMM reads a B of such rows in place only otherwise, see block).
func chunkStride(n int) int {
	if n%256 == 0 {
		return n + 16
	}
	return n
}

// gather computes out[p, t, :] = Σ_q M[p,q] · src[idx[q,t], :].
func (op *tileOp) gather(out, src []float32) {
	r, t := op.rowSize, op.tiles
	parallelFor(len(op.chunks)-1, workersFor(op), func(ci int) {
		t0, t1 := op.chunks[ci], op.chunks[ci+1]
		n := (t1 - t0) * r
		ld := chunkStride(n)
		s := getFloats(op.q * ld)
		defer putFloats(s)
		for q := range op.q {
			row := s[q*ld : q*ld+n]
			idx := op.idx[q*t+t0 : q*t+t1]
			if vecGatherRows(row, src, idx, r) {
				continue
			}
			for i, src0 := range idx {
				copy(row[i*r:(i+1)*r], src[int(src0)*r:][:r])
			}
		}
		if !op.sparse && !op.useKron {
			op.transform(out, t0*r, t*r, s, ld, n)
			return
		}
		// The row-combination kernel writes into a scratch first: the
		// output's rows are far apart (often a multiple of 4 KiB), and its
		// short row stores would collide in L1; copying whole rows out is
		// cheap.
		d := getFloats(op.p * ld)
		defer putFloats(d)
		op.transform(d, 0, ld, s, ld, n)
		for p := range op.p {
			copy(out[p*t*r+t0*r:][:n], d[p*ld:p*ld+n])
		}
	})
}

// transform sets dst[dOff + i*ldDst + j] = Σ_k m[i,k]·src[k*ldSrc + j] for
// the rows of op.m and j < n: with the sparse kernel where op.sparse and it
// applies, else with the GEMM.
func (op *tileOp) transform(dst []float32, dOff, ldDst int, src []float32, ldSrc, n int) {
	if op.useKron {
		t := getFloats(op.kronRows * ldSrc)
		defer putFloats(t)
		if vecRowComb(t, ldSrc, src, ldSrc, n, op.kron[0]) && vecRowComb(dst[dOff:], ldDst, t, ldSrc, n, op.kron[1]) {
			return
		}
	}
	if op.sparse && vecRowComb(dst[dOff:], ldDst, src, ldSrc, n, op.prog) {
		return
	}
	p := &problem{
		batch: 1, m: op.prog.rows, n: n, k: op.prog.cols,
		a: op.m, rsA: op.prog.cols, csA: 1,
		b: src, rsB: ldSrc, csB: 1,
		c: dst, cOff: dOff, ldc: ldDst,
	}
	gemm(p, kernelFor(p), 1)
}

// scatter computes out[idx[q,t], :] += Σ_p M[q,p] · x[p, t, :] (tileScatter)
// or = (tilePermute).
func (op *tileOp) scatter(out, x []float32) {
	r, t := op.rowSize, op.tiles
	nChunks := len(op.chunks) - 1
	var private []float32 // shared rows, per chunk
	if len(op.shared) > 0 {
		private = getFloats(nChunks * len(op.shared) * r)
		defer putFloats(private)
		clear(private)
	}
	parallelFor(nChunks, workersFor(op), func(ci int) {
		t0, t1 := op.chunks[ci], op.chunks[ci+1]
		n := (t1 - t0) * r
		ld := chunkStride(n)
		// The chunk of x, copied row by row (long runs) rather than packed by
		// the GEMM in short pieces from rows far apart.
		xs := getFloats(op.p * ld)
		defer putFloats(xs)
		for p := range op.p {
			copy(xs[p*ld:p*ld+n], x[p*t*r+t0*r:][:n])
		}
		s := getFloats(op.q * ld)
		defer putFloats(s)
		op.transform(s, 0, ld, xs, ld, n)
		for q := range op.q {
			row := s[q*ld : q*ld+n]
			for i, dst0 := range op.idx[q*t+t0 : q*t+t1] {
				v := row[i*r : (i+1)*r]
				if op.kind == tilePermute {
					copy(out[int(dst0)*r:][:r], v)
					continue
				}
				if slot, ok := op.sharedSlot[dst0]; ok {
					addTo(private[(ci*len(op.shared)+slot)*r:][:r], v)
					continue
				}
				addTo(out[int(dst0)*r:][:r], v)
			}
		}
	})
	for slot, row := range op.shared {
		dst := out[int(row)*r:][:r]
		for ci := range nChunks {
			addTo(dst, private[(ci*len(op.shared)+slot)*r:][:r])
		}
	}
}

// setProgram prepares the sparse kernel's program of op.m ([outRows,
// inRows], the shape transform reads from it) and turns the kernel on when
// at most maxSparseDensity of m is non-zero.
func (op *tileOp) setProgram(outRows, inRows int) {
	op.prog = newRowProgram(op.m, outRows, inRows)
	op.sparse = float64(op.prog.nonZero) <= maxSparseDensity*float64(outRows*inRows)
	if k1, k2, r, c, ok := kronFactors(op.m, outRows, inRows); ok {
		op.kron[0], op.kron[1] = kronPrograms(k1, k2, r, c)
		op.kronRows = r * c
		// Worth it when the two passes take clearly fewer multiply-adds.
		op.useKron = op.kron[0].nonZero+op.kron[1].nonZero < op.prog.nonZero*4/5
	}
}

// maxSparseDensity is the largest fraction of non-zero entries for which the
// sparse kernel replaces the GEMM: it does one FMA per non-zero entry at
// about a third of the GEMM's rate per FMA (BenchmarkTileTransform).
const maxSparseDensity = 0.7

// workersFor returns the goroutines for op: all cores for products worth it.
func workersFor(op *tileOp) int {
	if 2*op.p*op.q*op.tiles*op.rowSize < parallelMinFlops {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// chunkTiles returns the chunk boundaries of tiles tiles of q rows of
// rowSize elements: chunks of about tileChunkFloats elements, and at least
// a few per core.
func chunkTiles(tiles, q, rowSize int) []int {
	per := max(1, tileChunkFloats/(q*rowSize))
	if want := 4 * runtime.GOMAXPROCS(0); tiles/per < want {
		per = max(1, tiles/want)
	}
	var b []int
	for t := 0; t < tiles; t += per {
		b = append(b, t)
	}
	return append(b, tiles)
}

// scatterChunks returns chunk boundaries for a transform-scatter whose
// chunks may run in parallel: no destination row is written by two chunks,
// except the rows returned as shared (e.g. the zero row that every
// out-of-image tap of tsimcne/nn's tiles reads), which are accumulated per
// chunk and added at the end. Rows written by tiles further apart than a
// chunk are shared; a boundary goes only where no other row's tiles straddle
// it.
func scatterChunks(idx []int32, tiles, q, rowSize, rows int) (bounds []int, shared []int32) {
	per := chunkTiles(tiles, q, rowSize)[1]
	lo, hi := make([]int32, rows), make([]int32, rows)
	for i := range lo {
		lo[i], hi[i] = -1, -1
	}
	for qi := range q {
		for ti, row := range idx[qi*tiles : (qi+1)*tiles] {
			if lo[row] < 0 || int32(ti) < lo[row] {
				lo[row] = int32(ti)
			}
			hi[row] = max(hi[row], int32(ti))
		}
	}
	straddle := make([]int, tiles+1) // straddle[t] > 0: a row is written by tiles t-1 and t
	for row := range rows {
		if lo[row] < 0 || lo[row] == hi[row] {
			continue
		}
		if int(hi[row]-lo[row]) >= 2*per {
			shared = append(shared, int32(row))
			continue
		}
		straddle[lo[row]+1]++
		straddle[hi[row]+1]--
	}
	bounds = []int{0}
	open := 0
	for t := 1; t < tiles; t++ {
		open += straddle[t]
		if open == 0 && t-bounds[len(bounds)-1] >= per {
			bounds = append(bounds, t)
		}
	}
	return append(bounds, tiles), shared
}

// constantBuffer returns a Constant node's buffer, or nil.
func constantBuffer(n *simplego.Node) *simplego.Buffer {
	if nodeOpType(n) != backends.OpTypeConstant {
		return nil
	}
	buf, _ := nodeData(n).(*simplego.Buffer)
	return buf
}

// constantData returns a Constant node's data, or nil.
func (b *builder) constantData(n *simplego.Node) any {
	buf := constantBuffer(n)
	if buf == nil {
		return nil
	}
	d, err := b.backend.BufferData(buf)
	if err != nil {
		return nil
	}
	return d
}

// constantMatrix returns the float32 rank-2 constant n as a row-major
// [rows, cols] matrix, transposed if transpose is set.
func (b *builder) constantMatrix(n *simplego.Node, transpose bool) (m []float32, rows, cols int, ok bool) {
	s := nodeShape(n)
	d, isF32 := b.constantData(n).([]float32)
	if !isF32 || s.Rank() != 2 || s.DType != dtypes.Float32 {
		return nil, 0, 0, false
	}
	rows, cols = s.Dimensions[0], s.Dimensions[1]
	if !transpose {
		return slices.Clone(d), rows, cols, true
	}
	m = make([]float32, len(d))
	for i := range rows {
		for j := range cols {
			m[j*rows+i] = d[i*cols+j]
		}
	}
	return m, cols, rows, true
}

// constantRowIndices returns the int32/int64 constant indices n, of shape
// [..., 1] (index vector last), as int32 row numbers below rows (checked by
// rowIndices, as the Gather executor checks its indices).
func (b *builder) constantRowIndices(n *simplego.Node, rows int) ([]int32, bool) {
	buf, s := constantBuffer(n), nodeShape(n)
	if buf == nil || s.Rank() < 2 || s.Dimensions[s.Rank()-1] != 1 || rows > math.MaxInt32 {
		return nil, false
	}
	idx32, idx64, _, ok := rowIndices(b.backend, buf, s.Rank()-1, rows)
	switch {
	case !ok:
		return nil, false
	case idx32 != nil:
		return slices.Clone(idx32), true
	}
	out := make([]int32, len(idx64))
	for i, v := range idx64 {
		out[i] = int32(v) // below rows <= MaxInt32
	}
	return out, true
}

// rowPermutation follows a chain of Reshape and Transpose nodes from n down
// to the first other node (src) and returns, for each row of n's output
// (all axes but the last), the row of src it holds, if the chain only moves
// whole rows: every shape on it ends in the same axis, which no Transpose
// moves. ok is false for anything else (and for a chain of no Transpose,
// which moves nothing).
func rowPermutation(n *simplego.Node) (src *simplego.Node, rows []int32, ok bool) {
	var chain []*simplego.Node
	rowSize := nodeShape(n).Dimensions[nodeShape(n).Rank()-1]
	transposes := 0
	for {
		op := nodeOpType(n)
		if op != backends.OpTypeReshape && op != backends.OpTypeTranspose {
			break
		}
		s := nodeShape(n)
		if s.Rank() < 1 || s.Dimensions[s.Rank()-1] != rowSize {
			return nil, nil, false
		}
		if op == backends.OpTypeTranspose {
			perm, isPerm := nodeData(n).([]int)
			if !isPerm || len(perm) != s.Rank() || perm[len(perm)-1] != len(perm)-1 {
				return nil, nil, false
			}
			transposes++
		}
		chain = append(chain, n)
		n = nodeInputs(n)[0]
	}
	src = n
	s := nodeShape(src)
	if transposes == 0 || s.Size()%rowSize != 0 {
		return nil, nil, false
	}
	// Replay the chain on the row numbers of src (a Reshape keeps their
	// order; src need not end in the row axis if a Reshape comes first).
	var dims []int
	if s.Rank() > 0 && s.Dimensions[s.Rank()-1] == rowSize {
		dims = slices.Clone(s.Dimensions[:s.Rank()-1])
	}
	rows = make([]int32, s.Size()/rowSize)
	for i := range rows {
		rows[i] = int32(i)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		node := chain[i]
		if nodeOpType(node) == backends.OpTypeTranspose {
			if dims == nil {
				return nil, nil, false
			}
			perm := nodeData(node).([]int)
			rows = transposeRows(rows, dims, perm[:len(perm)-1])
		}
		outDims := nodeShape(node).Dimensions
		dims = slices.Clone(outDims[:len(outDims)-1])
	}
	return src, rows, true
}

// transposeRows permutes the row-major array rows of shape dims by perm
// (out axis i is input axis perm[i]).
func transposeRows(rows []int32, dims, perm []int) []int32 {
	rank := len(dims)
	out := make([]int32, len(rows))
	inStrides := make([]int, rank)
	s := 1
	for a := rank - 1; a >= 0; a-- {
		inStrides[a] = s
		s *= dims[a]
	}
	outDims := make([]int, rank)
	strides := make([]int, rank) // input stride of each output axis
	for i, a := range perm {
		outDims[i], strides[i] = dims[a], inStrides[a]
	}
	pos := make([]int, rank)
	for i := range out {
		off := 0
		for a := range rank {
			off += pos[a] * strides[a]
		}
		out[i] = rows[off]
		for a := rank - 1; a >= 0; a-- {
			pos[a]++
			if pos[a] < outDims[a] {
				break
			}
			pos[a] = 0
		}
	}
	return out
}

// productOfConstant returns the parts of n = DotGeneral(constant M, x) (as
// simplego builds it: a DotGeneral node, maybe under a Reshape) with one
// contracting axis, no batch axes and x's first axis contracted: M as
// [x's first axis, out rows] row-major (mq) and x.
func (b *builder) productOfConstant(n *simplego.Node) (mq []float32, p, q int, x *simplego.Node, ok bool) {
	if nodeOpType(n) == backends.OpTypeReshape {
		n = nodeInputs(n)[0]
	}
	if nodeOpType(n) != backends.OpTypeDotGeneral {
		return nil, 0, 0, nil, false
	}
	params := mirrorData[dotGeneralParams](n, internals.paramsType)
	in := nodeInputs(n)
	if params == nil || len(in) != 2 || len(params.lhsBatchAxes) != 0 || len(params.lhsContractingAxes) != 1 ||
		!slices.Equal(params.rhsContractingAxes, []int{0}) || nodeShape(in[1]).DType != dtypes.Float32 {
		return nil, 0, 0, nil, false
	}
	// M [q, p] with q the output rows: M's non-contracted axis first.
	mq, q, p, ok = b.constantMatrix(in[0], params.lhsContractingAxes[0] == 0)
	if !ok {
		return nil, 0, 0, nil, false
	}
	return mq, p, q, in[1], true
}

// DotGeneral implements backends.Builder: simplego's, or a fused
// gather-transform node (see the top of this file).
func (b *builder) DotGeneral(lhsOp backends.Op, lhsContractingAxes, lhsBatchAxes []int, rhsOp backends.Op, rhsContractingAxes, rhsBatchAxes []int) (backends.Op, error) {
	res, err := b.Builder.DotGeneral(lhsOp, lhsContractingAxes, lhsBatchAxes, rhsOp, rhsContractingAxes, rhsBatchAxes)
	if err != nil || !fuseTiles.Load() {
		return res, err
	}
	if fused := b.gatherTransform(lhsOp, lhsContractingAxes, lhsBatchAxes, rhsOp, rhsContractingAxes, res); fused != nil {
		return fused, nil
	}
	return res, nil
}

// gatherTransform returns the fused node for res = DotGeneral(lhs, rhs), or
// nil.
func (b *builder) gatherTransform(lhsOp backends.Op, lhsContracting, lhsBatch []int, rhsOp backends.Op, rhsContracting []int, res backends.Op) *simplego.Node {
	lhs, ok1 := lhsOp.(*simplego.Node)
	rhs, ok2 := rhsOp.(*simplego.Node)
	out, ok3 := res.(*simplego.Node)
	if !ok1 || !ok2 || !ok3 || len(lhsBatch) != 0 || len(lhsContracting) != 1 || !slices.Equal(rhsContracting, []int{0}) {
		return nil
	}
	rs := nodeShape(rhs)
	if rs.DType != dtypes.Float32 || rs.Rank() < 3 || (lhsContracting[0] != 0 && lhsContracting[0] != 1) {
		return nil
	}
	m, p, q, ok := b.constantMatrix(lhs, lhsContracting[0] == 0)
	if !ok || q != rs.Dimensions[0] {
		return nil
	}
	rowSize := rs.Dimensions[rs.Rank()-1]
	tiles := rs.Size() / (q * rowSize)
	var src *simplego.Node
	var idx []int32
	if nodeOpType(rhs) == backends.OpTypeGather {
		gp := nodeGatherParams(rhs)
		in := nodeInputs(rhs)
		if gp == nil || len(in) != 2 {
			return nil
		}
		src = in[0]
		ss := nodeShape(src)
		if ss.Rank() != 2 || ss.Dimensions[1] != rowSize || !slices.Equal(gp.startIndexMap, []int{0}) ||
			!slices.Equal(gp.collapsedSlicesAxes, []int{0}) || !slices.Equal(gp.sliceSizes, []int{1, rowSize}) ||
			!trailingAxes(gp.offsetOutputAxes, rs.Rank(), 1) || gp.indexVectorAxis != nodeShape(in[1]).Rank()-1 {
			return nil
		}
		if idx, ok = b.constantRowIndices(in[1], ss.Dimensions[0]); !ok || len(idx) != q*tiles {
			return nil
		}
	} else if src, idx, ok = rowPermutation(rhs); !ok || nodeShape(src).DType != dtypes.Float32 {
		return nil
	}
	op := &tileOp{
		kind: tileGather, p: p, q: q, tiles: tiles, rowSize: rowSize, idx: idx, m: m,
		chunks:      chunkTiles(tiles, q, rowSize),
		description: fmt.Sprintf("gather-transform [%d x %d] x %d tiles x %d", p, q, tiles, rowSize),
	}
	op.setProgram(p, q)
	n := builderNewNode(b.Builder, backends.OpTypeDotGeneral, nodeShape(out).Clone(), src)
	setNodeData(n, op)
	tileOpsBuilt.Add(1)
	return n
}

// ScatterSum implements backends.Builder: simplego's, or a fused
// transform-scatter node (see the top of this file).
func (b *builder) ScatterSum(operandOp, indicesOp, updatesOp backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int, indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	res, err := b.Builder.ScatterSum(operandOp, indicesOp, updatesOp, indexVectorAxis, updateWindowAxes, insertedWindowAxes,
		scatterAxesToOperandAxes, indicesAreSorted, uniqueIndices)
	if err != nil || !fuseTiles.Load() {
		return res, err
	}
	operand, ok1 := operandOp.(*simplego.Node)
	indices, ok2 := indicesOp.(*simplego.Node)
	updates, ok3 := updatesOp.(*simplego.Node)
	if !ok1 || !ok2 || !ok3 {
		return res, nil
	}
	os, us := nodeShape(operand), nodeShape(updates)
	if os.DType != dtypes.Float32 || os.Rank() != 2 || us.Rank() < 3 || us.Dimensions[us.Rank()-1] != os.Dimensions[1] ||
		indexVectorAxis != nodeShape(indices).Rank()-1 || !trailingAxes(updateWindowAxes, us.Rank(), 1) ||
		!slices.Equal(insertedWindowAxes, []int{0}) || !slices.Equal(scatterAxesToOperandAxes, []int{0}) {
		return res, nil
	}
	m, p, q, x, ok := b.productOfConstant(updates)
	if !ok || q != us.Dimensions[0] {
		return res, nil
	}
	rowSize := os.Dimensions[1]
	tiles := us.Size() / (q * rowSize)
	xs := nodeShape(x)
	if xs.Size() != p*tiles*rowSize || xs.Dimensions[xs.Rank()-1] != rowSize {
		return res, nil
	}
	idx, ok := b.constantRowIndices(indices, os.Dimensions[0])
	if !ok || len(idx) != q*tiles {
		return res, nil
	}
	op := &tileOp{
		kind: tileScatter, p: p, q: q, tiles: tiles, rowSize: rowSize, idx: idx, m: m,
		description: fmt.Sprintf("transform-scatter [%d x %d] x %d tiles x %d", q, p, tiles, rowSize),
	}
	op.chunks, op.shared = scatterChunks(idx, tiles, q, rowSize, os.Dimensions[0])
	op.sharedSlot = make(map[int32]int, len(op.shared))
	for i, row := range op.shared {
		op.sharedSlot[row] = i
	}
	op.setProgram(q, p)
	n := builderNewNode(b.Builder, backends.OpTypeScatterSum, os.Clone(), operand, x)
	setNodeData(n, op)
	tileOpsBuilt.Add(1)
	return n, nil
}

// Transpose implements backends.Builder: simplego's, or a fused
// transform-scatter node writing a permutation of rows (see the top of this
// file).
func (b *builder) Transpose(xOp backends.Op, permutation ...int) (backends.Op, error) {
	res, err := b.Builder.Transpose(xOp, permutation...)
	if err != nil || !fuseTiles.Load() {
		return res, err
	}
	out, ok := res.(*simplego.Node)
	if !ok {
		return res, nil
	}
	// The chain from the product to this Transpose must only move rows.
	src, rows, ok := rowPermutation(out)
	if !ok {
		return res, nil
	}
	m, p, q, x, ok := b.productOfConstant(src)
	if !ok {
		return res, nil
	}
	outShape, xs := nodeShape(out), nodeShape(x)
	rowSize := outShape.Dimensions[outShape.Rank()-1]
	if len(rows)%q != 0 || xs.Size() != p*(len(rows)/q)*rowSize || xs.Dimensions[xs.Rank()-1] != rowSize {
		return res, nil
	}
	// rows[i] = the product's row held by output row i; the product's row
	// r = q*tiles + t goes to output row dst[r].
	tiles := len(rows) / q
	dst := make([]int32, len(rows))
	for i, r := range rows {
		dst[r] = int32(i)
	}
	op := &tileOp{
		kind: tilePermute, p: p, q: q, tiles: tiles, rowSize: rowSize, idx: dst, m: m,
		chunks:      chunkTiles(tiles, q, rowSize),
		description: fmt.Sprintf("transform-permute [%d x %d] x %d tiles x %d", q, p, tiles, rowSize),
	}
	op.setProgram(q, p)
	n := builderNewNode(b.Builder, backends.OpTypeTranspose, outShape.Clone(), x)
	setNodeData(n, op)
	tileOpsBuilt.Add(1)
	return n, nil
}

// fuseTiles turns the fused tile nodes on or off (tests compare both).
var fuseTiles atomic.Bool

func init() { fuseTiles.Store(true) }
