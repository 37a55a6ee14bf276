package optim

import (
	"fmt"
	"math"
)

// BaseLearningRate returns the paper's learning rate for a batch of
// batchSize images (2·batchSize views): 0.03·batchSize/256.
func BaseLearningRate(batchSize int) float64 {
	return 0.03 * float64(batchSize) / 256
}

// PaperEpochs returns the paper's epochs per training stage: 1000 epochs
// in 128-D, 50 epochs training only the new 2-D output layer, 450 epochs
// fine-tuning everything.
func PaperEpochs() []int { return []int{1000, 50, 450} }

// PaperWarmupEpochs returns the reference's warm-up epochs per stage.
func PaperWarmupEpochs() []int { return []int{10, 0, 10} }

// PaperSchedules returns the learning-rate schedules of the paper's three
// stages for batches of batchSize images: peak rates [lr, lr, lr/1000] with
// lr = BaseLearningRate(batchSize), warm-up epochs [10, 0, 10], mode
// WarmupReference. epochs gives the epochs of each stage; nil means
// PaperEpochs. Fewer than three stages take the first ones.
func PaperSchedules(batchSize int, epochs []int) ([]Schedule, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("optim: batch size must be positive, got %d", batchSize)
	}
	if epochs == nil {
		epochs = PaperEpochs()
	}
	if len(epochs) == 0 || len(epochs) > 3 {
		return nil, fmt.Errorf("optim: the paper has 1 to 3 stages, got epochs %v", epochs)
	}
	lr := BaseLearningRate(batchSize)
	peaks := []float64{lr, lr, lr / 1000}
	warmups := PaperWarmupEpochs()
	schedules := make([]Schedule, len(epochs))
	for i, n := range epochs {
		schedules[i] = Schedule{PeakLR: peaks[i], Epochs: n, WarmupEpochs: warmups[i], Warmup: WarmupReference}
		if err := schedules[i].Validate(); err != nil {
			return nil, fmt.Errorf("stage %d: %w", i+1, err)
		}
	}
	return schedules, nil
}

// WarmupMode selects how a Schedule's warm-up starts and how long its
// cosine decay is.
type WarmupMode int

const (
	// WarmupReference reproduces the Python reference (v0.3.12) exactly.
	// With W warm-up epochs, epoch e < W trains at PeakLR·e/(W-1)
	// (numpy.linspace(0, PeakLR, W)): epoch 0 at rate 0, which only fills
	// the momentum buffers and batch-norm statistics, and epoch W-1 at
	// PeakLR. Epoch W+k then trains at
	//
	//	FinalLR + (PeakLR-FinalLR)/2 · (1 + cos(π·k/K)),  K = Epochs+1-W,
	//
	// so the last epoch stays slightly above FinalLR.
	WarmupReference WarmupMode = iota

	// WarmupLinear starts the warm-up one step in: epoch e < W trains at
	// PeakLR·(e+1)/W (no epoch at rate 0), and the cosine runs over the
	// remaining K = Epochs-W epochs with the same formula.
	WarmupLinear
)

// String returns "reference" or "linear".
func (m WarmupMode) String() string {
	switch m {
	case WarmupReference:
		return "reference"
	case WarmupLinear:
		return "linear"
	default:
		return fmt.Sprintf("WarmupMode(%d)", int(m))
	}
}

// Schedule is the per-epoch learning-rate rule of one training stage: a
// linear warm-up followed by a cosine decay, the rate set once at the start
// of each epoch (see WarmupMode for the exact formulas).
//
// As in the reference, WarmupEpochs may exceed Epochs: the stage then ends
// during the warm-up.
type Schedule struct {
	// PeakLR is the rate at the end of the warm-up and the start of the decay.
	PeakLR float64
	// FinalLR is the rate the cosine decays towards; the reference uses 0.
	FinalLR float64
	// Epochs is the number of epochs of the stage.
	Epochs int
	// WarmupEpochs is the number of warm-up epochs W (0 for none).
	WarmupEpochs int
	// Warmup selects the formulas; the zero value is WarmupReference.
	Warmup WarmupMode
}

// Validate reports an invalid schedule.
func (s Schedule) Validate() error {
	switch {
	case s.Epochs <= 0:
		return fmt.Errorf("optim: schedule needs a positive number of epochs, got %d", s.Epochs)
	case s.WarmupEpochs < 0:
		return fmt.Errorf("optim: negative warm-up epochs %d", s.WarmupEpochs)
	case !(s.PeakLR >= 0) || math.IsInf(s.PeakLR, 0):
		return fmt.Errorf("optim: peak learning rate must be finite and >= 0, got %v", s.PeakLR)
	case !(s.FinalLR >= 0) || math.IsInf(s.FinalLR, 0):
		return fmt.Errorf("optim: final learning rate must be finite and >= 0, got %v", s.FinalLR)
	case s.Warmup != WarmupReference && s.Warmup != WarmupLinear:
		return fmt.Errorf("optim: unknown warm-up mode %v", s.Warmup)
	}
	return nil
}

// LearningRate returns the rate for epoch (0-based, within the stage).
// Epochs outside [0, Epochs) are clamped into it.
func (s Schedule) LearningRate(epoch int) float64 {
	epoch = max(0, min(epoch, s.Epochs-1))
	w := s.WarmupEpochs
	if epoch < w {
		if s.Warmup == WarmupLinear {
			return s.PeakLR * float64(epoch+1) / float64(w)
		}
		if w == 1 {
			return 0 // numpy.linspace(0, lr, 1) == [0]
		}
		return s.PeakLR * float64(epoch) / float64(w-1)
	}
	k := epoch - w
	decay := s.Epochs - w
	if s.Warmup == WarmupReference {
		decay++
	}
	return s.FinalLR + (s.PeakLR-s.FinalLR)/2*(1+math.Cos(math.Pi*float64(k)/float64(decay)))
}

// Rates returns the rate of every epoch of the stage.
func (s Schedule) Rates() []float64 {
	rates := make([]float64, max(s.Epochs, 0))
	for e := range rates {
		rates[e] = s.LearningRate(e)
	}
	return rates
}
