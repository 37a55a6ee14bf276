package augment

import (
	"math"
	"testing"
)

// near reports whether got and want agree to within tol in every value.
func near(got, want []float32, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			return false
		}
	}
	return true
}

func TestClamp01(t *testing.T) {
	for _, c := range []struct{ in, want float32 }{
		{-0.5, 0}, {0, 0}, {float32(math.Copysign(0, -1)), 0}, {0.3, 0.3}, {1, 1}, {1.0000001, 1}, {7, 1},
		{float32(math.Inf(1)), 1}, {float32(math.Inf(-1)), 0}, {1e-40, 1e-40},
	} {
		if got := clamp01(c.in); got != c.want || math.Signbit(float64(got)) {
			t.Errorf("clamp01(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestHuePureRed(t *testing.T) {
	// Hue of pure red is 0; shifting by a turn fraction walks the colour
	// wheel: 1/6 yellow, 1/3 green, 1/2 cyan, -1/6 (= 5/6) magenta, -1/3 blue.
	for _, c := range []struct {
		shift float32
		want  []float32
	}{
		{0, []float32{1, 0, 0}},
		{1.0 / 6, []float32{1, 1, 0}},
		{1.0 / 3, []float32{0, 1, 0}},
		{0.5, []float32{0, 1, 1}},
		{-0.5, []float32{0, 1, 1}},
		{-1.0 / 6, []float32{1, 0, 1}},
		{-1.0 / 3, []float32{0, 0, 1}},
		{1.0 / 12, []float32{1, 0.5, 0}}, // half way to yellow: orange.
	} {
		px := []float32{1, 0, 0}
		adjustHue(px, c.shift)
		if !near(px, c.want, 1e-6) {
			t.Errorf("hue shift %v of red = %v, want %v", c.shift, px, c.want)
		}
	}
}

func TestHueByHand(t *testing.T) {
	// (0.8, 0.4, 0.2): v = 0.8, s = 0.75, h = (g-b)/(max-min)/6 = 1/18.
	// Shift by 1/2: h = 10/18, sector 3 with f = 1/3, so (p, q, v) with
	// p = v(1-s) = 0.2 and q = v(1-s*f) = 0.6: the complementary (0.2, 0.6, 0.8).
	px := []float32{0.8, 0.4, 0.2, 0.3, 0.3, 0.3, 0, 0, 0, 1, 1, 1}
	adjustHue(px, 0.5)
	want := []float32{0.2, 0.6, 0.8, 0.3, 0.3, 0.3, 0, 0, 0, 1, 1, 1}
	if !near(px, want, 1e-6) {
		t.Errorf("hue shift 0.5 = %v, want %v", px, want)
	}
	// Greys must come out exactly unchanged.
	for i := 3; i < 12; i++ {
		if px[i] != want[i] {
			t.Errorf("grey value %d changed: %v, want %v", i, px[i], want[i])
		}
	}
	// (0.2, 0.4, 0.8) has h = 4 + (r-g)/cr = 4 - 1/3 sixths; -1/12 turn = -0.5 sixth
	// gives 3.1667 sixths: sector 3, f = 1/6: (p, q, v) = (0.2, 0.8-0.6/6, 0.8).
	px = []float32{0.2, 0.4, 0.8}
	adjustHue(px, -1.0/12)
	if want := []float32{0.2, 0.7, 0.8}; !near(px, want, 1e-6) {
		t.Errorf("hue shift -1/12 of (0.2,0.4,0.8) = %v, want %v", px, want)
	}
}

func TestHueRoundTrip(t *testing.T) {
	ds := randomDataset(1, 8, 8, 3)
	orig, _ := ToFloat(ds, nil)
	for _, h := range []float32{0, 0.05, -0.1, 0.37, -0.5} {
		px := append([]float32(nil), orig...)
		adjustHue(px, h)
		for i, v := range px {
			if v < 0 || v > 1 || v != v {
				t.Fatalf("hue %v: value %d = %v outside [0,1]", h, i, v)
			}
		}
		adjustHue(px, -h)
		if !near(px, orig, 2e-6) {
			t.Errorf("hue %v then %v does not give back the image", h, -h)
		}
	}
}

func TestGrayOfKnownColours(t *testing.T) {
	px := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0.5, 0.5, 0.5}
	toGray(px)
	want := []float32{0.299, 0.299, 0.299, 0.587, 0.587, 0.587, 0.114, 0.114, 0.114, 1, 1, 1, 0, 0, 0, 0.5, 0.5, 0.5}
	if !near(px, want, 1e-7) {
		t.Errorf("toGray = %v, want %v", px, want)
	}
}

func TestBrightnessContrastSaturation(t *testing.T) {
	px := []float32{0.5, 0.8, 0, 0.25, 1, 0.1}
	adjustBrightness(px, 1.4)
	if want := []float32{0.7, 1, 0, 0.35, 1, 0.14}; !near(px, want, 1e-7) {
		t.Errorf("brightness 1.4 = %v, want %v", px, want)
	}
	px = []float32{0.5, 0.8, 0, 0.25, 1, 0.1}
	adjustBrightness(px, 0.6)
	if want := []float32{0.3, 0.48, 0, 0.15, 0.6, 0.06}; !near(px, want, 1e-7) {
		t.Errorf("brightness 0.6 = %v, want %v", px, want)
	}

	// Black and white pixels: grey mean 0.5. Factor 0.5 pulls halfway to it;
	// factor 1.4 pushes out and clamps.
	px = []float32{0, 0, 0, 1, 1, 1}
	adjustContrast(px, 0.5)
	if want := []float32{0.25, 0.25, 0.25, 0.75, 0.75, 0.75}; !near(px, want, 1e-7) {
		t.Errorf("contrast 0.5 = %v, want %v", px, want)
	}
	// Mean of grey of (0.6,0.2,0.2) and (0.2,0.2,0.2): (0.3196 + 0.2)/2 = 0.2598.
	px = []float32{0.6, 0.2, 0.2, 0.2, 0.2, 0.2}
	adjustContrast(px, 1.4)
	m := float32(0.2598)
	want := []float32{1.4*0.6 - 0.4*m, 1.4*0.2 - 0.4*m, 1.4*0.2 - 0.4*m, 1.4*0.2 - 0.4*m, 1.4*0.2 - 0.4*m, 1.4*0.2 - 0.4*m}
	if !near(px, want, 1e-6) {
		t.Errorf("contrast 1.4 = %v, want %v", px, want)
	}

	// Grey of (0.6, 0.4, 0.4) = 0.299*0.6 + 0.587*0.4 + 0.114*0.4 = 0.4598.
	px = []float32{0.6, 0.4, 0.4, 0.9, 0.1, 0.1}
	adjustSaturation(px, 2)
	g2 := float32(0.299*0.9 + 0.587*0.1 + 0.114*0.1)
	want = []float32{1.2 - 0.4598, 0.8 - 0.4598, 0.8 - 0.4598, 1, 0.2 - g2, 0.2 - g2}
	want[4], want[5] = clamp01(want[4]), clamp01(want[5])
	if !near(px, want, 1e-6) {
		t.Errorf("saturation 2 = %v, want %v", px, want)
	}
	px = []float32{0.6, 0.4, 0.4}
	adjustSaturation(px, 0)
	if want := []float32{0.4598, 0.4598, 0.4598}; !near(px, want, 1e-6) {
		t.Errorf("saturation 0 = %v, want grey %v", px, want)
	}
}

// gradient returns an h x w uint8 RGB image with R = 10*x, G = 10*y, B = 0.
func gradient(h, w int) []uint8 {
	img := make([]uint8, h*w*3)
	for y := range h {
		for x := range w {
			img[(y*w+x)*3] = uint8(10 * x)
			img[(y*w+x)*3+1] = uint8(10 * y)
		}
	}
	return img
}

func TestResizeCropBilinear(t *testing.T) {
	img := gradient(8, 8)
	scratch := make([]tap, 8)
	ys := make([]tap, 8)
	// Upsample the crop x in [2, 6), y in [0, 8) to 8 columns: source
	// x = (ox+0.5)/2 - 0.5 clamped at 0, i.e. 0, .25, .75, ..., 3.25 (which
	// only sees the last column), plus the offset 2.
	dst := make([]float32, 8*8*3)
	resizeCrop(img, 8, 0, 2, 8, 4, false, dst, 8, 8, scratch, ys)
	wantR := []float64{20, 22.5, 27.5, 32.5, 37.5, 42.5, 47.5, 50}
	for y := range 8 {
		for x := range 8 {
			r, g := dst[(y*8+x)*3], dst[(y*8+x)*3+1]
			if math.Abs(float64(r)*255-wantR[x]) > 1e-4 || math.Abs(float64(g)*255-float64(10*y)) > 1e-4 {
				t.Fatalf("upsampled (%d,%d) = (%v, %v)*255, want (%v, %v)", y, x, r*255, g*255, wantR[x], 10*y)
			}
		}
	}
	// The same flipped: column x holds what column 7-x held.
	flipped := make([]float32, len(dst))
	resizeCrop(img, 8, 0, 2, 8, 4, true, flipped, 8, 8, scratch, ys)
	for y := range 8 {
		for x := range 8 {
			if flipped[(y*8+x)*3] != dst[(y*8+7-x)*3] {
				t.Fatalf("flip: (%d,%d) = %v, want %v", y, x, flipped[(y*8+x)*3], dst[(y*8+7-x)*3])
			}
		}
	}
	// Downsample the whole 8x8 image to 4x4: source = 2*o + 0.5, the mean of
	// two neighbours in each direction.
	small := make([]float32, 4*4*3)
	resizeCrop(img, 8, 0, 0, 8, 8, false, small, 4, 4, scratch[:4], ys[:4])
	for y := range 4 {
		for x := range 4 {
			r, g := float64(small[(y*4+x)*3])*255, float64(small[(y*4+x)*3+1])*255
			if math.Abs(r-float64(20*x+5)) > 1e-4 || math.Abs(g-float64(20*y+5)) > 1e-4 {
				t.Fatalf("downsampled (%d,%d) = (%v,%v), want (%v,%v)", y, x, r, g, 20*x+5, 20*y+5)
			}
		}
	}
	// A crop with no resize is a bit-exact copy through x/255.
	same := make([]float32, 3*5*3)
	resizeCrop(img, 8, 2, 1, 3, 5, false, same, 3, 5, scratch[:5], ys[:3])
	for y := range 3 {
		for x := range 5 {
			for c := range 3 {
				if got, want := same[(y*5+x)*3+c], float32(img[((y+2)*8+x+1)*3+c])/255; got != want {
					t.Fatalf("plain crop (%d,%d,%d) = %v, want %v", y, x, c, got, want)
				}
			}
		}
	}
}

func TestMakeTapsIdentity(t *testing.T) {
	// Same size in and out: weights must be exactly 0 so resampling is exact.
	taps := make([]tap, 32)
	makeTaps(taps, 32, 0, 3)
	for o, tp := range taps {
		if tp.l != 0 || tp.o0 != int32(3*o) {
			t.Fatalf("tap %d = %+v, want offset %d weight 0", o, tp, 3*o)
		}
	}
}

func TestRotateNearest(t *testing.T) {
	for _, n := range []int{4, 5} {
		img := make([]uint8, n*n*3)
		for i := range img {
			img[i] = uint8(i)
		}
		at := func(im []uint8, y, x int) [3]uint8 {
			return [3]uint8(im[(y*n+x)*3 : (y*n+x)*3+3])
		}
		dst := make([]uint8, len(img))
		rotateNearest(img, n, n, 0, dst)
		for i := range img {
			if dst[i] != img[i] {
				t.Fatalf("n=%d: rotation by 0 changed the image", n)
			}
		}
		// 90 degrees counter-clockwise (numpy's rot90): out[y][x] = in[x][n-1-y].
		rotateNearest(img, n, n, 90, dst)
		for y := range n {
			for x := range n {
				if at(dst, y, x) != at(img, x, n-1-y) {
					t.Fatalf("n=%d: rot 90 (%d,%d) = %v, want %v", n, y, x, at(dst, y, x), at(img, x, n-1-y))
				}
			}
		}
		rotateNearest(img, n, n, -180, dst)
		for y := range n {
			for x := range n {
				if at(dst, y, x) != at(img, n-1-y, n-1-x) {
					t.Fatalf("n=%d: rot -180 (%d,%d) wrong", n, y, x)
				}
			}
		}
	}
	// 45 degrees on 5x5: the corners come from outside the image and are 0;
	// the centre stays.
	n := 5
	img := make([]uint8, n*n*3)
	for i := range img {
		img[i] = 200
	}
	dst := make([]uint8, len(img))
	rotateNearest(img, n, n, 45, dst)
	for _, p := range [][2]int{{0, 0}, {0, 4}, {4, 0}, {4, 4}} {
		if v := dst[(p[0]*n+p[1])*3]; v != 0 {
			t.Errorf("rot 45: corner %v = %d, want 0 (fill)", p, v)
		}
	}
	if v := dst[(2*n+2)*3]; v != 200 {
		t.Errorf("rot 45: centre = %d, want 200", v)
	}
}

func TestNormalize(t *testing.T) {
	px := []float32{0.4914, 0.4822, 0.4465, 1, 1, 1}
	mean := [3]float32{CIFARMeanR, CIFARMeanG, CIFARMeanB}
	inv := [3]float32{1 / CIFARStdR, 1 / CIFARStdG, 1 / CIFARStdB}
	normalize(px, &mean, &inv)
	want := []float32{0, 0, 0, (1 - 0.4914) / 0.2470, (1 - 0.4822) / 0.2435, (1 - 0.4465) / 0.2616}
	if !near(px, want, 1e-6) {
		t.Errorf("normalize = %v, want %v", px, want)
	}
}
