package plots

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/history"
)

// fakeHistory is a run of the three stages: losses falling, a warm-up.
func fakeHistory(epochs [3]int) []history.EpochStats {
	var h []history.EpochStats
	for s, n := range epochs {
		for e := range n {
			h = append(h, history.EpochStats{Stage: s + 1, Epoch: e, Loss: 7 - float64(s) - float64(e)/float64(n),
				LearningRate: 0.1 * float64(e) / float64(n) / math.Pow(10, float64(s)), Seconds: 3 + float64(e%3)})
		}
	}
	return h
}

// TestHistory checks the training-curve figure: a PNG of the asked size
// whose curves carry the stage colours, a well-formed SVG with the stages in
// its legend and a nested chart in figure pixels, the default title, and
// errors for no epochs or a bad stage.
func TestHistory(t *testing.T) {
	h := fakeHistory([3]int{40, 3, 25})
	h[5].Loss = math.NaN() // skipped, not fatal
	fig, err := History(h, Size(500, 360))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fig.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 500 || b.Dy() != 360 {
		t.Fatalf("PNG is %v, want 500x360", b)
	}
	// Each stage's colour is drawn somewhere (its curve and legend entry).
	for s, col := range stageColors {
		r0, g0, b0, _ := col.RGBA()
		found := false
		for y := 0; y < 360 && !found; y++ {
			for x := 0; x < 500 && !found; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				found = r>>8 == r0>>8 && g>>8 == g0>>8 && b>>8 == b0>>8
			}
		}
		if !found {
			t.Errorf("stage %d's colour is not in the PNG", s+1)
		}
	}
	svg, err := fig.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Errorf("SVG does not parse: %v", err)
	}
	for _, want := range append(stageNames[:], "Training: 68 epochs, median 4s per epoch", "learning rate",
		`<svg x="0" y="0" width="500" height="360"`) {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if bytes.Contains(svg, []byte("NaN")) {
		t.Error("SVG has a NaN coordinate")
	}

	if _, err := History(nil); err == nil {
		t.Error("no epochs: want an error")
	}
	bad := fakeHistory([3]int{2, 0, 0})
	bad[1].Stage = 4
	if _, err := History(bad); err == nil || !strings.Contains(err.Error(), "stage 4") {
		t.Errorf("stage 4: error %v", err)
	}
	// One epoch at rate 0 (the warm-up's first), and one epoch at some
	// rate (a single value on the log axis): still figures.
	one := fakeHistory([3]int{1, 0, 0})
	nan := fakeHistory([3]int{3, 0, 0})
	for i := range nan {
		nan[i].Loss = math.NaN()
	}
	if f, err := History(nan); err != nil {
		t.Errorf("all losses NaN: %v", err)
	} else if _, err := f.SVG(); err != nil {
		t.Errorf("all losses NaN: %v", err)
	}
	for _, rate := range []float64{0, 0.03} {
		one[0].LearningRate = rate
		f, err := History(one)
		if err == nil {
			_, err = f.PNG()
		}
		if err != nil {
			t.Errorf("one epoch at rate %v: %v", rate, err)
		}
	}
}

func TestHistoryLegendNames(t *testing.T) {
	stages := []history.EpochStats{{Stage: 1}, {Stage: 2}, {Stage: 3}}
	if got := legendNames(stages); got != stageNames {
		t.Errorf("three stages: %q", got)
	}
	annealed := []history.EpochStats{{Stage: 1, Dim: 128}, {Stage: 1, Dim: 40}, {Stage: 1, Dim: 2}}
	if got := legendNames(annealed)[0]; got != "annealed: output width 128 → 2" {
		t.Errorf("annealed: %q", got)
	}
}
