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
