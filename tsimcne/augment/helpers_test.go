package augment

import (
	"math/rand/v2"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// randomDataset returns n random h x w RGB images.
func randomDataset(n, h, w int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	ds := &data.Dataset{Name: "random", N: n, Height: h, Width: w, Channels: 3, Images: make([]uint8, n*h*w*3)}
	for i := range ds.Images {
		ds.Images[i] = uint8(r.Uint32())
	}
	return ds
}

// smoothDataset returns n h x w images of smooth colour gradients with a
// random offset each: realistic enough for the colour operations to matter.
func smoothDataset(n, h, w int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 11))
	ds := &data.Dataset{Name: "smooth", N: n, Height: h, Width: w, Channels: 3, Images: make([]uint8, n*h*w*3)}
	for i := range n {
		img := ds.Image(i)
		o := [3]int{r.IntN(256), r.IntN(256), r.IntN(256)}
		for y := range h {
			for x := range w {
				p := img[(y*w+x)*3:]
				p[0] = uint8((o[0] + 4*x) % 256)
				p[1] = uint8((o[1] + 4*y) % 256)
				p[2] = uint8((o[2] + 2*x + 2*y) % 256)
			}
		}
	}
	return ds
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
