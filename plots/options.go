package plots

import (
	"image/color"
	"strings"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// Option changes one setting of a plot. Options are applied in order, so a
// later option overrides an earlier one. Every plot in this package accepts
// the same options and ignores those that do not concern it.
type Option func(*config)

// config holds the settings shared by all plots. The zero value of a field
// means "choose automatically"; defaults() fills in the fixed defaults.
type config struct {
	width, height int     // figure size in CSS pixels
	scale         float64 // PNG pixels per CSS pixel
	title         string
	fontSize      float64
	sizeSet       bool // Size gave a width
	background    color.Color

	pointRadius float64 // 0: automatic
	alpha       float64 // 0: automatic
	palette     []color.Color
	legend      bool
	axes        bool
	scaleBar    bool
	seed        uint64

	images *data.Dataset

	// Superclasses.
	coarse      []int
	coarseNames []string

	// Thumbnails.
	gridCols       int
	gridColsSet    bool // Grid was given (ImageGrid's default is one row)
	thumbFrame     bool
	thumbMinPoints int

	// Outliers.
	k             int
	topN          int
	outlierMethod OutlierMethod
	galleryCols   int

	// Highlighted points (rings), with optional text next to each ring.
	highlight      []int
	highlightLabel []string

	// Interactive page.
	thumbSize    int
	thumbQuality int
	pointNames   []string
	thumbDir     string // ThumbnailFolder: sheets written here ...
	thumbURL     string // ... and referenced from the page by this path

	// Where Display writes its file outside a notebook ("" = temporary file).
	outputPath string
}

func newConfig(opts []Option) *config {
	c := &config{
		width:        800,
		height:       600,
		scale:        1,
		fontSize:     12,
		background:   color.White,
		legend:       true,
		seed:         1,
		gridCols:     20,
		thumbFrame:   true,
		k:            10,
		topN:         20,
		galleryCols:  5,
		thumbQuality: 80,
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

// Size sets the figure size in CSS pixels (default 800×600). For PNG output
// the image has Size×Scale pixels. The interactive page fills its window and
// uses Size only as the iframe size in a notebook.
func Size(width, height int) Option {
	return func(c *config) {
		if width > 0 {
			c.width, c.sizeSet = width, true
		}
		if height > 0 {
			c.height = height
		}
	}
}

// Scale sets the PNG pixel density (default 1): Scale(2) gives a PNG with
// twice as many pixels in each direction, crisp on high-density screens.
// It does not change the layout, nor the SVG.
func Scale(s float64) Option {
	return func(c *config) {
		if s > 0 {
			c.scale = s
		}
	}
}

// Title sets a title drawn above the plot (default none).
func Title(title string) Option { return func(c *config) { c.title = title } }

// FontSize sets the base font size in CSS pixels (default 12). The legend
// shrinks it when there are many classes.
func FontSize(px float64) Option {
	return func(c *config) {
		if px > 0 {
			c.fontSize = px
		}
	}
}

// Background sets the background colour (default white).
func Background(col color.Color) Option { return func(c *config) { c.background = col } }

// PointRadius sets the radius of a point in CSS pixels. The default (0)
// adapts it to the number of points and the plot area; see AutoPointStyle.
func PointRadius(px float64) Option { return func(c *config) { c.pointRadius = px } }

// Alpha sets the opacity of points in (0, 1]. The default (0) adapts it to
// the number of points; see AutoPointStyle.
func Alpha(a float64) Option { return func(c *config) { c.alpha = min(a, 1) } }

// Colors sets the colours used for classes, in label order; they are cycled
// when there are more classes than colours. The default is Palette(n): tab10
// for up to 10 classes, extended by maximally distinct colours for more.
func Colors(colors []color.Color) Option {
	return func(c *config) { c.palette = append([]color.Color(nil), colors...) }
}

// NoLegend hides the legend (shown by default when there are labels).
func NoLegend() Option { return func(c *config) { c.legend = false } }

// Axes draws a frame with tick labels in embedding coordinates around the
// map. By default there are no axes: the coordinates of a t-SimCNE map carry
// no meaning beyond distances.
func Axes() Option { return func(c *config) { c.axes = true } }

// ScaleBar draws a bar of a round length in the map's units under the
// data (Map, Thumbnails), so that maps drawn side by side, each fitted to
// its own box, can be compared in scale.
func ScaleBar() Option { return func(c *config) { c.scaleBar = true } }

// Seed sets the seed of the random drawing order of points (default 1), which
// keeps any one class from being drawn on top of all others.
func Seed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// Images gives the images of the embedded points, in the same order: image i
// belongs to point i. Thumbnails and OutlierGallery need them; Interactive
// shows them on hover when given.
func Images(ds *data.Dataset) Option { return func(c *config) { c.images = ds } }

// Grid sets the number of grid columns over the map for Thumbnails
// (default 20; the cells are square, so the number of rows follows) and of
// ImageGrid (default: all images in one row).
func Grid(cols int) Option {
	return func(c *config) {
		if cols > 0 {
			c.gridCols, c.gridColsSet = cols, true
		}
	}
}

// ThumbnailFrame sets whether Thumbnails draws a frame in the class colour
// around each image (default true; only when there are labels).
func ThumbnailFrame(on bool) Option { return func(c *config) { c.thumbFrame = on } }

// MinPoints sets how many points a grid cell must hold to get a thumbnail.
// The default (0) is max(2, N/2000), which skips cells with a few strays.
func MinPoints(n int) Option { return func(c *config) { c.thumbMinPoints = n } }

// K sets the number of map neighbours used by the outlier scores (default 10).
func K(k int) Option {
	return func(c *config) {
		if k > 0 {
			c.k = k
		}
	}
}

// TopN sets how many outliers FindOutliers returns (default 20).
func TopN(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.topN = n
		}
	}
}

// Method selects the outlier score (default OutlierAuto).
func Method(m OutlierMethod) Option { return func(c *config) { c.outlierMethod = m } }

// GalleryColumns sets the number of columns of OutlierGallery (default 5).
func GalleryColumns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.galleryCols = n
		}
	}
}

// Highlight draws a ring around each of the given points of a Map.
func Highlight(indices ...int) Option {
	return func(c *config) {
		c.highlight = append([]int(nil), indices...)
		c.highlightLabel = nil
	}
}

// HighlightOutliers rings the given outliers on a Map and writes each one's
// rank next to its ring, matching the numbers of OutlierGallery.
func HighlightOutliers(outliers []Outlier) Option {
	return func(c *config) {
		c.highlight, c.highlightLabel = nil, nil
		for _, o := range outliers {
			c.highlight = append(c.highlight, o.Index)
			c.highlightLabel = append(c.highlightLabel, itoa(o.Rank))
		}
	}
}

// ThumbnailSize sets the edge in pixels of the hover thumbnails embedded in
// the interactive page (default: the image size, at most 32, or 24 for more
// than 20 000 images). Smaller thumbnails make a smaller file; see
// Interactive for sizes.
func ThumbnailSize(px int) Option { return func(c *config) { c.thumbSize = px } }

// ThumbnailQuality sets the JPEG quality (1-100, default 80) of the hover
// thumbnails embedded in the interactive page.
func ThumbnailQuality(q int) Option {
	return func(c *config) {
		if q > 0 {
			c.thumbQuality = min(q, 100)
		}
	}
}

// PointNames gives each point of the interactive page a name shown in its
// hover tooltip, in the points' order: e.g. the images' source files, so
// that an outlier found on the map can be opened. The page embeds them
// (about their length in bytes each); with ThumbnailFolder they go into
// files there instead (names-NNNN.js, 4 096 names each), loaded when a
// point of theirs is hovered.
func PointNames(names []string) Option { return func(c *config) { c.pointNames = names } }

// ThumbnailFolder makes Interactive write the hover thumbnails' JPEG sprite
// sheets (and the PointNames) as files into dir (created if needed) instead
// of embedding them in the page, which refers to them as url + "/thumbs-NNNN.jpg": url is dir as
// seen from where the page is saved, e.g. ThumbnailFolder("run/map_files",
// "map_files") for Save("run/map.html"). The browser then loads a sheet
// (4 096 thumbnails) only when a point of it is hovered, and the page keeps
// the size of its points (5.3 bytes a point), whatever the number of images:
// the choice for hundreds of thousands of images, where embedded thumbnails
// would take 280 bytes an image. Sheets are written as they are made, so
// the memory used does not grow with the images either. Such a page shown in
// a notebook (Display, IFrame) has no thumbnails: save it and open the file.
func ThumbnailFolder(dir, url string) Option {
	return func(c *config) { c.thumbDir, c.thumbURL = dir, strings.TrimSuffix(url, "/") }
}

// OutputPath sets the file that Display and the Show functions write when
// not running in a notebook (default: a new file in the temporary
// directory). The file type follows from the extension for figures
// (".png" or ".svg").
func OutputPath(path string) Option { return func(c *config) { c.outputPath = path } }
