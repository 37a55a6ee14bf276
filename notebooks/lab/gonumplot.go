package lab

import (
	"bytes"
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// PlotsPNG draws gonum plots side by side, aligned, in one PNG of widthPx
// × heightPx pixels (curves such as kernels or loss histories; package
// plots draws the maps). Their text is set in Liberation Sans, the font
// of package plots (gonum's default is the serif), so that a notebook's
// figures share one font family.
func PlotsPNG(widthPx, heightPx int, ps ...*plot.Plot) ([]byte, error) {
	if len(ps) == 0 || widthPx <= 0 || heightPx <= 0 {
		return nil, fmt.Errorf("lab: PlotsPNG of %d plots at %dx%d", len(ps), widthPx, heightPx)
	}
	for _, p := range ps {
		sans(p)
	}
	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / 96 }
	c := vgimg.NewWith(vgimg.UseWH(px(widthPx), px(heightPx)), vgimg.UseDPI(96))
	tiles := draw.Tiles{Rows: 1, Cols: len(ps), PadX: vg.Millimeter * 8, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{ps}, tiles, draw.New(c))
	for i, p := range ps {
		p.Draw(canvases[0][i])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("lab: PlotsPNG: %w", err)
	}
	return buf.Bytes(), nil
}

// ShowPlots displays PlotsPNG in the notebook cell (outside a notebook it
// does nothing).
func ShowPlots(widthPx, heightPx int, ps ...*plot.Plot) {
	png := Must(PlotsPNG(widthPx, heightPx, ps...))
	gonbui.DisplayPNG(png)
	gonbui.Sync()
}

// sans sets every text of p in the sans-serif variant of its typeface.
func sans(p *plot.Plot) {
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
}
