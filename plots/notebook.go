package plots

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// InNotebook reports whether the program runs in a GoNB notebook cell, where
// Display shows figures inline (it is gonbui.IsNotebook).
func InNotebook() bool { return gonbui.IsNotebook }

// Display shows the figure in the notebook cell as a PNG (at Scale pixel
// density, displayed at Size) and returns "" once GoNB has it (gonbui.Sync:
// a cell whose program ends right after could otherwise lose the picture).
// Outside a notebook it writes
// the figure to the OutputPath given when it was made (PNG, or SVG for a
// ".svg" name), or else to a new PNG file in the temporary directory, prints
// where, and returns the path.
func (f *Figure) Display() (string, error) {
	if gonbui.IsNotebook {
		if f.scale == 1 {
			png, err := f.PNG()
			if err != nil {
				return "", err
			}
			gonbui.DisplayPNG(png)
		} else {
			html, err := f.imgHTML()
			if err != nil {
				return "", err
			}
			gonbui.DisplayHTML(html)
		}
		gonbui.Sync()
		return "", nil
	}
	path, err := outputFile(f.outputPath, "tsimcne-"+f.kind+"-*.png")
	if err != nil {
		return "", err
	}
	if err := f.Save(path); err != nil {
		return "", err
	}
	fmt.Printf("plots: %s written to %s\n", f.kind, path)
	return path, nil
}

// DisplaySVG shows the figure in the notebook cell as SVG (vector, but heavy
// for tens of thousands of points; Display's PNG is lighter) and returns "".
// Outside a notebook it writes an SVG file like Display.
func (f *Figure) DisplaySVG() (string, error) {
	if gonbui.IsNotebook {
		svg, err := f.SVG()
		if err != nil {
			return "", err
		}
		// Drop the XML declaration: the SVG goes inside the notebook's HTML.
		s := string(svg)
		if i := strings.Index(s, "<svg"); i > 0 {
			s = s[i:]
		}
		gonbui.DisplaySVG(s)
		gonbui.Sync()
		return "", nil
	}
	path := f.outputPath
	if path == "" || !strings.EqualFold(filepath.Ext(path), ".svg") {
		var err error
		if path, err = outputFile("", "tsimcne-"+f.kind+"-*.svg"); err != nil {
			return "", err
		}
	}
	if err := f.Save(path); err != nil {
		return "", err
	}
	fmt.Printf("plots: %s written to %s\n", f.kind, path)
	return path, nil
}

// Display shows the page in the notebook cell inside an iframe (see IFrame)
// and returns "". Outside a notebook it writes the page to the OutputPath
// given when it was made, or else to a new .html file in the temporary
// directory, prints where (open it in a browser), and returns the path.
func (p *Page) Display() (string, error) {
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(p.IFrame())
		gonbui.Sync()
		return "", nil
	}
	path, err := outputFile(p.outputPath, "tsimcne-map-*.html")
	if err != nil {
		return "", err
	}
	if err := p.Save(path); err != nil {
		return "", err
	}
	fmt.Printf("plots: interactive map written to %s\n", path)
	return path, nil
}

// outputFile returns path, or the name of a new file in the temporary
// directory made from pattern.
func outputFile(path, pattern string) (string, error) {
	if path != "" {
		return path, nil
	}
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("plots: creating output file: %w", err)
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("plots: creating output file: %w", err)
	}
	return name, nil
}

// ShowMap draws Map and displays it (see Figure.Display).
func ShowMap(xy []float32, labels []int, classNames []string, opts ...Option) (string, error) {
	f, err := Map(xy, labels, classNames, opts...)
	if err != nil {
		return "", err
	}
	return f.Display()
}

// ShowThumbnails draws Thumbnails and displays it (see Figure.Display).
func ShowThumbnails(xy []float32, labels []int, classNames []string, opts ...Option) (string, error) {
	f, err := Thumbnails(xy, labels, classNames, opts...)
	if err != nil {
		return "", err
	}
	return f.Display()
}

// ShowOutliers finds the TopN outliers (FindOutliers), displays the map with
// them ringed and numbered and, when the Images option is given, the
// OutlierGallery below it. It returns the outliers and the paths written
// outside a notebook.
func ShowOutliers(xy []float32, labels []int, classNames []string, opts ...Option) ([]Outlier, []string, error) {
	outliers, err := FindOutliers(xy, labels, opts...)
	if err != nil {
		return nil, nil, err
	}
	c := newConfig(opts)
	mapOpts := append(append([]Option(nil), opts...), HighlightOutliers(outliers))
	var paths []string
	if c.outputPath != "" {
		ext := filepath.Ext(c.outputPath)
		base := strings.TrimSuffix(c.outputPath, ext)
		mapOpts = append(mapOpts, OutputPath(base+"-map"+ext))
		opts = append(append([]Option(nil), opts...), OutputPath(base+"-gallery"+ext))
	}
	m, err := Map(xy, labels, classNames, mapOpts...)
	if err != nil {
		return nil, nil, err
	}
	path, err := m.Display()
	if err != nil {
		return nil, nil, err
	}
	if path != "" {
		paths = append(paths, path)
	}
	if c.images != nil {
		g, err := OutlierGallery(outliers, classNames, opts...)
		if err != nil {
			return nil, nil, err
		}
		if path, err = g.Display(); err != nil {
			return nil, nil, err
		}
		if path != "" {
			paths = append(paths, path)
		}
	}
	return outliers, paths, nil
}

// ShowInteractive builds the Interactive page and displays it (see
// Page.Display).
func ShowInteractive(xy []float32, labels []int, classNames []string, opts ...Option) (string, error) {
	p, err := Interactive(xy, labels, classNames, opts...)
	if err != nil {
		return "", err
	}
	return p.Display()
}

// Live is a picture that a notebook cell redraws in place, e.g. a training
// view updated every epoch (GoNB's updatable display blocks). Outside a
// notebook Update does nothing and Finish displays the last figure as
// Figure.Display does.
type Live struct {
	id      string
	updated bool
}

// NewLive returns a live picture; nothing is shown before the first Update.
func NewLive() *Live { return &Live{id: "tsimcne-live-" + gonbui.UniqueID()} }

// Update replaces the live picture by f (as a PNG at f's Scale).
func (l *Live) Update(f *Figure) error {
	if !gonbui.IsNotebook {
		return nil
	}
	html, err := f.imgHTML()
	if err != nil {
		return err
	}
	gonbui.UpdateHTML(l.id, html)
	gonbui.Sync()
	l.updated = true
	return nil
}

// Finish removes the live picture and displays f as an ordinary, static
// output of the cell (Figure.Display), which a saved notebook keeps (GoNB's
// updatable blocks are transient). f may be nil to only remove it.
func (l *Live) Finish(f *Figure) (string, error) {
	if gonbui.IsNotebook && l.updated {
		gonbui.UpdateHTML(l.id, "")
		gonbui.Sync()
		l.updated = false
	}
	if f == nil {
		return "", nil
	}
	return f.Display()
}

// imgHTML returns f as an <img> element holding its PNG, displayed at f's
// size in CSS pixels.
func (f *Figure) imgHTML() (string, error) {
	png, err := f.PNG()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`<img width="%d" height="%d" src="data:image/png;base64,%s">`,
		int(f.width+0.5), int(f.height+0.5), base64.StdEncoding.EncodeToString(png)), nil
}
