package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Statistical tests. Each draws n samples with a fixed seed (so a run is
// reproducible) and checks them against the distribution torchvision
// samples from, with tolerances of 5 standard errors for rates and means
// (a correct sampler fails with probability < 1e-6 per check, over seeds)
// and Kolmogorov-Smirnov bounds at alpha = 1e-4. A wrong parameter (flip
// 0.4 instead of 0.5, a factor range off by 10%, a plain instead of a log
// uniform ratio) moves the statistic far beyond these bounds.

const nSamples = 20000

// sampleMany draws n parameter sets for an h x w image, each from its own
// stream as Views does.
func sampleMany(cfg Config, h, w, n int) []Params {
	pcg := rand.NewPCG(0, 0)
	r := rand.New(pcg)
	ps := make([]Params, n)
	for i := range ps {
		pcg.Seed(streamSeeds(cfg.Seed, 12345, i, i, i&1))
		cfg.sample(r, h, w, &ps[i])
	}
	return ps
}

// checkRate fails t if the fraction k/n is further than 5 binomial standard
// errors from p.
func checkRate(t *testing.T, name string, k, n int, p float64) {
	t.Helper()
	rate := float64(k) / float64(n)
	tol := 5 * math.Sqrt(p*(1-p)/float64(n))
	if math.Abs(rate-p) > tol {
		t.Errorf("%s rate = %.4f over %d samples, want %.4f +- %.4f", name, rate, n, p, tol)
	} else {
		t.Logf("%s rate = %.4f over %d samples (want %.4f +- %.4f)", name, rate, n, p, tol)
	}
}

// ksStat returns the Kolmogorov-Smirnov distance between the sample xs and
// the distribution with CDF cdf.
func ksStat(xs []float64, cdf func(float64) float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := float64(len(s))
	d := 0.0
	for i, x := range s {
		f := cdf(x)
		d = max(d, math.Abs(f-float64(i)/n), math.Abs(float64(i+1)/n-f))
	}
	return d
}

// checkKS fails t if xs is not plausibly drawn from cdf (alpha = 1e-4).
func checkKS(t *testing.T, name string, xs []float64, cdf func(float64) float64) {
	t.Helper()
	// Asymptotic critical value sqrt(-ln(alpha/2)/2)/sqrt(n).
	crit := math.Sqrt(-math.Log(1e-4/2)/2) / math.Sqrt(float64(len(xs)))
	d := ksStat(xs, cdf)
	if d > crit {
		t.Errorf("%s: KS distance %.4f over %d samples > %.4f (alpha 1e-4)", name, d, len(xs), crit)
	} else {
		t.Logf("%s: KS distance %.4f over %d samples (bound %.4f)", name, d, len(xs), crit)
	}
}

func uniformCDF(lo, hi float64) func(float64) float64 {
	return func(x float64) float64 { return min(1, max(0, (x-lo)/(hi-lo))) }
}

func TestRatesFlipJitterGray(t *testing.T) {
	ps := sampleMany(DefaultConfig(), 32, 32, nSamples)
	var flips, jitters, grays int
	for _, p := range ps {
		if p.Flip {
			flips++
		}
		if p.Jitter {
			jitters++
		}
		if p.Gray {
			grays++
		}
	}
	checkRate(t, "flip", flips, nSamples, 0.5)
	checkRate(t, "jitter", jitters, nSamples, 0.8)
	checkRate(t, "grayscale", grays, nSamples, 0.2)

	ps = sampleMany(MedicalConfig(), 28, 28, nSamples)
	grays, jitters = 0, 0
	for _, p := range ps {
		if p.Gray {
			grays++
		}
		if p.Jitter {
			jitters++
		}
	}
	checkRate(t, "medical grayscale", grays, nSamples, 0.05)
	if jitters != 0 {
		t.Errorf("medical config jittered %d views, want 0", jitters)
	}
}

func TestJitterFactors(t *testing.T) {
	ps := sampleMany(DefaultConfig(), 32, 32, nSamples)
	var b, c, s, h []float64
	counts := map[[4]uint8]int{}
	for _, p := range ps {
		if !p.Jitter {
			if p.Brightness != 1 || p.Contrast != 1 || p.Saturation != 1 || p.Hue != 0 || p.Order != [4]uint8{0, 1, 2, 3} {
				t.Fatalf("view without jitter has factors %+v, want no-ops", p)
			}
			continue
		}
		b = append(b, float64(p.Brightness))
		c = append(c, float64(p.Contrast))
		s = append(s, float64(p.Saturation))
		h = append(h, float64(p.Hue))
		counts[p.Order]++
	}
	for _, f := range []struct {
		name   string
		xs     []float64
		lo, hi float64
	}{{"brightness", b, 0.6, 1.4}, {"contrast", c, 0.6, 1.4}, {"saturation", s, 0.6, 1.4}, {"hue", h, -0.1, 0.1}} {
		lo, hi := slices.Min(f.xs), slices.Max(f.xs)
		// float32 rounding of the factors: 1 ulp.
		if lo < f.lo-1e-7 || hi > f.hi+1e-7 {
			t.Errorf("%s factors in [%v, %v], want within [%v, %v]", f.name, lo, hi, f.lo, f.hi)
		}
		// The extremes of 16000 uniform draws lie within ~1e-3 of the bounds.
		if lo > f.lo+0.01*(f.hi-f.lo) || hi < f.hi-0.01*(f.hi-f.lo) {
			t.Errorf("%s factors in [%v, %v], do not fill [%v, %v]", f.name, lo, hi, f.lo, f.hi)
		}
		checkKS(t, f.name, f.xs, uniformCDF(f.lo, f.hi))
	}
	// The order is a uniform random permutation: chi-square over the 24
	// permutations, 23 degrees of freedom; 71 is its 1-1e-6 quantile
	// (Wilson-Hilferty).
	if len(counts) != 24 {
		t.Errorf("saw %d different orders of the colour operations, want all 24", len(counts))
	}
	n := float64(len(b))
	chi2 := 0.0
	for _, k := range counts {
		e := n / 24
		chi2 += (float64(k) - e) * (float64(k) - e) / e
	}
	chi2 += float64(24-len(counts)) * n / 24
	if chi2 > 71 {
		t.Errorf("orders of the colour operations: chi-square %.1f > 71 (df 23): not uniform; counts %v", chi2, counts)
	}
	// Strength 0 turns an operation off (torchvision: None): factor stays.
	cfg := DefaultConfig()
	cfg.Brightness, cfg.Hue = 0, 0
	for _, p := range sampleMany(cfg, 32, 32, 1000) {
		if p.Brightness != 1 || p.Hue != 0 {
			t.Fatalf("brightness/hue strength 0 gave factors %v/%v", p.Brightness, p.Hue)
		}
	}
	// Strength above 1: the lower bound is max(0, 1-x).
	cfg = DefaultConfig()
	cfg.Contrast = 1.5
	for _, p := range sampleMany(cfg, 32, 32, 2000) {
		if p.Contrast < 0 || p.Contrast > 2.5 {
			t.Fatalf("contrast 1.5 gave factor %v outside [0, 2.5]", p.Contrast)
		}
	}
}

// cropScaleCDF is the distribution of the accepted area fraction of
// RandomResizedCrop(scale (0.2, 1), ratio (3/4, 4/3)) on a large square
// image, in the continuous limit. An attempt with fraction s and ratio r
// fits iff s*r <= 1 and s/r <= 1, i.e. |log r| <= -log s: always for
// s <= 3/4, with probability -log(s)/L for s > 3/4, where L = log(4/3). So
// the accepted s has density proportional to 1 on [0.2, 0.75] and
// -log(s)/L above. (All 10 attempts fail with probability 0.16^10: no
// fallback in practice.)
func cropScaleCDF(s float64) float64 {
	L := math.Log(4.0 / 3.0)
	g := func(x float64) float64 { return x - x*math.Log(x) } // integral of -log
	z := 0.55 + (g(1)-g(0.75))/L
	switch {
	case s <= 0.2:
		return 0
	case s <= 0.75:
		return (s - 0.2) / z
	case s < 1:
		return (0.55 + (g(s)-g(0.75))/L) / z
	}
	return 1
}

func TestCropDistribution(t *testing.T) {
	const size = 1000
	ps := sampleMany(DefaultConfig(), size, size, nSamples)
	var scales, logRatios, pos []float64
	for _, p := range ps {
		if p.CropScale == 0 {
			t.Fatalf("fallback crop on a %dx%d image: %+v", size, size, p)
		}
		if p.CropScale < 0.2 || p.CropScale > 1 || p.CropRatio < 0.75 || p.CropRatio > 4.0/3.0 {
			t.Fatalf("sampled scale %v / ratio %v outside (0.2, 1) / (3/4, 4/3)", p.CropScale, p.CropRatio)
		}
		if p.Top < 0 || p.Left < 0 || p.Top+p.CropH > size || p.Left+p.CropW > size {
			t.Fatalf("crop %+v outside the image", p)
		}
		// Sides are rounded from sqrt(area*r) and sqrt(area/r): each side
		// within 0.5 px, so area and ratio within ~0.26% (sides >= 387).
		area := float64(p.CropH*p.CropW) / (size * size)
		ratio := float64(p.CropW) / float64(p.CropH)
		if math.Abs(area-p.CropScale) > 0.003*p.CropScale || math.Abs(ratio-p.CropRatio) > 0.003*p.CropRatio {
			t.Fatalf("crop %dx%d (area %.4f, ratio %.4f) does not match sampled scale %.4f ratio %.4f",
				p.CropH, p.CropW, area, ratio, p.CropScale, p.CropRatio)
		}
		scales = append(scales, p.CropScale)
		logRatios = append(logRatios, math.Log(p.CropRatio))
		if size-p.CropH > 0 {
			pos = append(pos, float64(p.Top)/float64(size-p.CropH))
		}
	}
	checkKS(t, "crop area fraction", scales, cropScaleCDF)
	// log ratio: symmetric about 0 (accepted region |log r| <= min(L, -log s)),
	// standard deviation at most L/sqrt(3) = 0.166.
	n := float64(len(logRatios))
	mean := 0.0
	for _, x := range logRatios {
		mean += x / n
	}
	if tol := 5 * 0.166 / math.Sqrt(n); math.Abs(mean) > tol {
		t.Errorf("mean log aspect ratio %.4f, want 0 +- %.4f", mean, tol)
	}
	// Log-uniform, not uniform: under a uniform ratio on (3/4, 4/3) the mean
	// log ratio would be +0.013, far outside the bound above. Also the
	// fraction of ratios below 1 must be one half.
	below := 0
	for _, x := range logRatios {
		if x < 0 {
			below++
		}
	}
	checkRate(t, "aspect ratio < 1", below, len(logRatios), 0.5)
	// Top-left corner uniform over the valid positions: mean 1/2, sd <= 1/2.
	m := 0.0
	for _, x := range pos {
		m += x / float64(len(pos))
	}
	if tol := 5 * 0.5 / math.Sqrt(float64(len(pos))); math.Abs(m-0.5) > tol {
		t.Errorf("mean relative crop position %.4f, want 0.5 +- %.4f", m, tol)
	}
}

func TestCropSmallImage(t *testing.T) {
	// On 32x32 images the rounding to whole pixels matters, as in
	// torchvision: the area fraction of the integer crop can fall a little
	// below 0.2 (e.g. 13x15 = 0.19) and the ratio a little outside
	// (3/4, 4/3) (e.g. 17x12); the drawn values stay inside their ranges.
	ps := sampleMany(DefaultConfig(), 32, 32, nSamples)
	minArea, maxArea := 1.0, 0.0
	var areas []float64
	for _, p := range ps {
		if p.CropH < 1 || p.CropW < 1 || p.Top+p.CropH > 32 || p.Left+p.CropW > 32 || p.Top < 0 || p.Left < 0 {
			t.Fatalf("crop %+v outside the 32x32 image", p)
		}
		if p.CropScale != 0 && (p.CropScale < 0.2 || p.CropScale > 1 || p.CropRatio < 0.75 || p.CropRatio > 4.0/3.0) {
			t.Fatalf("sampled scale %v / ratio %v outside range", p.CropScale, p.CropRatio)
		}
		area := float64(p.CropH*p.CropW) / 1024
		if r := float64(p.CropW) / float64(p.CropH); r < 0.75*0.88 || r > 4.0/3.0/0.88 {
			t.Fatalf("crop %dx%d: ratio %v too far outside (3/4, 4/3)", p.CropH, p.CropW, r)
		}
		minArea, maxArea = min(minArea, area), max(maxArea, area)
		areas = append(areas, area)
	}
	if minArea < 0.18 || maxArea > 1 {
		t.Errorf("crop area fractions in [%v, %v], want within [0.18, 1]", minArea, maxArea)
	}
	if minArea > 0.21 || maxArea < 0.99 {
		t.Errorf("crop area fractions in [%v, %v], do not cover [0.2, 1]", minArea, maxArea)
	}
	// Mean area fraction of the integer crop. Its expectation under
	// torchvision's rule on 32x32 is 0.5509 (quadrature of the rounded
	// sides over a 2000x2000 grid of (scale, log ratio), counting accepted
	// attempts); the continuous limit is 0.538, rounding lets slightly larger
	// crops fit. The area's sd is < 0.25, so 5 standard errors are 0.009.
	mean, sd := 0.0, 0.0
	for _, a := range areas {
		mean += a / float64(len(areas))
	}
	for _, a := range areas {
		sd += (a - mean) * (a - mean) / float64(len(areas))
	}
	sd = math.Sqrt(sd)
	if tol := 5 * sd / math.Sqrt(float64(len(areas))); math.Abs(mean-0.5509) > tol {
		t.Errorf("mean crop area fraction %.4f on 32x32, want 0.5509 +- %.4f", mean, tol)
	} else {
		t.Logf("mean crop area fraction %.4f on 32x32 (want 0.5509 +- %.4f)", mean, tol)
	}
}

func TestCropFallback(t *testing.T) {
	// A scale range that can never fit forces torchvision's fallback: the
	// centre crop with the aspect ratio clamped to the Ratio range.
	cfg := DefaultConfig()
	cfg.Scale = [2]float64{5, 6}
	for _, c := range []struct {
		h, w                    int
		top, left, cropH, cropW int
	}{
		{32, 32, 0, 0, 32, 32},
		{32, 64, 0, 10, 32, 43},  // 64/32 = 2 > 4/3: w = round(32*4/3) = 43, left = (64-43)/2.
		{64, 32, 10, 0, 43, 32},  // 32/64 < 3/4: h = round(32/(3/4)) = 43.
		{30, 35, 0, 0, 30, 35},   // 35/30 within the range: whole image.
		{10, 100, 0, 43, 10, 13}, // w = round(13.33) = 13, left = 87/2 = 43.
	} {
		p := sampleMany(cfg, c.h, c.w, 1)[0]
		if p.Top != c.top || p.Left != c.left || p.CropH != c.cropH || p.CropW != c.cropW || p.CropScale != 0 {
			t.Errorf("%dx%d fallback crop = top %d left %d %dx%d (scale %v), want top %d left %d %dx%d",
				c.h, c.w, p.Top, p.Left, p.CropH, p.CropW, p.CropScale, c.top, c.left, c.cropH, c.cropW)
		}
	}
}

func TestRotationAngles(t *testing.T) {
	ps := sampleMany(MedicalConfig(), 28, 28, nSamples)
	angles := make([]float64, len(ps))
	for i, p := range ps {
		if p.Angle < -180 || p.Angle > 180 {
			t.Fatalf("angle %v outside [-180, 180]", p.Angle)
		}
		angles[i] = p.Angle
	}
	checkKS(t, "rotation angle", angles, uniformCDF(-180, 180))
	for _, p := range sampleMany(DefaultConfig(), 32, 32, 100) {
		if p.Angle != 0 {
			t.Fatalf("default config rotates by %v", p.Angle)
		}
	}
}
