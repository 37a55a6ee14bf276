package augment_test

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gosimcne/gosimcne/tsimcne/augment"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// Make the two augmented views of a batch of images, as t-SimCNE trains on
// them, and the plain images for embedding.
func Example() {
	// A tiny data set of 10 random-ish 32x32 RGB images.
	ds := &data.Dataset{Name: "demo", N: 10, Height: 32, Width: 32, Channels: 3}
	ds.Images = make([]uint8, ds.N*ds.ImageSize())
	for i := range ds.Images {
		ds.Images[i] = uint8(i * 7)
	}

	cfg := augment.DefaultConfig() // the paper's augmentations
	cfg.Seed = 42                  // the run's seed
	aug, err := augment.New(cfg)
	if err != nil {
		panic(err)
	}

	// One batch: the images at these indices; batchSeed varies per step.
	batch := []int{3, 1, 4, 9}
	step := uint64(0)
	view1, view2, err := aug.Views(ds, batch, step)
	if err != nil {
		panic(err)
	}
	h, w := aug.OutputShape(ds)
	x1 := tensors.FromFlatDataAndDimensions(view1, len(batch), h, w, 3)
	x2 := tensors.FromFlatDataAndDimensions(view2, len(batch), h, w, 3)
	fmt.Println("view 1:", x1.Shape())
	fmt.Println("view 2:", x2.Shape())

	// For the contrastive loss, all first views then all second views in one
	// [2B, H, W, 3] buffer, without a copy:
	n := len(batch) * aug.ViewLen(ds)
	both := make([]float32, 2*n)
	if err := aug.ViewsInto(ds, batch, step, both[:n], both[n:]); err != nil {
		panic(err)
	}
	fmt.Println("both views:", tensors.FromFlatDataAndDimensions(both, 2*len(batch), h, w, 3).Shape())

	// Plain images (no augmentation) for embedding all of the data set.
	plain, err := aug.Plain(ds, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("plain:", len(plain) == ds.N*h*w*3, plain[1] == 7.0/255)

	// Output:
	// view 1: (Float32)[4 32 32 3]
	// view 2: (Float32)[4 32 32 3]
	// both views: (Float32)[8 32 32 3]
	// plain: true true
}
