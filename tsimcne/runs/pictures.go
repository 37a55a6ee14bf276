package runs

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

// Picture files of a run folder (WritePictures).
const (
	// MapPNG and MapSVG are the map, coloured by class.
	MapPNG = "map.png"
	MapSVG = "map.svg"
	// ThumbnailsPNG is the map drawn with thumbnails of the images.
	ThumbnailsPNG = "thumbnails.png"
	// OutliersPNG is a gallery of the outliers' images, OutliersMapPNG the
	// map with the outliers marked.
	OutliersPNG    = "outliers.png"
	OutliersMapPNG = "outliers_map.png"
	// OutliersCSV lists the outliers: rank, index in the map, source file
	// (image folders), class, the neighbours' majority class and votes,
	// score and map position.
	OutliersCSV = "outliers.csv"
	// MapHTML is the interactive map (pan, zoom, hover thumbnails).
	MapHTML = "map.html"
	// MapFilesDir holds the interactive map's thumbnail sheets when there
	// are more than ThumbnailFilesAbove images (plots.ThumbnailFolder).
	MapFilesDir = "map_files"
	// HistoryPNG is the training curves: loss and learning rate per epoch.
	HistoryPNG = "history.png"
)

// DefaultOutliers is the number of outliers the pictures show when
// Pictures.Outliers is 0.
const DefaultOutliers = 20

// Pictures is what the pictures of a run show.
type Pictures struct {
	// Map is the 2-D embedding, with labels and class names if any; nil
	// draws the history alone.
	Map *embedding.Embedding
	// Images are the map's images in the same order, or nil (then no
	// thumbnails and no outlier gallery).
	Images *data.Dataset
	// Title heads the map.
	Title string
	// Outliers is how many outliers to show (0: DefaultOutliers).
	Outliers int
	// History is the run's per-epoch history, drawn as history.png when
	// not empty.
	History []tsimcne.EpochStats
	// Scale is the pixel density of the PNG pictures (plots.Scale; 0 or 1:
	// one pixel per layout pixel).
	Scale float64
}

// MapTitle is the title of the map of n images of dataset, with its kNN
// accuracy when accuracy is not nil.
func MapTitle(dataset string, n int, accuracy *float64) string {
	title := fmt.Sprintf("t-SimCNE map of %s (%d images)", Title(dataset), n)
	if accuracy != nil {
		title += fmt.Sprintf(", kNN accuracy %.3f", *accuracy)
	}
	return title
}

// RunPictures returns the pictures of a trained run: the map of the train
// and test images together (Result.Map, Images.Both), titled with the data
// set and the kNN accuracy, and the history. When the map is not 2-D
// (stages 2 and 3 were not trained) there are no map pictures: only the
// history.
func RunPictures(dataset string, im *Images, r *Result, history []tsimcne.EpochStats) (Pictures, error) {
	if r.TrainMap.Dim != 2 {
		return Pictures{History: history}, nil
	}
	m, err := r.Map()
	if err != nil {
		return Pictures{}, err
	}
	images, err := im.Both()
	if err != nil {
		return Pictures{}, err
	}
	var acc *float64
	if r.KNN != nil {
		acc = &r.KNN.MapAccuracy
	}
	return Pictures{Map: m, Images: images, Title: MapTitle(dataset, m.N, acc), History: history}, nil
}

// ThumbnailFilesAbove is the number of images above which map.html loads
// its hover thumbnails from files in MapFilesDir instead of embedding them
// (about 28 MB of page at 100 000 images; 280 MB at a million).
const ThumbnailFilesAbove = 100_000

// thumbnailFilesAbove is ThumbnailFilesAbove, lowered by tests.
var thumbnailFilesAbove = ThumbnailFilesAbove

// WritePictures draws history.png (given a history), map.png, map.svg,
// thumbnails.png, outliers.png, outliers_map.png, outliers.csv and map.html (given a map;
// thumbnails.png and outliers.png given images too; with more than
// ThumbnailFilesAbove images, map.html's thumbnails go into the folder
// MapFilesDir beside it) into dir and returns the files (and folder)
// written, also when it fails part way.
func WritePictures(dir string, in Pictures) ([]string, error) {
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
		fig, err := plots.History(in.History, plots.Size(800, 500), plots.Scale(in.Scale))
		if err != nil {
			return written, fmt.Errorf("drawing the training history: %w", err)
		}
		if err := save(HistoryPNG, fig.Save); err != nil {
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
	common := []plots.Option{plots.Scale(in.Scale)}
	if in.Images != nil && in.Images.CoarseLabels != nil && m.Labels != nil {
		// CIFAR-100: shades of the 20 superclass colours.
		common = append(common, plots.Superclasses(in.Images.CoarseLabels, in.Images.CoarseClassNames))
	}
	with := func(extra ...plots.Option) []plots.Option { return append(slices.Clip(common), extra...) }
	if err := drawMaps(in, with, save); err != nil {
		return written, err
	}
	return written, nil
}

// drawMaps draws the map pictures of WritePictures: with adds the options
// common to all, save saves a picture under a name.
func drawMaps(in Pictures, with func(...plots.Option) []plots.Option, save func(string, func(string) error) error) error {
	xy, labels, names := in.Map.Points, in.Map.Labels, in.Map.ClassNames
	fig, err := plots.Map(xy, labels, names, with(plots.Title(in.Title), plots.Size(800, 600))...)
	if err != nil {
		return fmt.Errorf("drawing the map: %w", err)
	}
	if err := save(MapPNG, fig.Save); err != nil {
		return err
	}
	if err := save(MapSVG, fig.Save); err != nil {
		return err
	}
	if in.Images != nil {
		th, err := plots.Thumbnails(xy, labels, names, with(plots.Images(in.Images),
			plots.Title(in.Title+": thumbnails"), plots.Size(900, 760), plots.Grid(22))...)
		if err != nil {
			return fmt.Errorf("drawing the thumbnails: %w", err)
		}
		if err := save(ThumbnailsPNG, th.Save); err != nil {
			return err
		}
	}
	top := in.Outliers
	if top <= 0 {
		top = DefaultOutliers
	}
	outliers, err := plots.FindOutliers(xy, labels, plots.TopN(min(top, in.Map.N)))
	if err != nil {
		return fmt.Errorf("finding outliers: %w", err)
	}
	if err := save(OutliersCSV, func(p string) error { return writeOutliersCSV(p, outliers, names, in.Images) }); err != nil {
		return err
	}
	if in.Images != nil {
		g, err := plots.OutlierGallery(outliers, names, with(plots.Images(in.Images), plots.Size(800, 0))...)
		if err != nil {
			return fmt.Errorf("drawing the outliers: %w", err)
		}
		if err := save(OutliersPNG, g.Save); err != nil {
			return err
		}
	}
	what := "label disagreement with map neighbours"
	if labels == nil {
		what = "relative distance to map neighbours"
	}
	om, err := plots.Map(xy, labels, names, with(plots.HighlightOutliers(outliers),
		plots.Title(fmt.Sprintf("Top %d outliers on the map (%s)", len(outliers), what)), plots.Size(800, 600))...)
	if err != nil {
		return fmt.Errorf("drawing the outliers map: %w", err)
	}
	if err := save(OutliersMapPNG, om.Save); err != nil {
		return err
	}
	pageOpts := with(plots.Title(in.Title), plots.HighlightOutliers(outliers))
	if in.Images != nil {
		pageOpts = append(pageOpts, plots.Images(in.Images))
		if in.Images.Files != nil {
			pageOpts = append(pageOpts, plots.PointNames(relativeNames(in.Images.Files)))
		}
		if in.Images.N > thumbnailFilesAbove {
			var filesDir string
			if err := save(MapFilesDir, func(p string) error { filesDir = p; return os.MkdirAll(p, 0o755) }); err != nil {
				return err
			}
			pageOpts = append(pageOpts, plots.ThumbnailFolder(filesDir, MapFilesDir))
		}
	}
	page, err := plots.Interactive(xy, labels, names, pageOpts...)
	if err != nil {
		return fmt.Errorf("making the interactive page: %w", err)
	}
	return save(MapHTML, page.Save)
}

// writeOutliersCSV writes OutliersCSV: one row per outlier, most outlying
// first, with the source file of its image where images has files.
func writeOutliersCSV(path string, outliers []plots.Outlier, classNames []string, images *data.Dataset) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"rank", "index", "file", "class", "neighbours_class", "neighbour_votes", "k", "score", "x", "y"})
	class := func(l int) string {
		if l >= 0 && l < len(classNames) {
			return classNames[l]
		}
		return ""
	}
	for _, o := range outliers {
		file := ""
		if images != nil && o.Index < len(images.Files) {
			file = images.Files[o.Index]
		}
		w.Write([]string{strconv.Itoa(o.Rank), strconv.Itoa(o.Index), file, class(o.Label), class(o.NeighborLabel),
			strconv.Itoa(o.NeighborVotes), strconv.Itoa(o.K), strconv.FormatFloat(o.Score, 'g', 6, 64),
			strconv.FormatFloat(float64(o.X), 'g', 7, 32), strconv.FormatFloat(float64(o.Y), 'g', 7, 32)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// relativeNames returns files relative to the deepest folder that holds
// them all (slash-separated), e.g. "cats/img1.jpg" for the images of a
// folder with class sub-folders: the names the interactive page shows.
func relativeNames(files []string) []string {
	if len(files) == 0 {
		return nil
	}
	common := filepath.Dir(files[0])
	for _, f := range files[1:] {
		for common != "." && common != string(filepath.Separator) && !strings.HasPrefix(f, common+string(filepath.Separator)) {
			common = filepath.Dir(common)
		}
	}
	out := make([]string, len(files))
	for i, f := range files {
		if rel, err := filepath.Rel(common, f); err == nil && common != "." {
			f = rel
		}
		out[i] = filepath.ToSlash(f)
	}
	return out
}
