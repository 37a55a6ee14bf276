package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// blobs returns k Gaussian clusters (sd 1) of per points each, centred on a
// circle of radius 10, with labels and class names.
func blobs(k, per int, seed uint64) (xy []float32, labels []int, names []string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for c := 0; c < k; c++ {
		a := 2 * math.Pi * float64(c) / float64(k)
		cx, cy := 10*math.Cos(a), 10*math.Sin(a)
		for j := 0; j < per; j++ {
			xy = append(xy, float32(cx+rng.NormFloat64()), float32(cy+rng.NormFloat64()))
			labels = append(labels, c)
		}
		names = append(names, "class "+itoa(c))
	}
	return
}

// classImageColor is the solid colour of the test images of class c.
func classImageColor(c int) color.NRGBA {
	return color.NRGBA{uint8(255 - 60*c), uint8(20 + 70*c), 255, 255}
}

// solidImages returns one solid-coloured 8×8 image per label.
func solidImages(labels []int) *data.Dataset {
	const s = 8
	ds := &data.Dataset{Name: "test/solid", N: len(labels), Height: s, Width: s, Channels: 3,
		Images: make([]uint8, len(labels)*s*s*3), Labels: labels}
	for i, l := range labels {
		col := classImageColor(l)
		img := ds.Image(i)
		for p := 0; p < s*s; p++ {
			img[3*p], img[3*p+1], img[3*p+2] = col.R, col.G, col.B
		}
	}
	return ds
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	return img
}

// countNear counts the pixels of img within distance tol (per channel) of col.
func countNear(img image.Image, col color.NRGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if absDiff(c.R, col.R) <= tol && absDiff(c.G, col.G) <= tol && absDiff(c.B, col.B) <= tol {
				n++
			}
		}
	}
	return n
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// distinctColors counts the distinct colours of img.
func distinctColors(img image.Image) int {
	seen := map[color.NRGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			seen[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)] = true
		}
	}
	return len(seen)
}
