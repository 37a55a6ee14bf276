package accel

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// The GEMM: C = A·B in float32, blocked and packed in the manner of BLIS
// (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", 2008; Van Zee & van de Geijn, "BLIS", 2015), written
// here because no maintained pure-Go (cgo-free) library reaches the vector
// units: gonum's Sgemm uses SSE and ran at about 27 GFLOP/s on the 2-core
// development machine, GoMLX's own kernel at about 10 (BENCHMARKS.md at
// the repository root).
//
// Loop nest, for one task (a range of rows of C, maybe a range of the
// contraction):
//
//	for jc over N in blocks of ncBlock         (B block kc x nc stays in L2)
//	  for pc over K in blocks of kcBlock
//	    B block: packed into nr-wide panels (or from the shared pack)
//	    for ir over the rows in steps of mr     (A micro-panel, mr x kc, in L1)
//	      for jr over the block in steps of nr
//	        micro-kernel: C[ir:ir+mr, jc+jr:+nr] (+)= A[ir:+mr, pc:+kc] · Bpanel
//
// The micro-kernel reads A in place with any strides (rows of A, or columns
// when A is stored transposed), so A is never copied except for the last,
// partial micro-panel of a task. B is packed: once per call when it fits
// (maxSharedPack) and several tasks share it, else block by block; a task
// of very few rows reads a row-major B in place instead. Rows of C are
// split into tasks run by GOMAXPROCS goroutines; products with few rows and
// a long contraction (weight gradients) are split along the contraction
// instead, into private partial sums added at the end. On AMD Zen 4 the
// AVX2 kernel (6x16 tiles) replaces the AVX-512 one (14x32) for products
// whose output it tiles with much less padding (16 columns).

const (
	// kcBlock is the contraction block: an A micro-panel (14 x 256 float32
	// = 14 KiB) stays in the 32 KiB L1 while the B panels stream from L2.
	kcBlock = 256
	// kcMax is the longest contraction block: a last block up to this long
	// is not split.
	kcMax = kcBlock + kcBlock/4
	// ncBlock is the column block: a 256 x 512 B block is 512 KiB, half of
	// the 1 MiB L2 (AMD Zen 4).
	ncBlock = 512
	// maxSharedPack is the largest B (in float32, per call) packed once and
	// shared by all tasks; larger ones are packed block by block per task.
	maxSharedPack = 1 << 24
	// maxPartialSums bounds the memory (in float32) of the partial sums of a
	// product split along its contraction (it matters on many cores).
	maxPartialSums = 1 << 23
	// parallelMinFlops is the smallest product run on several goroutines.
	parallelMinFlops = 1 << 21
	// tasksPerWorker is the target number of tasks per goroutine: more
	// than one, so that a core slowed by other processes does less.
	tasksPerWorker = 4
	// minTaskMicroPanels is the fewest micro-panels (of mr rows) per task.
	minTaskMicroPanels = 4
	// minTaskPanels is the fewest B panels (of nr columns) per task when
	// a product of few rows is split along its columns.
	minTaskPanels = 8
	// directBMaxRows is the most micro-panels per task for which a
	// row-major B is read in place instead of packed.
	directBMaxRows = 3
)

// Matrix is a strided view of a float32 matrix: element (i, j) is
// Data[Offset + i*RowStride + j*ColStride]. Strides must be >= 0; either
// may be 1 (row-major, or column-major, i.e. a transposed row-major
// matrix) or anything else.
type Matrix struct {
	Data                 []float32
	Offset, Rows, Cols   int
	RowStride, ColStride int
}

// RowMajor returns the Matrix view of a dense row-major rows x cols matrix.
func RowMajor(data []float32, rows, cols int) Matrix {
	return Matrix{Data: data, Rows: rows, Cols: cols, RowStride: cols, ColStride: 1}
}

// T returns the transpose of m (the same data, strides swapped).
func (m Matrix) T() Matrix {
	m.Rows, m.Cols = m.Cols, m.Rows
	m.RowStride, m.ColStride = m.ColStride, m.RowStride
	return m
}

// check reports an error if some element of m lies outside m.Data.
func (m Matrix) check(name string) error {
	if m.Rows < 0 || m.Cols < 0 || m.Offset < 0 || m.RowStride < 0 || m.ColStride < 0 {
		return fmt.Errorf("accel: matrix %s: negative size, offset or stride (%+v)", name, m.dims())
	}
	if m.Rows == 0 || m.Cols == 0 {
		return nil
	}
	if last := m.Offset + (m.Rows-1)*m.RowStride + (m.Cols-1)*m.ColStride; last >= len(m.Data) {
		return fmt.Errorf("accel: matrix %s %v needs %d elements, has %d", name, m.dims(), last+1, len(m.Data))
	}
	return nil
}

func (m Matrix) dims() [5]int { return [5]int{m.Rows, m.Cols, m.RowStride, m.ColStride, m.Offset} }

// MatMul sets c = a·b. a is m x k, b is k x n and c m x n; c must have
// ColStride 1 (its rows may be padded: RowStride >= n) and must not overlap
// a or b. It runs on GOMAXPROCS goroutines for large products, with the
// fastest micro-kernel of this CPU (see Kernel).
func MatMul(c, a, b Matrix) error {
	if a.Cols != b.Rows || c.Rows != a.Rows || c.Cols != b.Cols {
		return fmt.Errorf("accel: MatMul shapes do not match: c %dx%d, a %dx%d, b %dx%d",
			c.Rows, c.Cols, a.Rows, a.Cols, b.Rows, b.Cols)
	}
	if c.ColStride != 1 && c.Cols > 1 {
		return errors.New("accel: MatMul output must have ColStride 1")
	}
	if c.Cols > 0 && c.RowStride < c.Cols && c.Rows > 1 {
		return fmt.Errorf("accel: MatMul output rows overlap (RowStride %d < %d columns)", c.RowStride, c.Cols)
	}
	for _, x := range []struct {
		name string
		m    Matrix
	}{{"a", a}, {"b", b}, {"c", c}} {
		if err := x.m.check(x.name); err != nil {
			return err
		}
	}
	if c.Rows == 0 || c.Cols == 0 {
		return nil
	}
	p := &problem{
		batch: 1, m: a.Rows, n: b.Cols, k: a.Cols,
		a: a.Data, aOff: a.Offset, rsA: a.RowStride, csA: a.ColStride,
		b: b.Data, bOff: b.Offset, rsB: b.RowStride, csB: b.ColStride,
		c: c.Data, cOff: c.Offset, ldc: max(c.RowStride, c.Cols),
	}
	if p.k == 0 {
		p.zeroC()
		return nil
	}
	gemm(p, kernelFor(p), runtime.GOMAXPROCS(0))
	return nil
}

// Kernel names the micro-kernel in use: "avx512", "avx2" or "go".
func Kernel() string { return activeKernel().name }

// kernelOverride, when set (tests), replaces the best kernel.
var kernelOverride atomic.Pointer[microKernel]

var defaultKernel = bestKernel()

func activeKernel() *microKernel {
	if k := kernelOverride.Load(); k != nil {
		return k
	}
	return defaultKernel
}

// narrowKernel, if not nil, is a kernel with smaller tiles that this CPU
// runs about as fast per FLOP as defaultKernel (AVX2 next to AVX-512 on AMD
// Zen 4, whose AVX-512 units are 256 bits wide).
var narrowKernel = narrowKernelFor(defaultKernel)

// kernelFor picks the micro-kernel for p: the default one, unless the
// narrow kernel's tiles fit p's matrices so much better (e.g. 16 columns,
// half of the AVX-512 kernel's 32) that it does less than 80% of the
// padded work.
func kernelFor(p *problem) *microKernel {
	k := activeKernel()
	if kernelOverride.Load() != nil || narrowKernel == nil {
		return k
	}
	padded := func(mk *microKernel) float64 {
		return float64((p.m+mk.mr-1)/mk.mr*mk.mr) * float64((p.n+mk.nr-1)/mk.nr*mk.nr)
	}
	if padded(narrowKernel) < 0.8*padded(k) {
		return narrowKernel
	}
	return k
}

// problem is a batch of products C_b = A_b · B_b, each m x k times k x n:
//
//	A_b(i,p) = a[aOff + b*bsA + i*rsA + p*csA]
//	B_b(p,j) = b[bOff + b*bsB + p*rsB + j*csB]
//	C_b(i,j) = c[cOff + b*bsC + i*ldc + j]
//
// All strides are >= 0 and k >= 1; the caller has checked the bounds.
type problem struct {
	batch, m, n, k      int
	a                   []float32
	aOff, bsA, rsA, csA int
	b                   []float32
	bOff, bsB, rsB, csB int
	c                   []float32
	cOff, bsC, ldc      int
}

// zeroC sets every C_b to zero (products with an empty contraction).
func (p *problem) zeroC() {
	for bi := range p.batch {
		for i := range p.m {
			row := p.c[p.cOff+bi*p.bsC+i*p.ldc:][:p.n]
			clear(row)
		}
	}
}

// plan is how one call splits into tasks.
type plan struct {
	tm, rowsPerTask int // tasks along the rows of each product
	tk, kPerTask    int // tasks along the contraction (partial sums)
	tn, colsPerTask int // tasks along the columns (products of few rows)
	shared          bool
	nPanels         int // nr-wide panels of B
}

func makePlan(p *problem, mk *microKernel, workers int) plan {
	var pl plan
	pl.nPanels = (p.n + mk.nr - 1) / mk.nr
	if 2*float64(p.batch)*float64(p.m)*float64(p.n)*float64(p.k) < parallelMinFlops {
		workers = 1
	}
	target := 1
	if workers > 1 {
		target = tasksPerWorker * workers
	}
	mBlocks := (p.m + mk.mr - 1) / mk.mr
	kBlocks := (p.k + kcBlock - 1) / kcBlock
	pl.tm, pl.tk = 1, 1
	if workers > 1 && p.batch < target {
		perItem := (target + p.batch - 1) / p.batch // tasks wanted per product
		maxTM := max(1, mBlocks/minTaskMicroPanels)
		if maxTM < perItem && kBlocks >= 2 {
			// Few rows, long contraction (weight gradients): split the
			// contraction first, so that each block of B is packed once;
			// the partial sums of all but the first chunk need memory.
			pl.tk = min(perItem, kBlocks, 1+maxPartialSums/max(1, p.batch*p.m*p.n))
		}
		pl.tm = min((perItem+pl.tk-1)/pl.tk, maxTM)
	}
	pl.rowsPerTask = (mBlocks + pl.tm - 1) / pl.tm * mk.mr
	pl.tm = (p.m + pl.rowsPerTask - 1) / pl.rowsPerTask
	pl.kPerTask = (kBlocks + pl.tk - 1) / pl.tk * kcBlock
	pl.tk = (p.k + pl.kPerTask - 1) / pl.kPerTask
	// Products that still have fewer tasks than wanted (few rows and a
	// short contraction: a small matrix times a wide one, as Winograd's
	// transforms) split their columns too.
	pl.tn, pl.colsPerTask = 1, pl.nPanels*mk.nr
	if have := p.batch * pl.tm * pl.tk; workers > 1 && have < target {
		tn := min((target+have-1)/have, pl.nPanels/minTaskPanels)
		if tn > 1 {
			pl.colsPerTask = (pl.nPanels + tn - 1) / tn * mk.nr
			pl.tn = (p.n + pl.colsPerTask - 1) / pl.colsPerTask
		}
	}
	pl.shared = pl.tm > 1 && p.batch*pl.nPanels*mk.nr*p.k <= maxSharedPack
	return pl
}

// gemm computes the problem with micro-kernel mk on up to workers goroutines.
func gemm(p *problem, mk *microKernel, workers int) {
	pl := makePlan(p, mk, workers)
	nr := mk.nr

	// Phase 1: pack all of B once, shared by the tasks.
	var shared []float32
	panelSize := p.k * nr
	if pl.shared {
		shared = getFloats(p.batch * pl.nPanels * panelSize)
		defer putFloats(shared)
		parallelFor(p.batch*pl.nPanels, workers, func(u int) {
			bi, j := u/pl.nPanels, u%pl.nPanels
			p.packB(shared, (bi*pl.nPanels+j)*panelSize, nr, bi, 0, p.k, j*nr)
		})
	}

	// Partial sums of the contraction chunks after the first.
	var partial []float32
	mn := p.m * p.n
	if pl.tk > 1 {
		partial = getFloats(p.batch * (pl.tk - 1) * mn)
		defer putFloats(partial)
	}

	// Phase 2: the tasks.
	parallelFor(p.batch*pl.tm*pl.tk*pl.tn, workers, func(t int) {
		in := t % pl.tn
		t /= pl.tn
		bi := t / (pl.tm * pl.tk)
		im := t / pl.tk % pl.tm
		ik := t % pl.tk
		n0 := in * pl.colsPerTask
		n1 := min(p.n, n0+pl.colsPerTask)
		m0 := im * pl.rowsPerTask
		m1 := min(p.m, m0+pl.rowsPerTask)
		k0 := ik * pl.kPerTask
		k1 := min(p.k, k0+pl.kPerTask)
		s := getScratch(mk)
		defer scratchPool.Put(s)
		if ik == 0 {
			p.block(mk, s, bi, m0, m1, k0, k1, n0, n1, p.c, p.cOff+bi*p.bsC, p.ldc, shared, pl.nPanels)
		} else {
			p.block(mk, s, bi, m0, m1, k0, k1, n0, n1, partial, (bi*(pl.tk-1)+ik-1)*mn, p.n, shared, pl.nPanels)
		}
	})

	// Phase 3: add the partial sums.
	if pl.tk > 1 {
		rowsPerUnit := max(1, (1<<14)/max(1, p.n))
		units := (p.m + rowsPerUnit - 1) / rowsPerUnit
		parallelFor(p.batch*units, workers, func(u int) {
			bi, r0 := u/units, u%units*rowsPerUnit
			for i := r0; i < min(p.m, r0+rowsPerUnit); i++ {
				dst := p.c[p.cOff+bi*p.bsC+i*p.ldc:][:p.n]
				for ik := 1; ik < pl.tk; ik++ {
					src := partial[(bi*(pl.tk-1)+ik-1)*mn+i*p.n:][:p.n]
					for j, v := range src {
						dst[j] += v
					}
				}
			}
		})
	}
}

// block computes rows [m0, m1) and columns [n0, n1) (n0 a multiple of nr)
// of C_bi over the contraction range [k0, k1) into c[cBase + i*ldc + j]
// (overwriting it).
func (p *problem) block(mk *microKernel, s *scratch, bi, m0, m1, k0, k1, n0, n1 int, c []float32, cBase, ldc int, shared []float32, nPanels int) {
	mr, nr := mk.mr, mk.nr
	aBase := p.aOff + bi*p.bsA
	for jc := n0; jc < n1; jc += ncBlock {
		nb := min(ncBlock, n1-jc)
		for pc, kb := k0, 0; pc < k1; pc += kb {
			// Blocks of kcBlock, the last one stretched to kcMax rather than
			// followed by a short one (K = 288: one block, not 256 + 32),
			// whose pass over the C tiles would cost more than its FLOPs.
			kb = min(kcBlock, k1-pc)
			if k1-pc <= kcMax {
				kb = k1 - pc
			}
			// B block: nr-wide panels of kb rows; panel q (columns jc+q*nr...)
			// is bBuf[bBase + q*bStep + p*ldb + j]: from the shared pack,
			// packed here, or, for a task of few rows (whose packed panels
			// would serve only one or two micro-panels), a row-major B read in
			// place (ldb = its row stride; a partial last panel is packed):
			// 40 instead of 29 GFLOP/s per core on a [16,32768]x[32768,144]
			// weight gradient. Reading in place when many micro-panels reuse
			// the panels was slower, and rows a multiple of 1 KiB apart
			// thrash L1.
			var bBuf []float32
			var bBase, bStep, ldb int
			direct := useDirectB && p.csB == 1 && p.rsB >= nr && p.rsB%256 != 0 && m1-m0 <= directBMaxRows*mr
			switch {
			case direct:
				bBuf, bBase, bStep, ldb = p.b, p.bOff+bi*p.bsB+pc*p.rsB+jc, nr, p.rsB
				if rem := nb % nr; rem != 0 {
					p.packB(s.b, 0, nr, bi, pc, kb, jc+nb-rem)
				}
			case shared != nil:
				bBuf, bBase, bStep, ldb = shared, (bi*nPanels+jc/nr)*p.k*nr+pc*nr, p.k*nr, nr
			default:
				bBuf, bStep, ldb = s.b, kb*nr, nr
				for q := 0; q*nr < nb; q++ {
					p.packB(bBuf, q*bStep, nr, bi, pc, kb, jc+q*nr)
				}
			}
			acc := pc != k0
			for ir := m0; ir < m1; ir += mr {
				rows := min(mr, m1-ir)
				a, aOff, rs, cs := p.a, aBase+ir*p.rsA+pc*p.csA, p.rsA, p.csA
				if rows < mr {
					// Last, partial micro-panel: copy it, zero padded.
					a, aOff, rs, cs = s.a, 0, 1, mr
					for q := range kb {
						dst := s.a[q*mr : q*mr+mr]
						src := aBase + ir*p.rsA + (pc+q)*p.csA
						for i := range rows {
							dst[i] = p.a[src+i*p.rsA]
						}
						clear(dst[rows:])
					}
				}
				for jr := 0; jr < nb; jr += nr {
					cols := min(nr, nb-jr)
					panel, bOff, panelLd := bBuf, bBase+jr/nr*bStep, ldb
					if direct && cols < nr {
						panel, bOff, panelLd = s.b, 0, nr
					}
					cOff := cBase + ir*ldc + jc + jr
					if rows == mr && cols == nr {
						mk.run(kb, a, aOff, rs, cs, panel, bOff, panelLd, c, cOff, ldc, acc)
						continue
					}
					mk.run(kb, a, aOff, rs, cs, panel, bOff, panelLd, s.tile, 0, nr, false)
					for i := range rows {
						dst := c[cOff+i*ldc : cOff+i*ldc+cols]
						src := s.tile[i*nr : i*nr+cols]
						if acc {
							for j, v := range src {
								dst[j] += v
							}
						} else {
							copy(dst, src)
						}
					}
				}
			}
		}
	}
}

// packB copies rows [p0, p0+kb) and columns [j0, j0+nr) of B_bi into
// dst[off:] as a panel: dst[off + q*nr + j] = B(p0+q, j0+j), zero for
// columns past n.
func (p *problem) packB(dst []float32, off, nr, bi, p0, kb, j0 int) {
	cols := min(nr, p.n-j0)
	dst = dst[off : off+kb*nr]
	base := p.bOff + bi*p.bsB + p0*p.rsB + j0*p.csB
	switch {
	case p.csB == 1:
		for q := range kb {
			row := dst[q*nr : q*nr+nr]
			copy(row, p.b[base+q*p.rsB:base+q*p.rsB+cols])
			clear(row[cols:])
		}
	case p.rsB == 1:
		for j := range cols {
			src := p.b[base+j*p.csB : base+j*p.csB+kb]
			for q, v := range src {
				dst[q*nr+j] = v
			}
		}
		if cols < nr {
			for q := range kb {
				clear(dst[q*nr+cols : q*nr+nr])
			}
		}
	default:
		for q := range kb {
			row := dst[q*nr : q*nr+nr]
			src := base + q*p.rsB
			for j := range cols {
				row[j] = p.b[src+j*p.csB]
			}
			clear(row[cols:])
		}
	}
}

// scratch holds one task's buffers.
type scratch struct {
	a, b, tile []float32
}

var scratchPool sync.Pool

func getScratch(mk *microKernel) *scratch {
	s, _ := scratchPool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	if need := mk.mr * kcMax; cap(s.a) < need {
		s.a = make([]float32, need)
	}
	if need := kcMax * ncBlock; cap(s.b) < need {
		s.b = make([]float32, need)
	}
	if need := mk.mr * mk.nr; cap(s.tile) < need {
		s.tile = make([]float32, need)
	}
	s.a, s.b, s.tile = s.a[:cap(s.a)], s.b[:cap(s.b)], s.tile[:cap(s.tile)]
	return s
}

// floatPools recycles large float32 buffers by power-of-two capacity.
var floatPools [48]sync.Pool

func getFloats(n int) []float32 {
	c := bits.Len(uint(max(n, 1) - 1))
	if v, ok := floatPools[c].Get().(*[]float32); ok {
		return (*v)[:n]
	}
	return make([]float32, n, 1<<c)
}

func putFloats(s []float32) {
	c := bits.Len(uint(max(cap(s), 1) - 1))
	if cap(s) != 1<<c {
		return
	}
	floatPools[c].Put(&s)
}

// parallelFor runs fn(0..n-1) on up to workers goroutines (the caller's
// among them), handing out indices in order as goroutines become free.
func parallelFor(n, workers int, fn func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var (
		next     atomic.Int64
		panicked atomic.Pointer[any]
	)
	work := func() {
		// A panic (a bug) in a helper goroutine would kill the process:
		// stop handing out work and re-raise it in the caller instead.
		defer func() {
			if r := recover(); r != nil {
				panicked.CompareAndSwap(nil, &r)
				next.Store(int64(n))
			}
		}()
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if r := panicked.Load(); r != nil {
		panic(*r)
	}
}

// useDirectB allows reading B in place (tests turn it off and on).
var useDirectB = true
