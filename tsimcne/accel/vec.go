package accel

import "math"

// rowProgram is a small sparse matrix m [rows, cols] in the form the row
// combination kernel reads: for each row, the count of its non-zero
// entries, then (column, the entry's float32 bits) for each.
type rowProgram struct {
	rows, cols int
	nonZero    int
	code       []int32
}

// newRowProgram returns the program of the row-major matrix m.
func newRowProgram(m []float32, rows, cols int) rowProgram {
	p := rowProgram{rows: rows, cols: cols}
	for i := range rows {
		start := len(p.code)
		p.code = append(p.code, 0)
		for j, v := range m[i*cols : (i+1)*cols] {
			if v != 0 {
				p.code = append(p.code, int32(j), int32(math.Float32bits(v)))
				p.code[start]++
				p.nonZero++
			}
		}
	}
	return p
}

// kronFactors returns k1 and k2, both [r, c] row-major, with m = k1 ⊗ k2
// (m[(a,b),(c,d)] = k1[a,c]·k2[b,d]; m is [r², c²] row-major), if m is such
// a product to float32 precision; ok is false otherwise. Winograd's
// transforms are: Bᵀ⊗Bᵀ, Aᵀ⊗Aᵀ and their transposes.
func kronFactors(m []float32, rows, cols int) (k1, k2 []float32, r, c int, ok bool) {
	r, c = isqrt(rows), isqrt(cols)
	if r*r != rows || c*c != cols || r < 2 || c < 2 || len(m) != rows*cols {
		return nil, nil, 0, 0, false
	}
	at := func(a, b, ci, d int) float64 { return float64(m[(a*r+b)*cols+ci*c+d]) }
	// Pivot on the largest entry (a0,b0),(c0,d0).
	var a0, b0, c0, d0 int
	var big float64
	for a := range r {
		for b := range r {
			for ci := range c {
				for d := range c {
					if v := math.Abs(at(a, b, ci, d)); v > big {
						big, a0, b0, c0, d0 = v, a, b, ci, d
					}
				}
			}
		}
	}
	if big == 0 {
		return nil, nil, 0, 0, false
	}
	pivot := at(a0, b0, c0, d0)
	f1, f2 := make([]float64, r*c), make([]float64, r*c)
	for a := range r {
		for ci := range c {
			f1[a*c+ci] = at(a, b0, ci, d0) / pivot
			f2[a*c+ci] = at(a0, a, c0, ci)
		}
	}
	for a := range r {
		for b := range r {
			for ci := range c {
				for d := range c {
					if math.Abs(f1[a*c+ci]*f2[b*c+d]-at(a, b, ci, d)) > 1e-6*big {
						return nil, nil, 0, 0, false
					}
				}
			}
		}
	}
	k1, k2 = make([]float32, r*c), make([]float32, r*c)
	for i := range f1 {
		k1[i], k2[i] = float32(f1[i]), float32(f2[i])
	}
	return k1, k2, r, c, true
}

// isqrt returns the integer square root of n >= 0, rounded down.
func isqrt(n int) int {
	s := int(math.Sqrt(float64(n)))
	for s*s > n {
		s--
	}
	for (s+1)*(s+1) <= n {
		s++
	}
	return s
}

// kronPrograms returns the two row programs that apply k1 ⊗ k2 ([r, c]
// factors) in two passes: first T[(a,d)] = Σ_c k1[a,c]·S[(c,d)] ([r·c,
// c²]), then V[(a,b)] = Σ_d k2[b,d]·T[(a,d)] ([r², r·c]): c·nnz(k1) +
// r·nnz(k2) multiply-adds per column instead of nnz(k1)·nnz(k2).
func kronPrograms(k1, k2 []float32, r, c int) (first, second rowProgram) {
	p1 := make([]float32, r*c*c*c)
	for a := range r {
		for d := range c {
			for ci := range c {
				p1[(a*c+d)*c*c+ci*c+d] = k1[a*c+ci]
			}
		}
	}
	p2 := make([]float32, r*r*r*c)
	for a := range r {
		for b := range r {
			for d := range c {
				p2[(a*r+b)*r*c+a*c+d] = k2[b*c+d]
			}
		}
	}
	return newRowProgram(p1, r*c, c*c), newRowProgram(p2, r*r, r*c)
}
