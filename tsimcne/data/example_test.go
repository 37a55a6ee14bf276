package data_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// Load all 60 000 CIFAR-10 images from the data folder ($TSIMCNE_DATA or
// ~/.cache/gosimcne), downloading the official binary archive (163 MB) on
// first use.
func ExampleLoadCIFAR10() {
	dir, err := data.DataDir()
	if err != nil {
		log.Fatal(err)
	}
	if err := data.EnsureCIFAR10(dir); err != nil {
		log.Fatal(err) // says where to put the files when offline
	}
	ds, err := data.LoadCIFAR10(dir, data.All)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.N, ds.Height, ds.Width, ds.Channels, ds.ClassNames[ds.Labels[0]])
}

// Load the CIFAR-10 batches that are present, e.g. a folder with only
// data_batch_1.bin and test_batch.bin.
func ExampleAvailableBatches() {
	ds, err := data.LoadCIFAR10("/path/to/data", data.All, data.AvailableBatches())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.Name) // cifar10/all (1 of 5 batches)
}

// Load a folder with one sub-folder per class, as 64x64 images padded to
// square.
func ExampleLoadImageFolder() {
	ds, err := data.LoadImageFolder("/path/to/photos", data.WithSize(64), data.WithFit(data.Pad))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.N, ds.ClassNames, ds.Files[0])
}

// Hold 1 000 images of a prepared folder out, without copying pixels into
// memory: the split is written in its order into a second prepared file,
// and the two parts are slices of its mapping.
func ExamplePrepareSubset() {
	all, err := data.LoadImageFolderCached("/path/to/photos", "/path/to/cache", data.WithSize(64))
	if err != nil {
		log.Fatal(err)
	}
	defer all.Close()
	order := rand.Perm(all.N) // reference images first, then the held-out ones
	split, err := data.PrepareSubset(all.Dataset, order, "/path/to/cache/split.gsd")
	if err != nil {
		log.Fatal(err)
	}
	defer split.Close()
	reference, _ := split.Slice(0, split.N-1000)
	heldOut, _ := split.Slice(split.N-1000, split.N)
	fmt.Println(reference.N, heldOut.N, heldOut.Mapped())
}
