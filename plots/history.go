package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gosimcne/gosimcne/tsimcne/history"
)

// stageNames label the three stages of t-SimCNE in the history's legend:
// "stage s: " and history.StageNames (stage 1's width is not in the
// history: 128 in the paper, 32 in the quick preset).
var stageNames = func() (names [3]string) {
	for s, n := range history.StageNames {
		names[s] = fmt.Sprintf("stage %d: %s", s+1, n)
	}
	return names
}()

// legendNames returns the legend's stage names for epochs: stageNames, or
// for the annealed schedule (epochs with a Dim) its output widths.
func legendNames(epochs []history.EpochStats) [3]string {
	names := stageNames
	first, last := 0, 0
	for _, e := range epochs {
		if e.Stage == 1 && e.Dim > 0 {
			if first == 0 {
				first = e.Dim
			}
			last = e.Dim
		}
	}
	if first > 0 {
		names[0] = fmt.Sprintf("annealed: output width %d → %d", first, last)
	}
	return names
}

// stageColors are the first three colours of Palette.
var stageColors = func() (c [3]color.Color) {
	copy(c[:], Palette(3))
	return c
}()

// History draws the training curves of a run from its per-epoch history
// (tsimcne's Model.History, or a run folder's history.json read with
// history.Read or tsimcne.ReadHistory): the mean training loss of each
// epoch (top) and the learning rate (bottom, log scale), against the epoch
// counted over all stages, one colour per stage. The title (Title, or a default) gives the
// number of epochs and the median seconds per epoch.
//
// The curves are drawn with gonum.org/v1/plot; the Figure saves them as PNG
// or SVG (vector) and shows them in a notebook like the other plots. Options
// used: Size, Scale, Title, FontSize, Background, OutputPath.
func History(epochs []history.EpochStats, opts ...Option) (*Figure, error) {
	if len(epochs) == 0 {
		return nil, fmt.Errorf("plots: History: no epochs")
	}
	c := newConfig(opts)
	var loss, lr [3]plotter.XYs
	secs := make([]float64, 0, len(epochs))
	for i, e := range epochs {
		if e.Stage < 1 || e.Stage > 3 {
			return nil, fmt.Errorf("plots: History: epoch %d has stage %d, want 1, 2 or 3", i, e.Stage)
		}
		x := float64(i + 1)
		if !math.IsNaN(e.Loss) && !math.IsInf(e.Loss, 0) {
			loss[e.Stage-1] = append(loss[e.Stage-1], plotter.XY{X: x, Y: e.Loss})
		}
		if e.LearningRate > 0 && !math.IsInf(e.LearningRate, 0) {
			// Log scale: the warm-up's first epoch (rate 0) has no point.
			lr[e.Stage-1] = append(lr[e.Stage-1], plotter.XY{X: x, Y: e.LearningRate})
		}
		secs = append(secs, e.Seconds)
	}
	title := c.title
	if title == "" {
		slices.Sort(secs)
		title = fmt.Sprintf("Training: %d epochs, median %s per epoch", len(epochs),
			time.Duration(secs[len(secs)/2]*float64(time.Second)).Round(100*time.Millisecond))
	}

	face := func(size float64) font.Font {
		return font.Font{Typeface: "Liberation", Variant: "Sans", Size: font.Points(size)}
	}
	small := face(c.fontSize * 0.9)
	newPlot := func(ylabel string) *plot.Plot {
		p := plot.New()
		p.BackgroundColor = c.background
		p.Y.Label.Text = ylabel
		for _, ts := range []*font.Font{&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font} {
			*ts = face(c.fontSize)
		}
		p.X.Tick.Label.Font, p.Y.Tick.Label.Font = small, small
		p.Legend.TextStyle.Font = small
		p.X.Min, p.X.Max = 0.5, float64(len(epochs))+0.5
		return p
	}
	top := newPlot("loss (mean over the epoch)")
	top.Title.Text = title
	top.Title.TextStyle.Font = face(c.fontSize * 1.15)
	top.Title.Padding = vg.Points(6)
	top.Legend.Top = true
	bottom := newPlot("learning rate")
	bottom.X.Label.Text = "epoch (all stages)"
	bottom.Y.Scale = plot.LogScale{}
	bottom.Y.Tick.Marker = plot.LogTicks{Prec: -1}

	names := legendNames(epochs)
	addSeries := func(p *plot.Plot, xys plotter.XYs, s int, legend bool) error {
		if len(xys) == 0 {
			return nil
		}
		col := stageColors[s]
		var th plot.Thumbnailer
		if len(xys) <= 30 {
			// Few epochs: mark each, so a stage of one epoch shows too.
			l, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			l.Color, l.Width = col, vg.Points(1.5)
			pts.Color, pts.Shape, pts.Radius = col, draw.CircleGlyph{}, vg.Points(2)
			p.Add(l, pts)
			th = l
		} else {
			l, err := plotter.NewLine(xys)
			if err != nil {
				return err
			}
			l.Color, l.Width = col, vg.Points(1.5)
			p.Add(l)
			th = l
		}
		if legend {
			p.Legend.Add(names[s], th)
		}
		return nil
	}
	for s := range 3 {
		if err := addSeries(top, loss[s], s, true); err != nil {
			return nil, fmt.Errorf("plots: History: %w", err)
		}
		if err := addSeries(bottom, lr[s], s, false); err != nil {
			return nil, fmt.Errorf("plots: History: %w", err)
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xys := range lr {
		for _, p := range xys {
			lo, hi = min(lo, p.Y), max(hi, p.Y)
		}
	}
	if lo > hi {
		// No positive rate to draw: a linear axis (a log one cannot hold 0).
		bottom.Y.Scale, bottom.Y.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
	} else {
		// Set the range: gonum pads a single value by ±1, below 0.
		bottom.Y.Min, bottom.Y.Max = lo/1.5, hi*1.5
	}

	f := newFigure(c, "history")
	f.add(chartItem{x: 0, y: 0, w: f.width, h: f.height, draw: func(dc draw.Canvas) {
		tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
			PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(10)}
		cs := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
		top.Draw(cs[0][0])
		bottom.Draw(cs[1][0])
	}})
	return f, nil
}

// ShowHistory draws History and displays it (see Figure.Display).
func ShowHistory(epochs []history.EpochStats, opts ...Option) (string, error) {
	f, err := History(epochs, opts...)
	if err != nil {
		return "", err
	}
	return f.Display()
}
