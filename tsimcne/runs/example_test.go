package runs_test

import (
	"fmt"
	"log"
	"os"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

// A notebook reproduces a run of `tsimcne train -out runs/cifar10-cpu`:
// run.json says which images it used (the same CIFAR-10 batches, subsets
// and held-out part), tsimcne.Load reads the trained network, and Evaluate
// gives the kNN accuracy that metrics.json reports. (Not run by go test: it
// needs a trained run and its data.)
func Example() {
	dir := "runs/cifar10-cpu" // a run folder written by `tsimcne train`
	info, err := runs.ReadInfo(dir)
	if err != nil {
		log.Fatal(err)
	}
	images, err := info.Data.Load()
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range images.Notes {
		fmt.Println("note:", n)
	}
	m, err := tsimcne.Load(dir, func(c *tsimcne.Config) { c.Progress = tsimcne.ProgressOff })
	if err != nil {
		log.Fatal(err)
	}
	res, err := runs.Evaluate(m, images, info.K, info.Features)
	if err != nil {
		log.Fatal(err)
	}
	if res.KNN != nil {
		fmt.Printf("kNN accuracy of the %d-D map: %.4f\n", res.KNN.MapDim, res.KNN.MapAccuracy)
	}

	// The run's pictures, drawn elsewhere.
	pics, err := runs.RunPictures(info.Data.Dataset, images, res, m.History())
	if err != nil {
		log.Fatal(err)
	}
	out, err := os.MkdirTemp("", "pictures")
	if err != nil {
		log.Fatal(err)
	}
	files, err := runs.WritePictures(out, pics)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", len(files), "pictures")
}

// The data selection of a new quick run: CIFAR-10's first training batch
// against the test batch, at most 10 000 training images.
func ExampleNewData() {
	d := runs.NewData(tsimcne.PresetQuick, runs.CIFAR10, 1)
	fmt.Println(d.Eval, d.CIFARBatches, d.TrainLimit)
	d = runs.NewData(tsimcne.PresetCPU, runs.CIFAR10, 1)
	fmt.Println(d.Eval, d.CIFARBatches, d.TrainLimit)
	// Output:
	// test 1 10000
	// holdout 5 0
}

// Data set names are spelt loosely on the command line; the canonical
// form is what run.json holds.
func ExampleNormalizeDataset() {
	for _, s := range []string{"CIFAR-10", "fmnist", "imagenet"} {
		d, err := runs.NormalizeDataset(s)
		fmt.Printf("%q %v\n", d, err)
	}
	fmt.Println(runs.Title(runs.FashionMNIST), runs.DefaultHoldout(60000))
	// Output:
	// "cifar10" <nil>
	// "fashion-mnist" <nil>
	// "" unknown data set "imagenet": want cifar10, cifar100, fashion-mnist, mnist or folder:PATH
	// Fashion-MNIST 10000
}
