package augment

import (
	"math"
	"math/rand/v2"
)

// Colour operations of ColorJitter, the values of Params.Order.
const (
	OpBrightness = iota
	OpContrast
	OpSaturation
	OpHue
)

// Params records the random choices made for one view. [Augmenter.ViewParams]
// returns them, for inspection and tests.
type Params struct {
	// Angle is the rotation in degrees, counter-clockwise; 0 for none.
	Angle float64

	// Top, Left, CropH and CropW give the crop rectangle in the (rotated)
	// input image, in pixels.
	Top, Left, CropH, CropW int
	// CropScale and CropRatio are the continuous area fraction and aspect
	// ratio drawn in the accepted attempt of RandomResizedCrop (before the
	// rounding to whole pixels); both 0 when the centre-crop fallback was
	// used or the crop is off.
	CropScale, CropRatio float64

	// Flip tells whether the view is flipped horizontally.
	Flip bool

	// Jitter tells whether ColorJitter was applied.
	Jitter bool
	// Order is the order of the four colour operations (OpBrightness, ...),
	// a random permutation as torchvision draws it.
	Order [4]uint8
	// Brightness, Contrast and Saturation are the blend factors (1 = no
	// change) and Hue the hue shift in turns (0 = no change). They are
	// drawn only when Jitter is true and keep their no-op values otherwise.
	Brightness, Contrast, Saturation, Hue float32

	// Gray tells whether the view was turned to grayscale.
	Gray bool
}

// mix64 is the splitmix64 finaliser, a bijective 64-bit mixer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// streamSeeds returns the two PCG seeds of the random stream of one view.
// Each input goes through its own mixing step so that nearby values (seed,
// seed+1; position p, p+1; the two views) give unrelated streams.
func streamSeeds(seed, batch uint64, pos, index, view int) (uint64, uint64) {
	const golden, golden2, golden3 = 0x9e3779b97f4a7c15, 0x3c6ef372fe94f82a, 0xdaa66d2c7ddf743f
	s1 := mix64(mix64(seed+golden) ^ (batch + golden2))
	s1 = mix64(s1 ^ mix64(uint64(index)+golden3))
	s2 := mix64(uint64(pos)<<1 | uint64(view&1))
	s2 = mix64(s2 ^ s1)
	return s1, s2
}

// uniform returns a draw from U(lo, hi) as torch's uniform_ does: lo + (hi-lo)*u.
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// sample draws the parameters of one view of an h x w image from r, in
// torchvision's order: rotation, crop, flip, jitter (apply?, order,
// factors), grayscale.
func (c *Config) sample(r *rand.Rand, h, w int, p *Params) {
	*p = Params{Order: [4]uint8{0, 1, 2, 3}, Brightness: 1, Contrast: 1, Saturation: 1}
	if c.Rotation > 0 {
		p.Angle = uniform(r, -c.Rotation, c.Rotation)
	}
	if c.Scale == [2]float64{} {
		p.CropH, p.CropW = h, w
	} else {
		c.sampleCrop(r, h, w, p)
	}
	// torchvision: flip if torch.rand(1) < p; RandomApply skips if p < torch.rand(1).
	p.Flip = r.Float64() < c.FlipP
	if c.JitterP > 0 && r.Float64() <= c.JitterP {
		p.Jitter = true
		// torch.randperm(4): a uniformly random permutation (Fisher-Yates).
		for i := 3; i > 0; i-- {
			j := r.IntN(i + 1)
			p.Order[i], p.Order[j] = p.Order[j], p.Order[i]
		}
		if c.Brightness > 0 {
			p.Brightness = float32(uniform(r, max(0, 1-c.Brightness), 1+c.Brightness))
		}
		if c.Contrast > 0 {
			p.Contrast = float32(uniform(r, max(0, 1-c.Contrast), 1+c.Contrast))
		}
		if c.Saturation > 0 {
			p.Saturation = float32(uniform(r, max(0, 1-c.Saturation), 1+c.Saturation))
		}
		if c.Hue > 0 {
			p.Hue = float32(uniform(r, -c.Hue, c.Hue))
		}
	}
	p.Gray = r.Float64() < c.GrayP
}

// sampleCrop is RandomResizedCrop.get_params: up to 10 attempts with the
// area fraction ~ U(Scale) and log(ratio) ~ U(log Ratio), sides rounded half
// to even as Python's round; then the centre crop with the aspect ratio
// clamped to the Ratio range.
func (c *Config) sampleCrop(r *rand.Rand, height, width int, p *Params) {
	area := float64(height * width)
	ratio := c.ratio()
	logLo, logHi := math.Log(ratio[0]), math.Log(ratio[1])
	for range 10 {
		scale := uniform(r, c.Scale[0], c.Scale[1])
		target := area * scale
		aspect := math.Exp(uniform(r, logLo, logHi))
		w := int(math.RoundToEven(math.Sqrt(target * aspect)))
		h := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < w && w <= width && 0 < h && h <= height {
			p.Top = r.IntN(height - h + 1)
			p.Left = r.IntN(width - w + 1)
			p.CropH, p.CropW = h, w
			p.CropScale, p.CropRatio = scale, aspect
			return
		}
	}
	inRatio := float64(width) / float64(height)
	w, h := width, height
	switch {
	case inRatio < ratio[0]:
		h = int(math.RoundToEven(float64(w) / ratio[0]))
	case inRatio > ratio[1]:
		w = int(math.RoundToEven(float64(h) * ratio[1]))
	}
	h, w = max(1, min(h, height)), max(1, min(w, width))
	p.Top, p.Left = (height-h)/2, (width-w)/2
	p.CropH, p.CropW = h, w
}
