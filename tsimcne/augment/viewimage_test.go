package augment

import (
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// TestViewImageRoundTrip checks that ViewImage gives back the pixels of a
// view made without augmentation.
func TestViewImageRoundTrip(t *testing.T) {
	ds := &data.Dataset{Name: "t", N: 2, Height: 2, Width: 3, Channels: 3, Images: make([]uint8, 2*2*3*3), Labels: []int{0, 1}}
	for i := range ds.Images {
		ds.Images[i] = uint8(13 * i)
	}
	v, err := ToFloat(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ViewImage(v, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 6 {
		for c := range 3 {
			if got, want := img.Pix[4*p+c], ds.Image(1)[3*p+c]; got != want {
				t.Fatalf("pixel %d channel %d: %d, want %d", p, c, got, want)
			}
		}
	}
	if _, err := ViewImage(v, 2, 2, 3); err == nil {
		t.Error("view 2 of 2: no error")
	}
}
