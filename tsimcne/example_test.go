package tsimcne_test

import (
	"log"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// ExampleModel_Branch trains one pre-training and two maps from it that
// differ only in the kernel of their 2-D stages.
func ExampleModel_Branch() {
	train, err := data.LoadCIFAR10("", data.Train)
	if err != nil {
		log.Fatal(err)
	}
	cfg := tsimcne.CPUConfig()
	pre := cfg
	pre.Epochs = [3]int{cfg.Epochs[0], 0, 0} // stage 1 only
	pre.CheckpointDir = "runs/pre"
	m, err := tsimcne.New(pre)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Fit(train); err != nil {
		log.Fatal(err)
	}
	for _, kernel := range []string{"cauchy", "gaussian"} {
		b := cfg
		b.MapKernel, b.CheckpointDir = kernel, "runs/map-"+kernel
		mk, err := m.Branch(b)
		if err != nil {
			log.Fatal(err)
		}
		if err := mk.Fit(train); err != nil { // stages 2 and 3 only
			log.Fatal(err)
		}
	}
}
