// Package augment makes the two random views of each image that t-SimCNE
// trains on, and the plain float images it embeds.
//
// The augmentations follow torchvision's transforms with the paper's
// parameters, applied in this order (see [DefaultConfig]):
//
//  1. RandomRotation(Rotation) when Rotation > 0 (off for CIFAR): nearest
//     neighbour, about the image centre, corners filled with 0.
//  2. RandomResizedCrop(Size, scale=(0.2, 1), ratio=(3/4, 4/3)), bilinear,
//     with torchvision's sampling (10 attempts, then a centre crop).
//  3. RandomHorizontalFlip(0.5).
//  4. ColorJitter(0.4, 0.4, 0.4, 0.1), applied with probability 0.8, its four
//     operations in a random order.
//  5. RandomGrayscale(0.2).
//  6. Optionally Normalize(Mean, Std).
//
// Images come from a [data.Dataset] (uint8, NHWC, 3 channels) and leave as
// float32 NHWC buffers with values in [0, 1] (before normalisation), ready to
// become GoMLX tensors of shape [B, H, W, 3]. Unlike a torchvision pipeline on
// PIL images, nothing is rounded back to 8 bits between the steps: the pixels
// are converted to float once (x/255) and every operation works on float32,
// as torchvision does for float tensors (values clamped to [0, 1] after each
// colour operation).
//
// Every view draws its random numbers from its own stream, derived from
// (Config.Seed, batch seed, position in the batch, image index, view), so the
// output is the same whatever the number of workers.
package augment

import (
	"fmt"
	"math"
)

// Per-channel mean and standard deviation of the CIFAR-10 training images,
// the normalisation used in the paper's runs (set Config.Normalize, Mean and
// Std, or use [Config.WithCIFARNormalization]).
const (
	CIFARMeanR, CIFARMeanG, CIFARMeanB = 0.4914, 0.4822, 0.4465
	CIFARStdR, CIFARStdG, CIFARStdB    = 0.2470, 0.2435, 0.2616
)

// Luma weights of ITU-R 601-2 (PIL's convert("L")), used by the grayscale,
// saturation and contrast operations.
const (
	LumaR, LumaG, LumaB = 0.299, 0.587, 0.114
)

// Config describes the random augmentations.
//
// The zero value is the identity: output size = input size, no crop, no flip,
// no colour changes, no rotation, no normalisation ([IdentityConfig]). Start
// from [DefaultConfig] for the paper's augmentations.
type Config struct {
	// Size is the side of the square output views (RandomResizedCrop's size).
	// 0 keeps the input's height and width (non-square inputs then give
	// non-square views, as RandomResizedCrop((H, W)) would).
	Size int

	// Scale is RandomResizedCrop's range of the crop's area as a fraction of
	// the image's area, e.g. {0.2, 1}. {0, 0} turns the random crop off: the
	// whole image is used (and resized to Size if that differs).
	Scale [2]float64
	// Ratio is RandomResizedCrop's range of the crop's aspect ratio
	// (width/height), sampled log-uniformly, e.g. {3/4, 4/3}. Used only when
	// Scale is set; {0, 0} then means {3/4, 4/3}.
	Ratio [2]float64

	// FlipP is the probability of a horizontal flip.
	FlipP float64

	// JitterP is the probability that ColorJitter is applied to a view.
	JitterP float64
	// Brightness, Contrast and Saturation are ColorJitter's strengths x: the
	// factor is drawn from U(max(0, 1-x), 1+x); 0 turns the operation off.
	Brightness, Contrast, Saturation float64
	// Hue is ColorJitter's hue strength h in [0, 0.5]: the hue is shifted by
	// U(-h, h) turns of the colour wheel; 0 turns it off.
	Hue float64

	// GrayP is RandomGrayscale's probability.
	GrayP float64

	// Rotation is the largest rotation in degrees: the angle is drawn from
	// U(-Rotation, Rotation) (counter-clockwise positive). 0 turns it off.
	Rotation float64

	// Normalize turns on the final per-channel (x - Mean[c]) / Std[c].
	Normalize bool
	// Mean and Std are the per-channel normalisation, used when Normalize.
	Mean, Std [3]float32

	// Seed is the base of all random streams; the batch seed given to
	// [Augmenter.Views] varies it per batch.
	Seed uint64

	// Workers is the number of goroutines that make the views; 0 means
	// runtime.GOMAXPROCS(0) at each call. It never changes the output.
	Workers int
}

// DefaultConfig returns the paper's augmentations for CIFAR-sized images:
// RandomResizedCrop(scale (0.2, 1), ratio (3/4, 4/3)) at the input size,
// horizontal flip p=0.5, ColorJitter(0.4, 0.4, 0.4, 0.1) with p=0.8 and
// RandomGrayscale p=0.2. No rotation and no normalisation (the reference
// package does not normalise; see [Config.WithCIFARNormalization]).
func DefaultConfig() Config {
	return Config{
		Scale:      [2]float64{0.2, 1},
		Ratio:      [2]float64{3.0 / 4.0, 4.0 / 3.0},
		FlipP:      0.5,
		JitterP:    0.8,
		Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1,
		GrayP: 0.2,
	}
}

// MedicalConfig returns the augmentations the paper describes for its 28x28
// medical images: as [DefaultConfig] but with rotations of up to 180 degrees,
// grayscale p=0.05 and no colour jitter. Here the rotation comes first, before
// the crop (see the package documentation for the order).
func MedicalConfig() Config {
	c := DefaultConfig()
	c.Rotation = 180
	c.GrayP = 0.05
	c.JitterP = 0
	c.Brightness, c.Contrast, c.Saturation, c.Hue = 0, 0, 0, 0
	return c
}

// IdentityConfig returns the configuration that changes nothing: views are
// the input images converted to float32 x/255, bit for bit. It is the zero
// Config.
func IdentityConfig() Config { return Config{} }

// WithCIFARNormalization returns c with the CIFAR-10 mean/std normalisation
// turned on.
func (c Config) WithCIFARNormalization() Config {
	c.Normalize = true
	c.Mean = [3]float32{CIFARMeanR, CIFARMeanG, CIFARMeanB}
	c.Std = [3]float32{CIFARStdR, CIFARStdG, CIFARStdB}
	return c
}

// Validate checks that c's values are in range.
func (c Config) Validate() error {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	prob := func(name string, p float64) error {
		if bad(p) || p < 0 || p > 1 {
			return fmt.Errorf("augment: %s = %v, want a probability in [0, 1]", name, p)
		}
		return nil
	}
	if c.Size < 0 {
		return fmt.Errorf("augment: Size = %d, want >= 0", c.Size)
	}
	if c.Scale != [2]float64{} {
		if bad(c.Scale[0]) || bad(c.Scale[1]) || c.Scale[0] <= 0 || c.Scale[0] > c.Scale[1] {
			return fmt.Errorf("augment: Scale = %v, want 0 < Scale[0] <= Scale[1] (or {0, 0} for no crop)", c.Scale)
		}
		if c.Ratio != [2]float64{} {
			if bad(c.Ratio[0]) || bad(c.Ratio[1]) || c.Ratio[0] <= 0 || c.Ratio[0] > c.Ratio[1] {
				return fmt.Errorf("augment: Ratio = %v, want 0 < Ratio[0] <= Ratio[1]", c.Ratio)
			}
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"FlipP", c.FlipP}, {"JitterP", c.JitterP}, {"GrayP", c.GrayP}} {
		if err := prob(p.name, p.v); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"Brightness", c.Brightness}, {"Contrast", c.Contrast}, {"Saturation", c.Saturation}} {
		if bad(s.v) || s.v < 0 {
			return fmt.Errorf("augment: %s = %v, want >= 0", s.name, s.v)
		}
	}
	if bad(c.Hue) || c.Hue < 0 || c.Hue > 0.5 {
		return fmt.Errorf("augment: Hue = %v, want in [0, 0.5]", c.Hue)
	}
	if bad(c.Rotation) || c.Rotation < 0 {
		return fmt.Errorf("augment: Rotation = %v degrees, want >= 0", c.Rotation)
	}
	if c.Normalize {
		for ch := range 3 {
			m, s := float64(c.Mean[ch]), float64(c.Std[ch])
			if bad(m) || bad(s) || s <= 0 {
				return fmt.Errorf("augment: normalisation of channel %d: Mean %v, Std %v, want finite and Std > 0", ch, m, s)
			}
		}
	}
	if c.Workers < 0 {
		return fmt.Errorf("augment: Workers = %d, want >= 0", c.Workers)
	}
	return nil
}

// ratio returns the crop's aspect-ratio range with the default filled in.
func (c Config) ratio() [2]float64 {
	if c.Ratio == [2]float64{} {
		return [2]float64{3.0 / 4.0, 4.0 / 3.0}
	}
	return c.Ratio
}
