package plots

import (
	"image/color"
	"testing"

	"github.com/lucasb-eyer/go-colorful"
)

func TestPalette(t *testing.T) {
	p100 := Palette(100)
	if len(p100) != 100 {
		t.Fatalf("Palette(100) has %d colours", len(p100))
	}
	for i, c := range tab10 {
		if p100[i] != c {
			t.Errorf("colour %d is %v, want tab10 %v", i, p100[i], c)
		}
	}
	p20 := Palette(20)
	for i := range p20 {
		if p20[i] != p100[i] {
			t.Errorf("Palette(20)[%d] = %v differs from Palette(100)[%d] = %v", i, p20[i], i, p100[i])
		}
	}
	// All 100 colours distinct and visible on white: minimum CIEDE2000
	// distance between any two, and to white.
	minD := 100.0
	wh, _ := colorful.MakeColor(color.White)
	for i := range p100 {
		ci, _ := colorful.MakeColor(p100[i])
		if d := ci.DistanceCIEDE2000(wh); d < 0.2 {
			t.Errorf("colour %d %v is too close to white (ΔE %.3f)", i, p100[i], d)
		}
		for j := i + 1; j < len(p100); j++ {
			cj, _ := colorful.MakeColor(p100[j])
			minD = min(minD, ci.DistanceCIEDE2000(cj))
		}
	}
	if minD < 0.04 {
		t.Errorf("closest two of 100 colours are ΔE %.3f apart, want >= 0.04", minD)
	}
	t.Logf("100-colour palette: minimum pairwise CIEDE2000 %.3f", minD)
}

func TestColorsOption(t *testing.T) {
	c := newConfig([]Option{Colors([]color.Color{color.Black, color.White})})
	got := c.classColors(3)
	if got[0] != (color.NRGBA{0, 0, 0, 255}) || got[2] != got[0] || got[1] != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("custom colours not cycled: %v", got)
	}
}
