//go:build !noaccel

package accel

import (
	"math"
	"runtime"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// Where, GreaterThan and Sign on float32, as ReLU's gradient (Where(x > 0,
// v, 0)) and max-pooling's (Sign of x - max) use them: simplego's loops
// branch on every element, which mispredicts about half the time on
// activations (and its GreaterThan is generic code); these are branch-free,
// AVX2 where the CPU has it, and split over goroutines.

// float32Input returns a buffer's float32 data if it has n elements, or a
// single one (a scalar, broadcast).
func float32Input(backend *simplego.Backend, buf *simplego.Buffer, n int) ([]float32, bool) {
	data, err := backend.BufferData(buf)
	f, ok := data.([]float32)
	if err != nil || !ok || (len(f) != n && len(f) != 1) {
		return nil, false
	}
	return f, true
}

// chunked runs fn over [0, n) in chunks, on several goroutines if n is large.
func chunked(n int, fn func(lo, hi int)) {
	workers := 1
	if n >= elementwiseMinParallel {
		workers = runtime.GOMAXPROCS(0)
	}
	chunk := max(4096, (n+2*workers-1)/(2*workers))
	parallelFor((n+chunk-1)/chunk, workers, func(c int) {
		fn(c*chunk, min(n, (c+1)*chunk))
	})
}

func tryWhere(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, bool) {
	outShape := nodeShape(node)
	if outShape.DType != dtypes.Float32 {
		return nil, false
	}
	n := outShape.Size()
	condAny, err := backend.BufferData(inputs[0])
	cond, ok := condAny.([]bool)
	if err != nil || !ok || len(cond) != n || n == 0 {
		return nil, false
	}
	onTrue, ok1 := float32Input(backend, inputs[1], n)
	onFalse, ok2 := float32Input(backend, inputs[2], n)
	if !ok1 || !ok2 {
		return nil, false
	}
	var out *simplego.Buffer
	switch {
	case inputsOwned[1] && len(onTrue) == n && n > 1:
		out, inputs[1] = inputs[1], nil
	case inputsOwned[2] && len(onFalse) == n && n > 1:
		out, inputs[2] = inputs[2], nil
	default:
		out = backend.NewBuffer(outShape)
	}
	if out == nil {
		return nil, false
	}
	dst := outputData(backend, out, n, "Where")
	chunked(n, func(lo, hi int) {
		c := cond[lo:hi]
		d := dst[lo:hi]
		// The AVX2 kernel does the multiple of 8; the loops below the rest.
		tv, fv := onTrue, onFalse
		if len(tv) == n {
			tv = tv[lo:hi]
		}
		if len(fv) == n {
			fv = fv[lo:hi]
		}
		if k := vecWhere(d, c, tv, fv); k > 0 {
			lo += k
			c, d = c[k:], d[k:]
		}
		switch {
		case len(onTrue) == n && len(onFalse) == 1:
			t, f := onTrue[lo:hi], math.Float32bits(onFalse[0])
			for i := range d {
				m := boolMask(c[i])
				d[i] = math.Float32frombits(math.Float32bits(t[i])&m | f&^m)
			}
		case len(onTrue) == 1 && len(onFalse) == n:
			t, f := math.Float32bits(onTrue[0]), onFalse[lo:hi]
			for i := range d {
				m := boolMask(c[i])
				d[i] = math.Float32frombits(t&m | math.Float32bits(f[i])&^m)
			}
		case len(onTrue) == n && len(onFalse) == n:
			t, f := onTrue[lo:hi], onFalse[lo:hi]
			for i := range d {
				m := boolMask(c[i])
				d[i] = math.Float32frombits(math.Float32bits(t[i])&m | math.Float32bits(f[i])&^m)
			}
		default:
			t, f := math.Float32bits(onTrue[0]), math.Float32bits(onFalse[0])
			for i := range d {
				m := boolMask(c[i])
				d[i] = math.Float32frombits(t&m | f&^m)
			}
		}
	})
	fastElementwiseOps.Add(1)
	return out, true
}

// tryGreaterThan computes a > b for float32 operands of the output's size
// or scalars (broadcast), into a bool buffer.
func tryGreaterThan(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, _ []bool) (*simplego.Buffer, bool) {
	outShape := nodeShape(node)
	n := outShape.Size()
	if outShape.DType != dtypes.Bool || n == 0 {
		return nil, false
	}
	a, ok1 := float32Input(backend, inputs[0], n)
	b, ok2 := float32Input(backend, inputs[1], n)
	if !ok1 || !ok2 {
		return nil, false
	}
	out := backend.NewBuffer(outShape)
	if out == nil {
		return nil, false
	}
	dst := outputSlice[bool](backend, out, n, "GreaterThan")
	sa, sb := min(len(a)-1, 1), min(len(b)-1, 1) // 1 for arrays, 0 for scalars
	chunked(n, func(lo, hi int) {
		av, bv := a, b
		if sa == 1 {
			av = a[lo:hi]
		}
		if sb == 1 {
			bv = b[lo:hi]
		}
		d := dst[lo:hi]
		k := vecGreater(d, av, bv)
		for i := k; i < len(d); i++ {
			d[i] = av[i*sa] > bv[i*sb]
		}
	})
	fastElementwiseOps.Add(1)
	return out, true
}

// boolMask is all ones for true, zero for false, without a branch.
func boolMask(b bool) uint32 {
	var x uint32
	if b {
		x = 1
	}
	return -x
}

func trySign(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, bool) {
	outShape := nodeShape(node)
	n := outShape.Size()
	in, ok := float32Input(backend, inputs[0], n)
	if outShape.DType != dtypes.Float32 || !ok || len(in) != n || n == 0 {
		return nil, false
	}
	var out *simplego.Buffer
	if inputsOwned[0] {
		out, inputs[0] = inputs[0], nil
	} else {
		out = backend.NewBuffer(outShape)
	}
	if out == nil {
		return nil, false
	}
	dst := outputData(backend, out, n, "Sign")
	chunked(n, func(lo, hi int) {
		x, d := in[lo:hi], dst[lo:hi]
		for i := range d {
			b := math.Float32bits(x[i])
			// ±1 with x's sign bit, masked to 0 for ±0 and NaN (as simplego:
			// NaN is neither < 0 nor > 0).
			mag := b & 0x7fffffff
			m := boolMask(mag-1 < 0x7f800000)
			d[i] = math.Float32frombits((b&0x80000000 | 0x3f800000) & m)
		}
	})
	fastElementwiseOps.Add(1)
	return out, true
}

// outputData returns the float32 data of out, a buffer of n elements that an
// executor writes its result to (new from the backend's pool, or an input
// buffer taken over). Anything else is a bug of this package: a panic, which
// the executor wrapper turns into a fallback to simplego.
func outputData(backend *simplego.Backend, out *simplego.Buffer, n int, op string) []float32 {
	return outputSlice[float32](backend, out, n, op)
}

// outputSlice is outputData for outputs of element type T (GreaterThan's
// bools).
func outputSlice[T any](backend *simplego.Backend, out *simplego.Buffer, n int, op string) []T {
	data, _ := backend.BufferData(out)
	dst, _ := data.([]T)
	if len(dst) != n {
		panic(op + " output of the wrong size")
	}
	return dst
}
