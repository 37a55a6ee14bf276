package plots

import (
	"image/color"
	"sync"

	"github.com/lucasb-eyer/go-colorful"
)

// tab10 is matplotlib's default qualitative palette ("tab10", from Tableau),
// which readers of t-SNE/t-SimCNE figures know from the Python tools.
var tab10 = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
}

// maxPalette is the number of distinct colours Palette generates; beyond it
// colours repeat.
const maxPalette = 256

var (
	paletteMu  sync.Mutex
	paletteExt []color.NRGBA // tab10 followed by the greedy extension, grown on demand
)

// Palette returns n colours for n classes: tab10 for the first 10, then
// colours chosen greedily to be as different as possible (largest minimum
// CIEDE2000 distance in CIELAB) from all colours chosen before, in the
// manner of Glasbey et al. (2007), avoiding colours too close to the white
// background or too dark to tell apart. The result is deterministic, and
// Palette(m) is a prefix of Palette(n) for m < n, so class colours do not
// change when classes are added. Beyond 256 colours the palette repeats.
//
// No palette makes 100 classes easy to tell apart; for CIFAR-100 colour by
// the 20 superclasses as well (Dataset.CoarseLabels, CoarseClassNames).
func Palette(n int) []color.Color {
	cols := paletteNRGBA(n)
	out := make([]color.Color, n)
	for i, c := range cols {
		out[i] = c
	}
	return out
}

// paletteNRGBA is Palette with concrete colours.
func paletteNRGBA(n int) []color.NRGBA {
	paletteMu.Lock()
	defer paletteMu.Unlock()
	if len(paletteExt) < min(n, maxPalette) {
		paletteExt = extendPalette(min(max(n, 32), maxPalette))
	}
	out := make([]color.NRGBA, n)
	for i := range out {
		out[i] = paletteExt[i%len(paletteExt)]
	}
	return out
}

// extendPalette returns tab10 extended to n colours by greedy max-min
// selection over a 16×16×16 RGB grid. We write the selection ourselves (a
// few lines) and use go-colorful for the colour science.
func extendPalette(n int) []color.NRGBA {
	out := append([]color.NRGBA(nil), tab10...)
	if n <= len(out) {
		return out[:n]
	}
	type cand struct {
		rgb  color.NRGBA
		c    colorful.Color
		dmin float64
	}
	var cands []cand
	whiteC := colorful.Color{R: 1, G: 1, B: 1}
	for r := 0; r < 16; r++ {
		for g := 0; g < 16; g++ {
			for b := 0; b < 16; b++ {
				rgb := color.NRGBA{uint8(r * 17), uint8(g * 17), uint8(b * 17), 255}
				c, _ := colorful.MakeColor(rgb)
				l, _, _ := c.Lab()
				if l < 0.30 || l > 0.85 || c.DistanceCIEDE2000(whiteC) < 0.2 { // too dark to tell apart, or too pale on white
					continue
				}
				cands = append(cands, cand{rgb: rgb, c: c, dmin: 1e9})
			}
		}
	}
	update := func(chosen color.NRGBA) {
		cc, _ := colorful.MakeColor(chosen)
		for i := range cands {
			if d := cands[i].c.DistanceCIEDE2000(cc); d < cands[i].dmin {
				cands[i].dmin = d
			}
		}
	}
	// Also keep away from white and black, so that no colour vanishes.
	update(color.NRGBA{255, 255, 255, 255})
	update(color.NRGBA{0, 0, 0, 255})
	for _, c := range out {
		update(c)
	}
	for len(out) < n {
		best := 0
		for i := range cands {
			if cands[i].dmin > cands[best].dmin {
				best = i
			}
		}
		out = append(out, cands[best].rgb)
		update(cands[best].rgb)
	}
	return out
}

// classColors returns the colours for k classes under c (the user's palette
// or Palette(k)).
func (c *config) classColors(k int) []color.NRGBA {
	if len(c.palette) == 0 {
		return paletteNRGBA(max(k, 1))
	}
	out := make([]color.NRGBA, max(k, 1))
	for i := range out {
		out[i] = color.NRGBAModel.Convert(c.palette[i%len(c.palette)]).(color.NRGBA)
	}
	return out
}

// unlabelledColor is the colour of points without labels (tab10 blue).
var unlabelledColor = tab10[0]
