package augment

import "math"

// The image operations are written by hand rather than taken from a library
// (golang.org/x/image/draw, gonum): those work on image.Image through
// interfaces, per pixel, in 16-bit or float64 colour, which is an order of
// magnitude slower than needed and does not follow torchvision's sampling
// conventions. Here every operation works in place on float32 RGB pixels
// (3 values per pixel, NHWC) with no allocation.

// u8ToF32 maps a byte to its float value x/255 (exactly float32(x)/255).
var u8ToF32 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// clamp01 clamps x (not NaN) to [0, 1].
//
// After a colour operation many values clamp, unpredictably, so branches
// on floats would often be mispredicted. Float bits order like int32 for
// non-negative floats and all negative floats have negative int32 bits, so
// integer compares (which compile to conditional moves) do the job; the
// min/max builtins were slower (they also handle NaN and -0).
func clamp01(x float32) float32 {
	const one = 0x3f800000 // math.Float32bits(1)
	i := int32(math.Float32bits(x))
	if i < 0 {
		i = 0
	}
	if i > one {
		i = one
	}
	return math.Float32frombits(uint32(i))
}

// tap is one output coordinate's bilinear sampling: offsets of the two
// neighbouring input samples and the weight l of the second.
type tap struct {
	o0, o1 int32
	l      float32
}

// makeTaps fills taps for resizing inSize samples starting at offset to
// len(taps) samples, with PyTorch's bilinear convention (align_corners=False,
// no antialiasing): source = (dst+0.5)*in/out - 0.5, clamped at 0. stride is
// the distance in bytes between neighbouring samples.
func makeTaps(taps []tap, inSize, offset, stride int) {
	scale := float32(inSize) / float32(len(taps))
	for o := range taps {
		s := (float32(o)+0.5)*scale - 0.5
		if s < 0 {
			s = 0
		}
		i0 := int(s)
		if i0 > inSize-1 {
			i0 = inSize - 1
		}
		l := s - float32(i0)
		i1 := i0
		if i0 < inSize-1 {
			i1 = i0 + 1
		}
		taps[o] = tap{int32((offset + i0) * stride), int32((offset + i1) * stride), l}
	}
}

// resizeCrop writes to dst (oh x ow x 3 floats) the crop (top, left, ch, cw)
// of the w-wide uint8 RGB image src, resized bilinearly and flipped
// horizontally if flip. xs and ys are scratch of length ow and oh.
func resizeCrop(src []uint8, w, top, left, ch, cw int, flip bool, dst []float32, oh, ow int, xs, ys []tap) {
	rowStride := w * 3
	if ch == oh && cw == ow {
		// No resampling: a copy through the table (bit-exact x/255).
		for y := range oh {
			s := src[(top+y)*rowStride+left*3 : (top+y)*rowStride+(left+cw)*3]
			d := dst[y*ow*3 : (y+1)*ow*3]
			if !flip {
				for i, v := range s {
					d[i] = u8ToF32[v]
				}
				continue
			}
			for x := range ow {
				sx := (ow - 1 - x) * 3
				d[3*x] = u8ToF32[s[sx]]
				d[3*x+1] = u8ToF32[s[sx+1]]
				d[3*x+2] = u8ToF32[s[sx+2]]
			}
		}
		return
	}
	makeTaps(xs, cw, left, 3)
	makeTaps(ys, ch, top, rowStride)
	if flip {
		for i, j := 0, len(xs)-1; i < j; i, j = i+1, j-1 {
			xs[i], xs[j] = xs[j], xs[i]
		}
	}
	for y, ty := range ys {
		ly := ty.l
		my := 1 - ly
		r0 := src[ty.o0:]
		r1 := src[ty.o1:]
		d := dst[y*ow*3 : (y+1)*ow*3]
		for x, tx := range xs {
			lx := tx.l
			mx := 1 - lx
			a := r0[tx.o0 : tx.o0+3 : tx.o0+3]
			b := r0[tx.o1 : tx.o1+3 : tx.o1+3]
			c := r1[tx.o0 : tx.o0+3 : tx.o0+3]
			e := r1[tx.o1 : tx.o1+3 : tx.o1+3]
			o := d[3*x : 3*x+3 : 3*x+3]
			o[0] = my*(mx*u8ToF32[a[0]]+lx*u8ToF32[b[0]]) + ly*(mx*u8ToF32[c[0]]+lx*u8ToF32[e[0]])
			o[1] = my*(mx*u8ToF32[a[1]]+lx*u8ToF32[b[1]]) + ly*(mx*u8ToF32[c[1]]+lx*u8ToF32[e[1]])
			o[2] = my*(mx*u8ToF32[a[2]]+lx*u8ToF32[b[2]]) + ly*(mx*u8ToF32[c[2]]+lx*u8ToF32[e[2]])
		}
	}
}

// rotateNearest writes to dst the h x w RGB image src rotated by angle
// degrees counter-clockwise about its centre ((w-1)/2, (h-1)/2), nearest
// neighbour (ties to even, as grid_sample), pixels from outside filled with
// 0: torchvision's rotate(img, angle) with expand=False.
func rotateNearest(src []uint8, h, w int, angle float64, dst []uint8) {
	sin, cos := math.Sincos(angle * math.Pi / 180)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	for y := range h {
		dy := float64(y) - cy
		// Source of output (x, y): (cos*dx - sin*dy + cx, sin*dx + cos*dy + cy).
		bx := -sin*dy + cx
		by := cos*dy + cy
		d := dst[y*w*3 : (y+1)*w*3]
		for x := range w {
			dx := float64(x) - cx
			sx := int(math.RoundToEven(cos*dx + bx))
			sy := int(math.RoundToEven(sin*dx + by))
			if sx < 0 || sx >= w || sy < 0 || sy >= h {
				d[3*x], d[3*x+1], d[3*x+2] = 0, 0, 0
				continue
			}
			s := src[(sy*w+sx)*3 : (sy*w+sx)*3+3 : (sy*w+sx)*3+3]
			d[3*x], d[3*x+1], d[3*x+2] = s[0], s[1], s[2]
		}
	}
}

// adjustBrightness multiplies by f (blend with black) and clamps.
func adjustBrightness(px []float32, f float32) {
	for i, v := range px {
		px[i] = clamp01(f * v)
	}
}

// grayMean returns the mean of the grayscale image (luma of each pixel).
func grayMean(px []float32) float32 {
	var sum float64 // float64 so that large images lose nothing.
	for i := 0; i+2 < len(px); i += 3 {
		sum += float64(LumaR*px[i] + LumaG*px[i+1] + LumaB*px[i+2])
	}
	return float32(sum / float64(len(px)/3))
}

// adjustContrast blends with the mean of the grayscale image:
// f*x + (1-f)*mean, clamped.
func adjustContrast(px []float32, f float32) {
	m := (1 - f) * grayMean(px)
	for i, v := range px {
		px[i] = clamp01(f*v + m)
	}
}

// adjustSaturation blends each pixel with its grayscale value:
// f*x + (1-f)*gray, clamped.
func adjustSaturation(px []float32, f float32) {
	g := 1 - f
	for i := 0; i+2 < len(px); i += 3 {
		p := px[i : i+3 : i+3]
		gray := g * (LumaR*p[0] + LumaG*p[1] + LumaB*p[2])
		p[0] = clamp01(f*p[0] + gray)
		p[1] = clamp01(f*p[1] + gray)
		p[2] = clamp01(f*p[2] + gray)
	}
}

// toGray replaces each pixel by its luma in all three channels.
func toGray(px []float32) {
	for i := 0; i+2 < len(px); i += 3 {
		p := px[i : i+3 : i+3]
		g := LumaR*p[0] + LumaG*p[1] + LumaB*p[2]
		if g > 1 {
			g = 1
		}
		p[0], p[1], p[2] = g, g, g
	}
}

// hueOrder[sector] says which of (v, min, v-cr*f, min+cr*f) goes to R, G and
// B in each sixth of the colour wheel: torchvision's _hsv2rgb selection of
// (v, p, q, t).
var hueOrder = [6][3]uint8{{0, 3, 1}, {2, 0, 1}, {1, 0, 3}, {1, 2, 0}, {3, 1, 0}, {0, 1, 2}}

// mod6 is k mod 6 for k in [0, 16).
var mod6 = [16]uint8{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3}

// adjustHue shifts the hue by hue turns through HSV, as torchvision's tensor
// adjust_hue: h = (h + hue) mod 1, same s and v.
//
// It computes torchvision's formulas (same value up to float32 rounding)
// without branches: on real images the channel that is largest changes
// unpredictably from pixel to pixel, and the branchy version was 4x slower.
//   - The values are in [0, 1], so their float bits order like integers and
//     max/min/equality are integer compare-and-moves.
//   - In HSV, v = max, v*(1-s) = min and v*s = max-min = cr, so the output is
//     (v, p, q, t) = (max, min, max - cr*f, min + cr*f) with f the fraction of
//     the sector (sixth of the wheel) the hue falls in.
//   - Grey pixels (cr = 0) come out unchanged: every numerator is 0.
func adjustHue(px []float32, hue float32) {
	shift := hue*6 + 6 // in sixths of a turn, +6 to keep the sum positive.
	for i := 0; i+2 < len(px); i += 3 {
		p := px[i : i+3 : i+3]
		r, g, b := p[0], p[1], p[2]
		ri, gi, bi := int32(math.Float32bits(r)), int32(math.Float32bits(g)), int32(math.Float32bits(b))
		maxi, mini := ri, ri
		if gi > maxi {
			maxi = gi
		}
		if bi > maxi {
			maxi = bi
		}
		if gi < mini {
			mini = gi
		}
		if bi < mini {
			mini = bi
		}
		maxc, minc := math.Float32frombits(uint32(maxi)), math.Float32frombits(uint32(mini))
		cr := maxc - minc
		inv := 1 / (cr + 1e-30)
		// Hue in sixths, in [-1, 5): (g-b)/cr if red is the max, else
		// 2+(b-r)/cr if green is, else 4+(r-g)/cr. Selected as bits so that
		// the compiler emits conditional moves.
		h := math.Float32bits(4 + (r-g)*inv)
		hg := math.Float32bits(2 + (b-r)*inv)
		hr := math.Float32bits((g - b) * inv)
		if maxi == gi {
			h = hg
		}
		if maxi == ri {
			h = hr
		}
		hs := math.Float32frombits(h) + shift // in [2, 14).
		k := int32(hs)
		f := cr * (hs - float32(k))
		vals := [4]float32{maxc, minc, maxc - f, minc + f}
		o := &hueOrder[mod6[k&15]]
		p[0], p[1], p[2] = vals[o[0]], vals[o[1]], vals[o[2]]
	}
}

// normalize applies (x - mean[c]) * invStd[c] to each channel.
func normalize(px []float32, mean, invStd *[3]float32) {
	for i := 0; i+2 < len(px); i += 3 {
		p := px[i : i+3 : i+3]
		p[0] = (p[0] - mean[0]) * invStd[0]
		p[1] = (p[1] - mean[1]) * invStd[1]
		p[2] = (p[2] - mean[2]) * invStd[2]
	}
}
