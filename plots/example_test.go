package plots_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/history"
)

// embedding returns a toy 2-D embedding: three rings of 100 points, one per
// class, as flat row-major [N,2] data (how a GoMLX [N,2] tensor's flat data
// comes out).
func embedding() (xy []float32, labels []int, names []string) {
	for c := 0; c < 3; c++ {
		cx := 10 * float64(c)
		for j := 0; j < 100; j++ {
			a := 2 * math.Pi * float64(j) / 100
			r := 1 + 0.3*math.Sin(7*a)
			xy = append(xy, float32(cx+r*math.Cos(a)), float32(r*math.Sin(a)))
			labels = append(labels, c)
		}
	}
	return xy, labels, []string{"cat", "dog", "ship"}
}

func ExampleMap() {
	xy, labels, names := embedding()
	fig, err := plots.Map(xy, labels, names, plots.Title("Toy map"), plots.Size(600, 400))
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "plots")
	defer os.RemoveAll(dir)
	// PNG or SVG by extension. In a GoNB notebook use fig.Display() instead.
	if err := fig.Save(filepath.Join(dir, "map.png")); err != nil {
		log.Fatal(err)
	}
	if err := fig.Save(filepath.Join(dir, "map.svg")); err != nil {
		log.Fatal(err)
	}
	fmt.Println(fig.Width(), fig.Height())
	// Output: 600 400
}

func ExampleFindOutliers() {
	xy, labels, names := embedding()
	// Relabel two points of the "cat" ring as "ship": they now disagree
	// with all their map neighbours.
	labels[10], labels[60] = 2, 2
	outliers, err := plots.FindOutliers(xy, labels, plots.TopN(2), plots.K(5))
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range outliers {
		fmt.Printf("#%d: point %d labelled %s, neighbours say %s (%d/%d)\n",
			o.Rank, o.Index, names[o.Label], names[o.NeighborLabel], o.NeighborVotes, o.K)
	}
	// The map with the outliers ringed and numbered:
	if _, err := plots.Map(xy, labels, names, plots.HighlightOutliers(outliers)); err != nil {
		log.Fatal(err)
	}
	// Output:
	// #1: point 10 labelled ship, neighbours say cat (5/5)
	// #2: point 60 labelled ship, neighbours say cat (5/5)
}

func ExampleInteractive() {
	xy, labels, names := embedding()
	// Add plots.Images(dataset) to see each point's image on hover.
	page, err := plots.Interactive(xy, labels, names, plots.Title("Toy map"))
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "toy-map.html")
	if err := page.Save(path); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)
	fmt.Println(len(page.HTML()) < 100_000)
	// Output: true
}

// A page for a large collection: the images' thumbnails and their file
// names go into files beside the page, loaded when a point is hovered, so
// the page keeps the size of its points.
func ExampleThumbnailFolder() {
	xy, labels, names := embedding()
	images := &data.Dataset{Name: "toy", N: len(labels), Height: 8, Width: 8, Channels: 3,
		Images: make([]uint8, len(labels)*8*8*3)}
	files := make([]string, len(labels))
	for i := range files {
		files[i] = fmt.Sprintf("%s/img%03d.png", names[labels[i]], i)
	}
	dir, err := os.MkdirTemp("", "toy-run")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	page, err := plots.Interactive(xy, labels, names, plots.Images(images), plots.PointNames(files),
		plots.ThumbnailFolder(filepath.Join(dir, "map_files"), "map_files"))
	if err != nil {
		log.Fatal(err)
	}
	if err := page.Save(filepath.Join(dir, "map.html")); err != nil {
		log.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "map_files"))
	for _, e := range ents {
		fmt.Println(e.Name())
	}
	// Output:
	// names-0000.js
	// thumbs-0000.jpg
}

func ExampleHistory() {
	// A run's per-epoch history: tsimcne's Model.History(), or a run
	// folder's history.json read with history.Read (which, unlike
	// tsimcne.ReadHistory, does not link GoMLX).
	var h []history.EpochStats
	for e := range 20 {
		h = append(h, history.EpochStats{Stage: 1, Epoch: e, Loss: 6 - 0.1*float64(e), LearningRate: 0.03, Seconds: 3.2})
	}
	for e := range 5 {
		h = append(h, history.EpochStats{Stage: 3, Epoch: e, Loss: 5 - 0.1*float64(e), LearningRate: 3e-5, Seconds: 3.2})
	}
	fig, err := plots.History(h, plots.Size(800, 460))
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "history.png") // or .svg; fig.Display() in a notebook
	if err := fig.Save(path); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)
	fmt.Println(fig.Width(), fig.Height())
	// Output: 800 460
}

func ExampleRow() {
	xy, labels, names := embedding()
	// Two maps side by side, each with a scale bar, under one title saying what they show.
	a, err := plots.Map(xy, labels, names, plots.Title("left"), plots.Size(300, 300), plots.NoLegend(), plots.ScaleBar())
	if err != nil {
		log.Fatal(err)
	}
	b, err := plots.Map(xy[:200], labels[:100], names, plots.Title("right"), plots.Size(400, 300), plots.ScaleBar())
	if err != nil {
		log.Fatal(err)
	}
	row, err := plots.Row(a, b)
	if err != nil {
		log.Fatal(err)
	}
	fig := row.WithTitle("Toy maps, 300 and 100 points")
	fmt.Println(fig.Width(), fig.Height() > 300)
	// Output: 700 true
}
