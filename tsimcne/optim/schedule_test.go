package optim

import (
	"math"
	"testing"
)

func TestBaseLearningRate(t *testing.T) {
	for b, want := range map[int]float64{256: 0.03, 512: 0.06, 1024: 0.12, 64: 0.0075} {
		if got := BaseLearningRate(b); math.Abs(got-want) > 1e-15 {
			t.Errorf("BaseLearningRate(%d) = %v, want %v", b, got, want)
		}
	}
	if BaseLearningRate(512) != DefaultLearningRate {
		t.Errorf("DefaultLearningRate %v should be the rate at the reference's batch 512", DefaultLearningRate)
	}
}

// The expected values were computed by hand from the reference's
// CosineAnnealingSchedule (numpy.linspace warm-up, cosine over n+1-W epochs,
// epoch e trains at lr_schedule[e]).
func TestScheduleReference(t *testing.T) {
	for _, c := range []struct {
		s    Schedule
		want map[int]float64
	}{
		{Schedule{PeakLR: 1, Epochs: 20, WarmupEpochs: 10}, map[int]float64{
			0: 0, 1: 1.0 / 9, 9: 1, 10: 1, 11: 0.9797464868072487, 19: 0.07937323358440945,
			-3: 0, 25: 0.07937323358440945, // clamped
		}},
		{Schedule{PeakLR: 1, Epochs: 4}, map[int]float64{
			0: 1, 1: 0.9045084971874737, 2: 0.6545084971874737, 3: 0.34549150281252633,
		}},
		{Schedule{PeakLR: 1, Epochs: 5, WarmupEpochs: 1}, map[int]float64{0: 0, 1: 1, 4: 0.34549150281252633}},
		{Schedule{PeakLR: 1, FinalLR: 0.1, Epochs: 3}, map[int]float64{0: 1, 1: 0.8681980515339464, 2: 0.55}},
		// Warm-up longer than the stage: the stage ends during the warm-up, as in the reference.
		{Schedule{PeakLR: 0.06, Epochs: 5, WarmupEpochs: 10}, map[int]float64{0: 0, 4: 0.026666666666666665}},
	} {
		if err := c.s.Validate(); err != nil {
			t.Fatalf("%+v: %v", c.s, err)
		}
		for e, want := range c.want {
			if got := c.s.LearningRate(e); math.Abs(got-want) > 1e-12*(1+want) {
				t.Errorf("%+v: epoch %d: %.17g, want %.17g", c.s, e, got, want)
			}
		}
	}
}

func TestScheduleLinear(t *testing.T) {
	s := Schedule{PeakLR: 0.5, Epochs: 6, WarmupEpochs: 2, Warmup: WarmupLinear}
	want := []float64{0.25, 0.5, 0.5, 0.42677669529663687, 0.25, 0.07322330470336313}
	got := s.Rates()
	if len(got) != len(want) {
		t.Fatalf("Rates() has %d entries, want %d", len(got), len(want))
	}
	for e := range want {
		if math.Abs(got[e]-want[e]) > 1e-12 {
			t.Errorf("epoch %d: %.17g, want %.17g", e, got[e], want[e])
		}
	}
	if s.Warmup.String() != "linear" || WarmupReference.String() != "reference" {
		t.Error("WarmupMode.String")
	}
}

func TestPaperSchedules(t *testing.T) {
	stages, err := PaperSchedules(512, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 3 {
		t.Fatalf("%d stages, want 3", len(stages))
	}
	for i, c := range []struct {
		epochs, warmup int
		want           map[int]float64
	}{
		{1000, 10, map[int]float64{0: 0, 1: 0.006666666666666666, 5: 0.03333333333333333, 9: 0.06, 10: 0.06,
			500: 0.030523043919546952, 999: 6.029790621542297e-07}},
		{50, 0, map[int]float64{0: 0.06, 49: 0.00022738470984192793}},
		{450, 10, map[int]float64{0: 0, 3: 2e-05, 9: 6e-05, 10: 6e-05, 449: 3.0448539795435715e-09}},
	} {
		s := stages[i]
		if s.Epochs != c.epochs || s.WarmupEpochs != c.warmup || s.Warmup != WarmupReference {
			t.Errorf("stage %d: %+v", i+1, s)
		}
		for e, want := range c.want {
			if got := s.LearningRate(e); math.Abs(got-want) > 1e-12*want+1e-18 {
				t.Errorf("stage %d epoch %d: %.17g, want %.17g", i+1, e, got, want)
			}
		}
	}
	short, err := PaperSchedules(128, []int{30, 5})
	if err != nil || len(short) != 2 || short[1].Epochs != 5 || short[0].PeakLR != 0.015 {
		t.Errorf("PaperSchedules(128, [30 5]) = %+v, %v", short, err)
	}
	for _, bad := range []struct {
		b      int
		epochs []int
	}{{0, nil}, {512, []int{}}, {512, []int{1, 2, 3, 4}}, {512, []int{100, 0}}} {
		if _, err := PaperSchedules(bad.b, bad.epochs); err == nil {
			t.Errorf("PaperSchedules(%d, %v): want an error", bad.b, bad.epochs)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, s := range []Schedule{
		{PeakLR: 1, Epochs: 0},
		{PeakLR: 1, Epochs: 5, WarmupEpochs: -1},
		{PeakLR: -1, Epochs: 5},
		{PeakLR: math.NaN(), Epochs: 5},
		{PeakLR: 1, FinalLR: math.Inf(1), Epochs: 5},
		{PeakLR: 1, Epochs: 5, Warmup: WarmupMode(7)},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: want an error", s)
		}
	}
}
