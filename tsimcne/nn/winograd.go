package nn

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own layers use the dot-import.
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Winograd convolutions.
//
// A 3x3 convolution at stride 1 computed as im2col multiplies 9 taps x C
// input channels by F filters for every output pixel. Winograd's minimal
// filtering (Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks", CVPR 2016) F(m x m, 3 x 3) computes an m x m output tile from a
// (m+2) x (m+2) input tile with (m+2)^2 products per channel pair instead of
// 9 m^2:
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// where d is the input tile, g the 3x3 kernel and A, B, G small constant
// matrices. Over all channels the element-wise product becomes (m+2)^2
// independent matrix products [tiles, C] x [C, F], one per tile position:
// 2.25x (m=2) or 4x (m=4) fewer multiply-adds than im2col, plus the
// transforms, which are linear in C (or F) rather than in C*F.
//
// Here the whole formulation is written with graph ops GoMLX differentiates
// (Gather of the input tiles on a constant index table, DotGeneral with
// constant transform matrices, one batched DotGeneral, a Transpose), so the
// backward pass is Winograd-shaped too: the transforms' gradients are products
// with the transposed constants, the batched product's gradients are batched
// products of the same size. The result equals the convolution up to float
// rounding (the m=2 transforms have entries 0, ±1 and ±1/2). On the pure-Go
// backend tsimcne/accel fuses each gather with its transform, and each
// transform with the Transpose or ScatterSum after it, into single nodes
// that work in cache (accel/tiles.go); the graph here stays the same.

// winogradTile holds the transform matrices of one F(m x m, 3 x 3).
type winogradTile struct {
	m  int         // output tile size
	bt [][]float64 // Bᵀ, (m+2) x (m+2)
	g  [][]float64 // G, (m+2) x 3
	at [][]float64 // Aᵀ, m x (m+2)
}

// winogradF2 is F(2x2, 3x3) with interpolation points 0, 1, -1 (and infinity).
var winogradF2 = winogradTile{
	m: 2,
	bt: [][]float64{
		{1, 0, -1, 0},
		{0, 1, 1, 0},
		{0, -1, 1, 0},
		{0, 1, 0, -1},
	},
	g: [][]float64{
		{1, 0, 0},
		{0.5, 0.5, 0.5},
		{0.5, -0.5, 0.5},
		{0, 0, 1},
	},
	at: [][]float64{
		{1, 1, 1, 0},
		{0, 1, -1, -1},
	},
}

// winogradF4 is F(4x4, 3x3) with interpolation points 0, ±1, ±2 (and
// infinity).
var winogradF4 = winogradTile{
	m: 4,
	bt: [][]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	},
	g: [][]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	},
	at: [][]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	},
}

// kron2 returns the matrix of X -> M X Mᵀ acting on row-major flattened
// square matrices: (M ⊗ M)[(p,q),(a,b)] = M[p][a] M[q][b], as float32 data of
// shape [rows², cols²].
func kron2(m [][]float64) (data []float32, rows, cols int) {
	rows, cols = len(m), len(m[0])
	data = make([]float32, 0, rows*rows*cols*cols)
	for p := range rows {
		for q := range rows {
			for a := range cols {
				for b := range cols {
					data = append(data, float32(m[p][a]*m[q][b]))
				}
			}
		}
	}
	return data, rows, cols
}

// consts returns the constant tensors of a tile: Bᵀ⊗Bᵀ [t², t²], G⊗G
// [t², 9] and Aᵀ⊗Aᵀ [m², t²] (cached, see cachedConstant).
func (w *winogradTile) consts() (bb, gg, aa *tensors.Tensor) {
	mk := func(name string, m [][]float64) *tensors.Tensor {
		return cachedConstant(winogradConstKey{w.m, name}, func() *tensors.Tensor {
			data, r, c := kron2(m)
			return tensors.FromFlatDataAndDimensions(data, r*r, c*c)
		})
	}
	return mk("B", w.bt), mk("G", w.g), mk("A", w.at)
}

// winogradConstKey identifies a transform matrix of a tile in the cache.
type winogradConstKey struct {
	m    int
	name string
}

// fits reports whether conv2DWinograd with tile w computes this
// convolution: a 3x3 kernel at stride 1 with padding 1 ("same" output) and
// spatial sizes that are multiples of the output tile.
func (w *winogradTile) fits(height, width, k, stride, padding int) bool {
	return k == 3 && stride == 1 && padding == 1 && height%w.m == 0 && width%w.m == 0
}

// conv2DWinograd convolves x [batch, height, width, channels] with kernel
// [3, 3, channels, filters] at stride 1 and padding 1 with Winograd's
// F(m x m, 3 x 3) (see the comment at the top of this file). Callers check
// w.fits first.
func conv2DWinograd(w *winogradTile, x, kernel *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	batch, height, width, channels := dims[0], dims[1], dims[2], dims[3]
	filters := kernel.Shape().Dimensions[3]
	m := w.m
	t := m + 2
	tilesH, tilesW := height/m, width/m
	bb, gg, aa := w.consts()

	// Input tiles d [t², tiles, C], out-of-image taps reading the zero row.
	flat := withZeroRow(Reshape(x, batch*height*width, channels))
	geom := winogradGeometry{batch: batch, height: height, width: width, m: m}
	d := Gather(flat, ConstCachedTensor(g, geom.indices())) // [t², tiles, C]

	// V = (Bᵀ⊗Bᵀ) d: [t², tiles, C].
	v := DotGeneral(ConstCachedTensor(g, bb), []int{1}, nil, d, []int{0}, nil)
	// U = (G⊗G) g: [t², C, F].
	u := DotGeneral(ConstCachedTensor(g, gg), []int{1}, nil,
		Reshape(kernel, 9, channels*filters), []int{0}, nil)
	u = Reshape(u, t*t, channels, filters)
	// One product per tile position: [t², tiles, F].
	prod := DotGeneral(v, []int{2}, []int{0}, u, []int{1}, []int{0})
	// Y = (Aᵀ⊗Aᵀ) prod: [m², tiles, F], i.e. [m, m, batch, tilesH, tilesW, F].
	y := DotGeneral(ConstCachedTensor(g, aa), []int{1}, nil, prod, []int{0}, nil)
	y = Reshape(y, m, m, batch, tilesH, tilesW, filters)
	y = TransposeAllAxes(y, 2, 3, 0, 4, 1, 5) // [batch, tilesH, m, tilesW, m, F]
	return Reshape(y, batch, height, width, filters)
}

// winogradGeometry identifies one tile index table.
type winogradGeometry struct {
	batch, height, width, m int
}

// indices returns (cached for the process, see cachedConstant) the
// int32 table [t², tiles, 1] of the flat pixel row (b*height + y)*width + x
// that position (a, c) of tile (b, i, j) reads — y = m*i - 1 + a,
// x = m*j - 1 + c — or batch*height*width (the zero row) outside the image.
func (g winogradGeometry) indices() *tensors.Tensor {
	return cachedConstant(g, func() *tensors.Tensor {
		zeroRow := zeroRowIndex(g.batch, g.height, g.width, g)
		m, t := g.m, g.m+2
		tilesH, tilesW := g.height/m, g.width/m
		tiles := g.batch * tilesH * tilesW
		data := make([]int32, 0, t*t*tiles)
		for a := range t {
			for c := range t {
				for b := range g.batch {
					for i := range tilesH {
						for j := range tilesW {
							y, x := m*i-1+a, m*j-1+c
							if y < 0 || y >= g.height || x < 0 || x >= g.width {
								data = append(data, zeroRow)
							} else {
								data = append(data, int32((b*g.height+y)*g.width+x))
							}
						}
					}
				}
			}
		}
		return tensors.FromFlatDataAndDimensions(data, t*t, tiles, 1)
	})
}
