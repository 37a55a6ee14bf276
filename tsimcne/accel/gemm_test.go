package accel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// refMatMul is the float64 reference: c[i][j] = sum_p a(i,p) b(p,j), and the
// sum of |a(i,p) b(p,j)| (the scale of the rounding error).
func refMatMul(a, b Matrix) (c, scale []float64) {
	c = make([]float64, a.Rows*b.Cols)
	scale = make([]float64, a.Rows*b.Cols)
	for i := range a.Rows {
		for p := range a.Cols {
			x := float64(a.Data[a.Offset+i*a.RowStride+p*a.ColStride])
			for j := range b.Cols {
				y := float64(b.Data[b.Offset+p*b.RowStride+j*b.ColStride])
				c[i*b.Cols+j] += x * y
				scale[i*b.Cols+j] += math.Abs(x * y)
			}
		}
	}
	return c, scale
}

func randomFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

// randomMatrix returns a rows x cols matrix in the given layout ("row",
// "col" or "strided": padded rows and a column stride of 2) at a random
// offset inside its data.
func randomMatrix(r *rand.Rand, rows, cols int, layout string) Matrix {
	return layoutMatrix(r, RowMajor(randomFloats(r, rows*cols), rows, cols), layout)
}

// layoutMatrix copies m's values into a new matrix in the given layout.
func layoutMatrix(r *rand.Rand, m Matrix, layout string) Matrix {
	rows, cols := m.Rows, m.Cols
	off := r.IntN(3)
	var out Matrix
	switch layout {
	case "row":
		out = Matrix{Data: make([]float32, off+rows*cols), Offset: off, Rows: rows, Cols: cols, RowStride: cols, ColStride: 1}
	case "col":
		out = Matrix{Data: make([]float32, off+rows*cols), Offset: off, Rows: rows, Cols: cols, RowStride: 1, ColStride: rows}
	default:
		rs := 2*cols + 3
		out = Matrix{Data: randomFloats(r, off+rows*rs), Offset: off, Rows: rows, Cols: cols, RowStride: rs, ColStride: 2}
	}
	for i := range rows {
		for j := range cols {
			out.Data[out.Offset+i*out.RowStride+j*out.ColStride] = m.Data[m.Offset+i*m.RowStride+j*m.ColStride]
		}
	}
	return out
}

// checkClose compares got (row-major with ldc) with the reference: the
// error of a float32 sum is within a few ulps of the sum of |terms|.
func checkClose(t *testing.T, name string, got []float32, off, ldc int, want, scale []float64, rows, cols int) {
	t.Helper()
	bad := 0
	for i := range rows {
		for j := range cols {
			g := float64(got[off+i*ldc+j])
			w := want[i*cols+j]
			tol := 1e-5*scale[i*cols+j] + 1e-30
			if math.Abs(g-w) > tol || math.IsNaN(g) {
				if bad < 3 {
					t.Errorf("%s: c[%d][%d] = %g, want %g (tol %g)", name, i, j, g, w, tol)
				}
				bad++
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d of %d elements wrong", name, bad, rows*cols)
	}
}

// withKernel runs f with each micro-kernel this CPU has.
func withKernel(t *testing.T, f func(t *testing.T, mk *microKernel)) {
	for _, mk := range availableKernels() {
		t.Run(mk.name, func(t *testing.T) {
			kernelOverride.Store(mk)
			defer kernelOverride.Store(nil)
			f(t, mk)
		})
	}
}

func TestMatMulShapes(t *testing.T) {
	type shape struct{ m, n, k int }
	shapes := []shape{
		{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {3, 4, 1}, {14, 32, 16}, {15, 33, 17}, {13, 31, 255},
		{6, 16, 256}, {7, 17, 257}, {28, 64, 27}, {100, 16, 27}, {29, 50, 513}, {64, 576, 700},
		{200, 70, 300}, {41, 530, 20}, {2, 3, 5000},
	}
	if !testing.Short() {
		shapes = append(shapes, shape{300, 1030, 600}, shape{3000, 40, 45}, shape{20, 30, 20000})
	}
	// The reference is computed once per shape; the operands are then laid
	// out in every combination of layouts, for every kernel.
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		a0 := randomMatrix(r, s.m, s.k, "row")
		b0 := randomMatrix(r, s.k, s.n, "row")
		want, scale := refMatMul(a0, b0)
		withKernel(t, func(t *testing.T, mk *microKernel) {
			for _, la := range []string{"row", "col", "strided"} {
				for _, lb := range []string{"row", "col", "strided"} {
					name := fmt.Sprintf("%dx%dx%d/%s.%s", s.m, s.n, s.k, la, lb)
					a := layoutMatrix(r, a0, la)
					b := layoutMatrix(r, b0, lb)
					ldc := s.n + r.IntN(3)
					cOff := r.IntN(3)
					cData := randomFloats(r, cOff+(s.m-1)*ldc+s.n+2) // junk: must be overwritten
					guard := cData[len(cData)-2:]
					g0, g1 := guard[0], guard[1]
					c := Matrix{Data: cData, Offset: cOff, Rows: s.m, Cols: s.n, RowStride: ldc, ColStride: 1}
					if err := MatMul(c, a, b); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkClose(t, name, cData, cOff, ldc, want, scale, s.m, s.n)
					if guard[0] != g0 || guard[1] != g1 {
						t.Errorf("%s: MatMul wrote past the end of c", name)
					}
				}
			}
		})
	}
}

func TestMatMulErrors(t *testing.T) {
	a := RowMajor(make([]float32, 6), 2, 3)
	b := RowMajor(make([]float32, 12), 3, 4)
	c := RowMajor(make([]float32, 8), 2, 4)
	if err := MatMul(c, a, b); err != nil {
		t.Fatalf("valid product: %v", err)
	}
	if err := MatMul(c, a, a); err == nil {
		t.Error("mismatched shapes: no error")
	}
	short := b
	short.Data = short.Data[:11]
	if err := MatMul(c, a, short); err == nil {
		t.Error("b too short: no error")
	}
	if err := MatMul(c.T(), b.T(), a.T()); err == nil {
		t.Error("c with ColStride 4: no error")
	}
	// Empty contraction: c is zeroed.
	c.Data[0] = 1
	if err := MatMul(c, RowMajor(nil, 2, 0), RowMajor(nil, 0, 4)); err != nil || c.Data[0] != 0 {
		t.Errorf("k=0: err %v, c[0]=%g, want 0", err, c.Data[0])
	}
}

// TestMatMulParallelSplits exercises the task splits (rows, contraction,
// shared packing) with several goroutines; run it with -race.
func TestMatMulParallelSplits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	withKernel(t, func(t *testing.T, mk *microKernel) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, s := range []struct{ m, n, k int }{{500, 40, 60}, {20, 24, 3000}, {3, 70, 9000}, {130, 600, 100}, {16, 5000, 16}} {
			a := randomMatrix(r, s.m, s.k, "row")
			b := randomMatrix(r, s.k, s.n, "col")
			p := &problem{batch: 1, m: s.m, n: s.n, k: s.k, a: a.Data, aOff: a.Offset, rsA: a.RowStride, csA: a.ColStride,
				b: b.Data, bOff: b.Offset, rsB: b.RowStride, csB: b.ColStride, c: make([]float32, s.m*s.n), ldc: s.n}
			pl := makePlan(p, mk, 4)
			if pl.tm*pl.tk*pl.tn < 2 {
				t.Errorf("%v: plan %+v runs on one goroutine", s, pl)
			}
			gemm(p, mk, 4)
			want, scale := refMatMul(a, b)
			checkClose(t, fmt.Sprintf("%v plan %+v", s, pl), p.c, 0, s.n, want, scale, s.m, s.n)
		}
	})
}

// TestMatMulConcurrentCalls runs products from several goroutines at once,
// as simplego's parallel executor does (shared pools); run it with -race.
func TestMatMulConcurrentCalls(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	type job struct {
		a, b  Matrix
		c     []float32
		want  []float64
		scale []float64
	}
	jobs := make([]*job, 6)
	for i := range jobs {
		m, n, k := 100+7*i, 40+3*i, 300+50*i
		j := &job{a: randomMatrix(r, m, k, "row"), b: randomMatrix(r, k, n, "col"), c: make([]float32, m*n)}
		j.want, j.scale = refMatMul(j.a, j.b)
		jobs[i] = j
	}
	done := make(chan error)
	for _, j := range jobs {
		go func() {
			var err error
			for range 3 {
				if err = MatMul(RowMajor(j.c, j.a.Rows, j.b.Cols), j.a, j.b); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range jobs {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i, j := range jobs {
		checkClose(t, fmt.Sprintf("job %d", i), j.c, 0, j.b.Cols, j.want, j.scale, j.a.Rows, j.b.Cols)
	}
}

func TestKernelFor(t *testing.T) {
	if narrowKernel == nil {
		t.Skipf("no narrow kernel next to %s on this CPU", defaultKernel)
	}
	if k := kernelFor(&problem{m: 1000, n: 16}); k != narrowKernel {
		t.Errorf("1000x16 output: kernel %s, want %s", k, narrowKernel)
	}
	if k := kernelFor(&problem{m: 1000, n: 64}); k != defaultKernel {
		t.Errorf("1000x64 output: kernel %s, want %s", k, defaultKernel)
	}
	kernelOverride.Store(kernelGo)
	defer kernelOverride.Store(nil)
	if k := kernelFor(&problem{m: 1000, n: 16}); k != kernelGo {
		t.Errorf("with an override: kernel %s, want go", k)
	}
}

// TestMakePlanManyCores checks the task split for many goroutines: enough
// tasks, and bounded memory for the partial sums of a split contraction.
func TestMakePlanManyCores(t *testing.T) {
	for _, s := range []struct{ batch, m, n, k int }{
		{1, 512, 4608, 32768}, {1, 64, 576, 262144}, {1, 262144, 64, 576}, {512, 512, 32, 27}, {3, 100, 100, 100000},
		{1, 16, 524288, 16}, {16, 36, 8192, 64},
	} {
		p := &problem{batch: s.batch, m: s.m, n: s.n, k: s.k}
		for _, workers := range []int{2, 16, 64} {
			pl := makePlan(p, &microKernel{name: "6x16", mr: 6, nr: 16}, workers)
			tasks := s.batch * pl.tm * pl.tk * pl.tn
			if tasks < min(workers, s.batch*((s.m+5)/6)*((s.k+kcBlock-1)/kcBlock)) {
				t.Errorf("%+v on %d workers: only %d tasks (%+v)", s, workers, tasks, pl)
			}
			if s.m <= 36 && s.n >= 8192 && tasks < workers { // few rows, many columns: split the columns
				t.Errorf("%+v on %d workers: only %d tasks (%+v)", s, workers, tasks, pl)
			}
			if partial := (pl.tk - 1) * s.batch * s.m * s.n; partial > maxPartialSums {
				t.Errorf("%+v on %d workers: %d floats of partial sums (%+v)", s, workers, partial, pl)
			}
			if pl.tm*pl.rowsPerTask < s.m || pl.tk*pl.kPerTask < s.k || pl.tn*pl.colsPerTask < s.n || pl.colsPerTask%16 != 0 && pl.tn > 1 {
				t.Errorf("%+v on %d workers: plan %+v does not cover the product", s, workers, pl)
			}
		}
	}
}
