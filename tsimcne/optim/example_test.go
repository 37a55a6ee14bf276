package optim_test

import (
	"fmt"

	"github.com/gosimcne/gosimcne/tsimcne/optim"
)

// The paper's learning rates for batches of 512 images: the first epochs
// of each stage and the last one. In the trainer, call
// opt.SetLearningRate(ctx, rate) at the start of each epoch.
func ExamplePaperSchedules() {
	stages, err := optim.PaperSchedules(512, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, s := range stages {
		fmt.Printf("stage %d (%d epochs): %.5f %.5f %.5f ... %.2e\n", i+1, s.Epochs,
			s.LearningRate(0), s.LearningRate(1), s.LearningRate(2), s.LearningRate(s.Epochs-1))
	}
	// Output:
	// stage 1 (1000 epochs): 0.00000 0.00667 0.01333 ... 6.03e-07
	// stage 2 (50 epochs): 0.06000 0.05994 0.05977 ... 2.27e-04
	// stage 3 (450 epochs): 0.00000 0.00001 0.00001 ... 3.04e-09
}
