// Package plots draws what users look at for a 2-D embedding (a t-SimCNE
// map): the map itself, the map with image thumbnails, outliers, and an
// interactive page, as PNG, SVG or self-contained HTML, inline in a GoNB
// notebook or written to files.
//
// Every plot takes the embedding as flat row-major [N,2] data (x0, y0, x1,
// y1, ...: the flat data of a GoMLX [N,2] tensor), optional labels (nil for
// unlabelled collections) and class names, and functional options:
//
//	fig, err := plots.Map(xy, ds.Labels, ds.ClassNames, plots.Title("CIFAR-10"))
//	fig.Save("map.png")                  // or "map.svg"; fig.Display() in a notebook
//	fig, err = plots.Thumbnails(xy, ds.Labels, ds.ClassNames, plots.Images(ds))
//	out, err := plots.FindOutliers(xy, ds.Labels, plots.TopN(20))
//	fig, err = plots.OutlierGallery(out, ds.ClassNames, plots.Images(ds))
//	fig, err = plots.Map(xy, ds.Labels, ds.ClassNames, plots.HighlightOutliers(out))
//	page, err := plots.Interactive(xy, ds.Labels, ds.ClassNames, plots.Images(ds))
//
// History draws a run's training curves (loss and learning rate per epoch)
// from tsimcne's Model.History or a run's history.json (read with
// history.Read, package tsimcne/history). This package does not link GoMLX:
// drawing from files needs no training code.
//
// In a notebook, ShowMap, ShowThumbnails, ShowOutliers, ShowInteractive and
// ShowHistory draw and display in one call; outside a notebook they write a file (the
// OutputPath option, or a temporary file) and print where.
//
// For CIFAR-100, colour by the 20 superclasses by passing
// Dataset.CoarseLabels and Dataset.CoarseClassNames as labels and names; the
// 100 fine classes get the colours of Palette(100) and a multi-column legend.
//
// Drawing: PNGs are rendered with gonum.org/v1/plot's vg/vgimg canvas and
// its Liberation fonts; the SVG writer is our own, compact one (one <circle>
// per point, grouped by class; see Figure). The interactive page's script is
// hand-written (interactive.js, embedded) and refers to nothing outside the
// page. Outlier scores use map neighbours from the project's k-d tree
// (tsimcne/knn); see OutlierLabel and OutlierDensity for the formulas.
//
// The example pictures in docs/img are made by ./internal/examples from the
// CIFAR-10 test set and the map of `make demo` (see there; run
// `go generate ./plots` from the repository root after `make demo`: it
// first embeds the test set in file order, since the run's own
// embedding_test holds its held-out images).
package plots

//go:generate go run ../cmd/tsimcne embed -run ../runs/cifar10-cpu -split test -out ../runs/cifar10-cpu/embedding_testbatch.npy
//go:generate go run ./internal/examples -out ../docs/img -embedding ../runs/cifar10-cpu/embedding_testbatch.npy -caption "t-SimCNE, cpu preset" -history ../runs/cifar10-cpu/history.json
