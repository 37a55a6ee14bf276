package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

// Picture files of a run folder.
const (
	mapPNG         = "map.png"
	mapSVG         = "map.svg"
	thumbnailsPNG  = "thumbnails.png"
	outliersPNG    = "outliers.png"
	outliersMapPNG = "outliers_map.png"
	mapHTML        = "map.html"
	historyPNG     = "history.png"
)

// pictureInput is what the pictures show.
type pictureInput struct {
	// Map is the 2-D embedding, with labels and class names if any.
	Map *embedding.Embedding
	// Images are the map's images in the same order, or nil (then no
	// thumbnails and no outlier gallery).
	Images *data.Dataset
	// Title heads the map.
	Title string
	// Outliers is how many outliers to show (default 20).
	Outliers int
	// History is the run's per-epoch history, drawn as history.png when
	// not empty.
	History []tsimcne.EpochStats
}

// writePictures draws history.png (given a history), map.png, map.svg,
// thumbnails.png, outliers.png, outliers_map.png and map.html (given a map)
// into dir and returns the files written.
func writePictures(e *env, dir string, in pictureInput) ([]string, error) {
	var written []string
	save := func(name string, save func(string) error) error {
		p := filepath.Join(dir, name)
		if err := save(p); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		written = append(written, p)
		return nil
	}
	if len(in.History) > 0 {
		fig, err := plots.History(in.History, plots.Size(800, 500))
		if err != nil {
			return written, fmt.Errorf("drawing the training history: %w", err)
		}
		if err := save(historyPNG, fig.Save); err != nil {
			return written, err
		}
	}
	m := in.Map
	if m == nil {
		return written, nil
	}
	if m.Dim != 2 {
		return nil, fmt.Errorf("the map is %d-D; pictures need a 2-D map (train stages 2 and 3)", m.Dim)
	}
	if m.N < 2 {
		return nil, fmt.Errorf("the map has %d points; pictures need at least 2", m.N)
	}
	if in.Images != nil && in.Images.N != m.N {
		return nil, fmt.Errorf("%d images for %d map points", in.Images.N, m.N)
	}
	xy, labels, names := m.Points, m.Labels, m.ClassNames
	var common []plots.Option
	if in.Images != nil && in.Images.CoarseLabels != nil && labels != nil {
		// CIFAR-100: shades of the 20 superclass colours.
		common = append(common, plots.Superclasses(in.Images.CoarseLabels, in.Images.CoarseClassNames))
	}
	with := func(extra ...plots.Option) []plots.Option { return append(slices.Clip(common), extra...) }

	fig, err := plots.Map(xy, labels, names, with(plots.Title(in.Title), plots.Size(800, 600))...)
	if err != nil {
		return written, fmt.Errorf("drawing the map: %w", err)
	}
	if err := save(mapPNG, fig.Save); err != nil {
		return written, err
	}
	if err := save(mapSVG, fig.Save); err != nil {
		return written, err
	}

	if in.Images != nil {
		th, err := plots.Thumbnails(xy, labels, names, with(plots.Images(in.Images),
			plots.Title(in.Title+": thumbnails"), plots.Size(900, 760), plots.Grid(22))...)
		if err != nil {
			return written, fmt.Errorf("drawing the thumbnails: %w", err)
		}
		if err := save(thumbnailsPNG, th.Save); err != nil {
			return written, err
		}
	}

	top := in.Outliers
	if top <= 0 {
		top = 20
	}
	outliers, err := plots.FindOutliers(xy, labels, plots.TopN(min(top, m.N)))
	if err != nil {
		return written, fmt.Errorf("finding outliers: %w", err)
	}
	if in.Images != nil {
		g, err := plots.OutlierGallery(outliers, names, with(plots.Images(in.Images), plots.Size(800, 0))...)
		if err != nil {
			return written, fmt.Errorf("drawing the outliers: %w", err)
		}
		if err := save(outliersPNG, g.Save); err != nil {
			return written, err
		}
	}
	what := "label disagreement with map neighbours"
	if labels == nil {
		what = "relative distance to map neighbours"
	}
	om, err := plots.Map(xy, labels, names, with(plots.HighlightOutliers(outliers),
		plots.Title(fmt.Sprintf("Top %d outliers on the map (%s)", len(outliers), what)), plots.Size(800, 600))...)
	if err != nil {
		return written, fmt.Errorf("drawing the outliers map: %w", err)
	}
	if err := save(outliersMapPNG, om.Save); err != nil {
		return written, err
	}

	pageOpts := with(plots.Title(in.Title), plots.HighlightOutliers(outliers))
	if in.Images != nil {
		pageOpts = append(pageOpts, plots.Images(in.Images))
	}
	page, err := plots.Interactive(xy, labels, names, pageOpts...)
	if err != nil {
		return written, fmt.Errorf("making the interactive page: %w", err)
	}
	if err := save(mapHTML, page.Save); err != nil {
		return written, err
	}
	return written, nil
}

// describeFiles returns "name (size)" for each file, for the final report.
func describeFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		s := filepath.Base(p)
		if fi, err := os.Stat(p); err == nil {
			s += " (" + humanSize(fi.Size()) + ")"
		}
		out = append(out, s)
	}
	return out
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
