package tsne

import (
	"fmt"
	"math"
)

// This file holds the complex FFT the interpolation uses: a mixed-radix
// (4, 2, 3, 5) Stockham transform, applied along the first axis of a
// row-major array to a block of columns at once. Every butterfly then runs
// over a contiguous row of the block with one twiddle factor, which is what
// plain Go compiles well; the 2-D transforms of the grid are done as two such
// passes with a transpose between them. On the 2-core development machine
// 600 transforms of length 600 took 3 ms, against 12 ms with gonum's
// dsp/fourier (FFTPACK, one sequence at a time, through an accessor per
// element), and the whole 10 000-point t-SNE went from 16-24 s to 10 s.

// fftBlock is the number of columns transformed together: a block of
// M x fftBlock complex128 and its scratch copy (410 KB for the M = 800 of a
// large map) stay in the 1 MB L2 cache. 8, 32 and 64 measured the same
// within the noise.
const fftBlock = 16

// fftPlan holds the factorisation and twiddle factors of one length.
type fftPlan struct {
	n       int
	radices []int
	// tw[s] holds, for stage s with radix r after a span of ns, the
	// forward twiddles exp(-2 pi i k q / (ns r)) at [k*(r-1) + q-1] for
	// k < ns, 1 <= q < r.
	tw [][]complex128
}

// newFFTPlan returns the plan of length n, which must have no prime factor
// above 5.
func newFFTPlan(n int) *fftPlan {
	p := &fftPlan{n: n}
	m := n
	for m%4 == 0 {
		p.radices = append(p.radices, 4)
		m /= 4
	}
	for _, r := range []int{2, 3, 5} {
		for m%r == 0 {
			p.radices = append(p.radices, r)
			m /= r
		}
	}
	if m != 1 {
		panic(fmt.Sprintf("tsne: FFT length %d has a prime factor above 5", n))
	}
	ns := 1
	for _, r := range p.radices {
		t := make([]complex128, ns*(r-1))
		for k := range ns {
			for q := 1; q < r; q++ {
				a := -2 * math.Pi * float64(k*q) / float64(ns*r)
				t[k*(r-1)+q-1] = complex(math.Cos(a), math.Sin(a))
			}
		}
		p.tw = append(p.tw, t)
		ns *= r
	}
	return p
}

// transform replaces columns [c0, c0+w) of x, an n x stride row-major array,
// by their discrete Fourier transforms along the first axis: forward
// (exp(-2 pi i jk/n)) or, with inverse, backward without the 1/n. buf
// needs 2*n*w elements of scratch: the passes work on dense n x w copies.
// (Reading x in the first pass and writing it in the last, instead of
// copying, measured 10% slower.)
func (p *fftPlan) transform(x []complex128, stride, c0, w int, buf []complex128, inverse bool) {
	n := p.n
	a, b := buf[:n*w], buf[n*w:2*n*w]
	for j := range n {
		copy(a[j*w:(j+1)*w], x[j*stride+c0:j*stride+c0+w])
	}
	ns := 1
	for s, r := range p.radices {
		stage(a, b, n, w, ns, r, p.tw[s], inverse)
		a, b = b, a
		ns *= r
	}
	for j := range n {
		copy(x[j*stride+c0:j*stride+c0+w], a[j*w:(j+1)*w])
	}
}

// Radix-3 and radix-5 butterfly constants.
var (
	sin3  = math.Sin(2 * math.Pi / 3)
	cos5a = math.Cos(2 * math.Pi / 5)
	cos5b = math.Cos(4 * math.Pi / 5)
	sin5a = math.Sin(2 * math.Pi / 5)
	sin5b = math.Sin(4 * math.Pi / 5)
)

// scale returns f*z.
func scale(z complex128, f float64) complex128 { return complex(f*real(z), f*imag(z)) }

// stage does one Stockham radix-r pass over rows of w values: for j <
// n/r, with k = j mod ns, the r rows j + q n/r, times the twiddles
// exp(-+2 pi i k q/(ns r)), go through an r-point DFT into rows
// (j/ns) ns r + k + q ns of out.
func stage(in, out []complex128, n, w, ns, r int, tw []complex128, inverse bool) {
	m := n / r
	for j := range m {
		k := j % ns
		o := (j/ns)*ns*r + k
		t := tw[k*(r-1) : (k+1)*(r-1)]
		switch r {
		case 2:
			t1 := t[0]
			if inverse {
				t1 = conj(t1)
			}
			i0, i1 := in[(j)*w:(j+1)*w], in[(j+m)*w:(j+m+1)*w]
			o0, o1 := out[(o)*w:(o+1)*w], out[(o+ns)*w:(o+ns+1)*w]
			i1, o0, o1 = i1[:len(i0)], o0[:len(i0)], o1[:len(i0)]
			for c := range i0 {
				v0, v1 := i0[c], i1[c]*t1
				o0[c] = v0 + v1
				o1[c] = v0 - v1
			}
		case 4:
			t1, t2, t3 := t[0], t[1], t[2]
			if inverse {
				t1, t2, t3 = conj(t1), conj(t2), conj(t3)
			}
			i0, i1 := in[(j)*w:(j+1)*w], in[(j+m)*w:(j+m+1)*w]
			i2, i3 := in[(j+2*m)*w:(j+2*m+1)*w], in[(j+3*m)*w:(j+3*m+1)*w]
			o0, o1 := out[(o)*w:(o+1)*w], out[(o+ns)*w:(o+ns+1)*w]
			o2, o3 := out[(o+2*ns)*w:(o+2*ns+1)*w], out[(o+3*ns)*w:(o+3*ns+1)*w]
			i1, i2, i3 = i1[:len(i0)], i2[:len(i0)], i3[:len(i0)]
			o0, o1, o2, o3 = o0[:len(i0)], o1[:len(i0)], o2[:len(i0)], o3[:len(i0)]
			for c := range i0 {
				v0, v1, v2, v3 := i0[c], i1[c]*t1, i2[c]*t2, i3[c]*t3
				s0, s1 := v0+v2, v0-v2
				s2, d := v1+v3, v1-v3
				// d times -i (forward) or +i (inverse).
				var s3 complex128
				if inverse {
					s3 = complex(-imag(d), real(d))
				} else {
					s3 = complex(imag(d), -real(d))
				}
				o0[c] = s0 + s2
				o2[c] = s0 - s2
				o1[c] = s1 + s3
				o3[c] = s1 - s3
			}
		case 3:
			t1, t2 := t[0], t[1]
			sn := -sin3
			if inverse {
				t1, t2 = conj(t1), conj(t2)
				sn = sin3
			}
			i0, i1, i2 := in[(j)*w:(j+1)*w], in[(j+m)*w:(j+m+1)*w], in[(j+2*m)*w:(j+2*m+1)*w]
			o0, o1, o2 := out[(o)*w:(o+1)*w], out[(o+ns)*w:(o+ns+1)*w], out[(o+2*ns)*w:(o+2*ns+1)*w]
			i1, i2 = i1[:len(i0)], i2[:len(i0)]
			o0, o1, o2 = o0[:len(i0)], o1[:len(i0)], o2[:len(i0)]
			for c := range i0 {
				v0, v1, v2 := i0[c], i1[c]*t1, i2[c]*t2
				a := v1 + v2
				b := v0 - scale(a, 0.5)
				d := v1 - v2
				// i*sn*d
				e := complex(-sn*imag(d), sn*real(d))
				o0[c] = v0 + a
				o1[c] = b + e
				o2[c] = b - e
			}
		case 5:
			t1, t2, t3, t4 := t[0], t[1], t[2], t[3]
			s1, s2 := -sin5a, -sin5b
			if inverse {
				t1, t2, t3, t4 = conj(t1), conj(t2), conj(t3), conj(t4)
				s1, s2 = sin5a, sin5b
			}
			i0, i1 := in[(j)*w:(j+1)*w], in[(j+m)*w:(j+m+1)*w]
			i2, i3 := in[(j+2*m)*w:(j+2*m+1)*w], in[(j+3*m)*w:(j+3*m+1)*w]
			i4 := in[(j+4*m)*w : (j+4*m+1)*w]
			o0, o1 := out[(o)*w:(o+1)*w], out[(o+ns)*w:(o+ns+1)*w]
			o2, o3 := out[(o+2*ns)*w:(o+2*ns+1)*w], out[(o+3*ns)*w:(o+3*ns+1)*w]
			o4 := out[(o+4*ns)*w : (o+4*ns+1)*w]
			i1, i2, i3, i4 = i1[:len(i0)], i2[:len(i0)], i3[:len(i0)], i4[:len(i0)]
			o0, o1, o2, o3, o4 = o0[:len(i0)], o1[:len(i0)], o2[:len(i0)], o3[:len(i0)], o4[:len(i0)]
			for c := range i0 {
				v0, v1, v2, v3, v4 := i0[c], i1[c]*t1, i2[c]*t2, i3[c]*t3, i4[c]*t4
				a1, a2 := v1+v4, v2+v3
				b1, b2 := v1-v4, v2-v3
				c1 := v0 + scale(a1, cos5a) + scale(a2, cos5b)
				c2 := v0 + scale(a1, cos5b) + scale(a2, cos5a)
				// i*(s1 b1 + s2 b2) and i*(s2 b1 - s1 b2)
				e1 := scale(b1, s1) + scale(b2, s2)
				e2 := scale(b1, s2) - scale(b2, s1)
				d1 := complex(-imag(e1), real(e1))
				d2 := complex(-imag(e2), real(e2))
				o0[c] = v0 + a1 + a2
				o1[c] = c1 + d1
				o4[c] = c1 - d1
				o2[c] = c2 + d2
				o3[c] = c2 - d2
			}
		}
	}
}

// conj returns the complex conjugate.
func conj(z complex128) complex128 { return complex(real(z), -imag(z)) }
