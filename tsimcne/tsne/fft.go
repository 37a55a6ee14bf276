package tsne

import "math"

// maxIntervals caps the boxes per axis of the interpolation grid (as
// openTSNE): a map wider than that gets wider boxes and a less accurate
// repulsion rather than an unbounded grid.
const maxIntervals = 1000

// nCharges is the number of charges spread onto the grid: 1, x, y and
// x^2+y^2 (FIt-SNE's four terms for the Cauchy kernel).
const nCharges = 4

// fftPointGrain is the chunk size of the interpolation's parallel loops
// over points, fftRowGrain that of its loops over grid rows.
const (
	fftPointGrain = 1024
	fftRowGrain   = 64
)

// fftRepulsion computes the repulsion by FIt-SNE's interpolation scheme
// (Linderman et al. 2019, "Fast interpolation-based t-SNE", in the form of
// openTSNE's estimate_negative_gradient_fft_2d).
//
// The square [min, max]^2 holding all points is cut into B x B boxes (B =
// max(MinIntervals, span/IntervalWidth)), each with p x p interpolation
// nodes at (k+1/2)/p of its width, so the nodes form one regular grid of
// G = B*p nodes per axis with spacing h. For the squared Cauchy kernel
// K(a, b) = 1/(1+|a-b|^2)^2 the potentials
//
//	phi_c(i) = sum_j K(y_i, y_j) q_c(j),  q = (1, x, y, x^2+y^2),
//
// are approximated by replacing K with its Lagrange interpolant in both
// arguments: the charges are spread onto the nodes with the Lagrange weights
// of each point within its box, the kernel is applied between all pairs of
// nodes, and the node potentials are interpolated back to the points. On the
// regular grid the kernel matrix is block Toeplitz, so applying it is a 2-D
// convolution, done with FFTs of size M x M (M >= 2G-1, the next 5-smooth
// number), zero-padded (see fftcore.go for the FFT).
//
// From the four potentials: Z = sum_{i != j} 1/(1+d_ij^2) =
// sum_i [(1+|y_i|^2) phi_0 - 2 y_i . (phi_1, phi_2) + phi_3] - n (since
// K (1+d^2) = 1/(1+d^2)), and the repulsion sum_j w_ij^2 (y_i - y_j) =
// y_i phi_0 - (phi_1, phi_2). Because the four potentials share one
// interpolated kernel K~, the expansion adds up K~(y_i, y_j)(1+d_ij^2)
// exactly: its cancellation (terms of order |y|^2 phi_0) costs only
// rounding, and the coordinates are taken relative to the grid's centre to
// keep that small.
type fftRepulsion struct {
	p        int
	minBoxes int
	width    float64
	workers  int

	// Lagrange denominators of the p nodes at (k+1/2)/p.
	nodes, denom []float64

	// Grid of the current iteration: G = nGrid nodes per axis, FFTs of
	// size M = m.
	nBoxes, nGrid, m int
	plan             *fftPlan
	bufs             [][]complex128 // per worker, the FFT's scratch
	khat             []float64      // M x M, the kernel's DFT (real: the kernel is even)
	W                []complex128   // M x G
	T                []complex128   // M x M
	grids            []float64      // nCharges x G x G: charges, then potentials

	// Per point: the index of its box's first node, and its p weights per
	// axis.
	corner []int32
	wx, wy []float64
}

// newFFTRepulsion returns an interpolation with p nodes per box axis, at
// least minBoxes boxes per axis of at most width each.
func newFFTRepulsion(p, minBoxes int, width float64, workers int) *fftRepulsion {
	f := &fftRepulsion{p: p, minBoxes: minBoxes, width: width, workers: workers}
	f.nodes = make([]float64, p)
	f.denom = make([]float64, p)
	for k := range p {
		f.nodes[k] = (float64(k) + 0.5) / float64(p)
	}
	for k := range p {
		d := 1.0
		for j := range p {
			if j != k {
				d *= f.nodes[k] - f.nodes[j]
			}
		}
		f.denom[k] = d
	}
	return f
}

// nextSmooth returns the least integer >= x whose only prime factors are
// 2, 3 and 5 (the lengths fftPlan handles).
func nextSmooth(x int) int {
	for m := max(1, x); ; m++ {
		r := m
		for _, f := range []int{2, 3, 5} {
			for r%f == 0 {
				r /= f
			}
		}
		if r == 1 {
			return m
		}
	}
}

// setGrid prepares plans and buffers for nBoxes boxes per axis.
func (f *fftRepulsion) setGrid(nBoxes int) {
	if nBoxes == f.nBoxes {
		return
	}
	f.nBoxes = nBoxes
	f.nGrid = nBoxes * f.p
	m := nextSmooth(2*f.nGrid - 1)
	if m != f.m {
		f.m = m
		f.plan = newFFTPlan(m)
		f.bufs = make([][]complex128, f.workers)
		for w := range f.workers {
			f.bufs[w] = make([]complex128, 2*m*fftBlock)
		}
		f.khat = make([]float64, m*m)
		f.T = make([]complex128, m*m)
	}
	f.W = make([]complex128, m*f.nGrid)
	f.grids = make([]float64, nCharges*f.nGrid*f.nGrid)
}

// compute sets rep_i = sum_{j != i} w_ij^2 (y_i - y_j) for the n points of y
// (n x 2) and returns Z = sum_{i != j} w_ij, both approximated by
// interpolation.
func (f *fftRepulsion) compute(y []float64, n int, rep []float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range y[:2*n] {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	span := hi - lo
	if !(span > 1e-12) {
		// All points in one place: any small box works (the kernel is
		// flat across it).
		span = 1e-12
	}
	nBoxes := max(f.minBoxes, int(math.Ceil(span/f.width)))
	nBoxes = min(nBoxes, maxIntervals)
	f.setGrid(nBoxes)
	boxW := span / float64(nBoxes)
	h := boxW / float64(f.p)
	p, nGrid := f.p, f.nGrid
	// Coordinates relative to the centre of the square keep the charges
	// x^2+y^2 small.
	centre := lo + span/2

	if len(f.corner) < n {
		f.corner = make([]int32, n)
		f.wx = make([]float64, n*p)
		f.wy = make([]float64, n*p)
	}
	// Boxes and Lagrange weights.
	forChunks(n, fftPointGrain, f.workers, func(_, _, a, b int) {
		for i := a; i < b; i++ {
			bx, tx := boxOf(y[2*i]-lo, boxW, nBoxes)
			by, ty := boxOf(y[2*i+1]-lo, boxW, nBoxes)
			f.corner[i] = int32(by*p*nGrid + bx*p)
			f.lagrange(tx, f.wx[i*p:(i+1)*p])
			f.lagrange(ty, f.wy[i*p:(i+1)*p])
		}
	})

	// Spread the charges onto the grid, point by point in index order (a
	// fixed order of the additions keeps the result deterministic).
	clear(f.grids)
	g := nGrid * nGrid
	g0, g1, g2, g3 := f.grids[:g], f.grids[g:2*g], f.grids[2*g:3*g], f.grids[3*g:4*g]
	for i := range n {
		x, yy := y[2*i]-centre, y[2*i+1]-centre
		r2 := x*x + yy*yy
		wx, wy := f.wx[i*p:(i+1)*p], f.wy[i*p:(i+1)*p]
		c := int(f.corner[i])
		for ly, vy := range wy {
			row := c + ly*nGrid
			for lx, vx := range wx {
				w := vy * vx
				idx := row + lx
				g0[idx] += w
				g1[idx] += w * x
				g2[idx] += w * yy
				g3[idx] += w * r2
			}
		}
	}

	f.kernelSpectrum(h)
	f.convolve()

	// Interpolate the potentials back and assemble.
	partial := make([]float64, numChunks(n, fftPointGrain))
	forChunks(n, fftPointGrain, f.workers, func(_, ch, a, b int) {
		z := 0.0
		for i := a; i < b; i++ {
			wx, wy := f.wx[i*p:(i+1)*p], f.wy[i*p:(i+1)*p]
			c := int(f.corner[i])
			var p0, p1, p2, p3 float64
			for ly, vy := range wy {
				row := c + ly*nGrid
				for lx, vx := range wx {
					w := vy * vx
					idx := row + lx
					p0 += w * g0[idx]
					p1 += w * g1[idx]
					p2 += w * g2[idx]
					p3 += w * g3[idx]
				}
			}
			x, yy := y[2*i]-centre, y[2*i+1]-centre
			z += (1+x*x+yy*yy)*p0 - 2*(x*p1+yy*p2) + p3
			rep[2*i] = x*p0 - p1
			rep[2*i+1] = yy*p0 - p2
		}
		partial[ch] = z
	})
	z := 0.0
	for _, v := range partial {
		z += v
	}
	return z - float64(n)
}

// boxOf returns the box of a coordinate (relative to the grid's lower
// edge) and its position within the box in [0, 1].
func boxOf(v, boxW float64, nBoxes int) (int, float64) {
	t := v / boxW
	b := int(t)
	if b >= nBoxes { // the upper edge belongs to the last box
		b = nBoxes - 1
	}
	if b < 0 {
		b = 0
	}
	return b, t - float64(b)
}

// lagrange sets w to the values at t of the Lagrange basis polynomials of
// the nodes.
func (f *fftRepulsion) lagrange(t float64, w []float64) {
	for k := range f.p {
		v := 1.0
		for j, tj := range f.nodes {
			if j != k {
				v *= t - tj
			}
		}
		w[k] = v / f.denom[k]
	}
}

// axis0 transforms the first cols columns of x (rows of stride values)
// along the first axis, blocks of fftBlock columns in parallel.
func (f *fftRepulsion) axis0(x []complex128, stride, cols int, inverse bool) {
	blocks := (cols + fftBlock - 1) / fftBlock
	forChunks(blocks, 1, f.workers, func(w, _, lo, hi int) {
		for blk := lo; blk < hi; blk++ {
			c0 := blk * fftBlock
			f.plan.transform(x, stride, c0, min(fftBlock, cols-c0), f.bufs[w], inverse)
		}
	})
}

// kernelSpectrum sets khat to the 2-D DFT of the circulant embedding of the
// squared Cauchy kernel on the grid of spacing h: the M x M generator
// c[a][b] = K(d(a) h, d(b) h), where d(a) = a for a < G and a - M for
// a > M - G (zero between).
//
// c is real and even along both axes, so its DFT is real and even too, and
// each axis needs only the first M/2+1 lines. Two real even lines are
// transformed as one complex line (the first in the real part, the second
// in the imaginary part): each transform is real, so they do not mix. In
// all that is M/2 complex transforms instead of 2M.
func (f *fftRepulsion) kernelSpectrum(h float64) {
	G, m, mh := f.nGrid, f.m, f.m/2+1
	np := (mh + 1) / 2 // column pairs
	kern := func(a, b int) float64 {
		if a >= G || b >= G {
			return 0
		}
		dx, dy := float64(a)*h, float64(b)*h
		k := 1 / (1 + dx*dx + dy*dy)
		return k * k
	}
	fold := func(a int) int { return min(a, m-a) } // |d(a)|, or >= G in the gap
	// Pass 1, along a: z[a][j] = c[a][2j] + i c[a][2j+1].
	z := f.T[:m*np]
	forChunks(m, fftRowGrain, f.workers, func(_, _, lo, hi int) {
		for a := lo; a < hi; a++ {
			da := fold(a)
			row := z[a*np : (a+1)*np]
			for j := range np {
				re := kern(da, 2*j)
				im := 0.0
				if 2*j+1 < mh {
					im = kern(da, 2*j+1)
				}
				row[j] = complex(re, im)
			}
		}
	})
	f.axis0(z, np, np, false)
	// Now real(z[v][j]) = c1[v][2j], imag = c1[v][2j+1] for column b < mh.
	// Pass 2, along b, on the lines v < mh: z2[b][j] = c1[2j][b] + i
	// c1[2j+1][b], with c1[v][b] = c1[v][M-b].
	z2 := f.W[:m*np]
	if len(f.W) < m*np {
		z2 = make([]complex128, m*np)
	}
	forChunks(m, fftRowGrain, f.workers, func(_, _, lo, hi int) {
		for b := lo; b < hi; b++ {
			fb := fold(b)
			part := func(v int) float64 {
				if v >= mh {
					return 0
				}
				e := z[v*np+fb/2]
				if fb%2 == 0 {
					return real(e)
				}
				return imag(e)
			}
			row := z2[b*np : (b+1)*np]
			for j := range np {
				row[j] = complex(part(2*j), part(2*j+1))
			}
		}
	})
	f.axis0(z2, np, np, false)
	forChunks(m, fftRowGrain, f.workers, func(_, _, lo, hi int) {
		for u := lo; u < hi; u++ {
			row := f.khat[u*m : (u+1)*m]
			for v := range m {
				fv := fold(v)
				e := z2[u*np+fv/2]
				if fv%2 == 0 {
					row[v] = real(e)
				} else {
					row[v] = imag(e)
				}
			}
		}
	})
}

// convolve replaces each charge grid by its (linear) convolution with the
// kernel. Two real grids go through one complex 2-D FFT, one in the real
// part and one in the imaginary part: the kernel's spectrum is real, so
// they stay apart. Per pair: a transform along y of the G non-zero columns
// (W, M x G), a transpose into T (M x M), transforms along x, the product
// with khat, the inverse along x, the transpose back and the inverse along
// y; 2G + 2M transforms of length M.
func (f *fftRepulsion) convolve() {
	G, m := f.nGrid, f.m
	g := G * G
	scale := 1 / float64(m*m)
	for pair := 0; pair < nCharges; pair += 2 {
		ga, gb := f.grids[pair*g:(pair+1)*g], f.grids[(pair+1)*g:(pair+2)*g]
		W, T := f.W, f.T
		forChunks(m, fftRowGrain, f.workers, func(_, _, lo, hi int) {
			for a := lo; a < hi; a++ {
				row := W[a*G : (a+1)*G]
				if a >= G {
					clear(row)
					continue
				}
				for b := range G {
					row[b] = complex(ga[a*G+b], gb[a*G+b])
				}
			}
		})
		f.axis0(W, G, G, false)
		transpose(T, W, m, G, f.workers) // T[b][v] = W[v][b] for b < G
		forChunks(m-G, fftRowGrain, f.workers, func(_, _, lo, hi int) {
			clear(T[(G+lo)*m : (G+hi)*m])
		})
		f.axis0(T, m, m, false)
		forChunks(m, fftRowGrain, f.workers, func(_, _, lo, hi int) {
			for i := lo * m; i < hi*m; i++ {
				T[i] = scaleC(T[i], f.khat[i])
			}
		})
		f.axis0(T, m, m, true)
		transpose(W, T[:G*m], G, m, f.workers) // W[v][b] = T[b][v]
		f.axis0(W, G, G, true)
		forChunks(G, fftRowGrain, f.workers, func(_, _, lo, hi int) {
			for i := lo * G; i < hi*G; i++ {
				ga[i] = real(W[i]) * scale
				gb[i] = imag(W[i]) * scale
			}
		})
	}
}

// scaleC returns f*z.
func scaleC(z complex128, f float64) complex128 { return complex(f*real(z), f*imag(z)) }

// transpose sets dst (cols x rows) to the transpose of src (rows x cols),
// in tiles.
func transpose(dst, src []complex128, rows, cols, workers int) {
	const tile = 32
	forChunks((cols+tile-1)/tile, 1, workers, func(_, _, lo, hi int) {
		for c0 := lo * tile; c0 < min(cols, hi*tile); c0 += tile {
			c1 := min(cols, c0+tile)
			for r0 := 0; r0 < rows; r0 += tile {
				r1 := min(rows, r0+tile)
				for c := c0; c < c1; c++ {
					d := dst[c*rows : (c+1)*rows]
					for r := r0; r < r1; r++ {
						d[r] = src[r*cols+c]
					}
				}
			}
		}
	})
}
