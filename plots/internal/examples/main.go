// Command examples writes the example pictures of package plots
// (docs/img/map.png, map.svg, thumbnails.png, outliers.png, outliers-map.png,
// map.html) from the CIFAR-10 test set.
//
// With -embedding the positions are a real map: a file written by
// `tsimcne train` or `tsimcne embed` for the same test images (the README's
// pictures come from runs/cifar10-cpu/embedding_test.npy of `make demo`).
// Without it they are NOT a t-SimCNE embedding but a cheap placeholder
// computed from the pixels, so that the pictures show real images and
// labels. Two placeholder layouts are available:
//
//   - pca: the first two principal components of 8×8-downsampled RGB pixels
//     (gonum/stat.PC). Honest but unclustered: pixels do not separate classes.
//   - classes (default): a supervised mock-up that looks like a class map:
//     each class gets a centre on a circle, each image sits at its class
//     centre plus its within-class pixel PCA coordinates, pulled part of the
//     way towards the classes whose mean 8×8 image it resembles (softmax over
//     distances to the class means). Images that look like another class thus
//     drift towards that class, which gives the outlier view something to find.
//
// Run from the repository root (or with go generate in plots/):
//
//	go run ./plots/internal/examples -out docs/img \
//	    -embedding runs/cifar10-cpu/embedding_test.npy -caption "t-SimCNE, cpu preset"
//
// The CIFAR-10 binary files are found through $TSIMCNE_DATA, else in
// ../shared/data relative to the module root; -data overrides both.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/history"
)

func main() {
	dataDir := flag.String("data", "", "directory holding cifar-10-batches-bin/ (default: $TSIMCNE_DATA or ../shared/data from the module root)")
	out := flag.String("out", "docs/img", "output directory")
	n := flag.Int("n", 10000, "number of test images to use")
	layout := flag.String("layout", "classes", "placeholder positions: classes or pca")
	embFile := flag.String("embedding", "", "a real map of the test images (.npy or .csv from tsimcne train/embed); overrides -layout")
	caption := flag.String("caption", "", "what the positions are, for the titles (with -embedding)")
	historyFile := flag.String("history", "", "a run's history.json: also draw its training curves (history.png)")
	flag.Parse()
	if err := run(*dataDir, *out, *n, *layout, *embFile, *caption); err != nil {
		log.Fatal(err)
	}
	if *historyFile != "" {
		if err := drawHistory(*historyFile, *out); err != nil {
			log.Fatal(err)
		}
	}
}

// drawHistory draws the training curves of a run's history.json.
func drawHistory(path, out string) error {
	h, err := history.Read(path)
	if err != nil {
		return err
	}
	f, err := plots.History(h, plots.Size(800, 460))
	if err != nil {
		return err
	}
	return save(f, out, "history.png")
}

func run(dataDir, out string, n int, layout, embFile, caption string) error {
	dir, err := findData(dataDir)
	if err != nil {
		return err
	}
	ds, err := loadCIFAR10(filepath.Join(dir, "cifar-10-batches-bin", "test_batch.bin"))
	if err != nil {
		return err
	}
	ds = ds.Head(n)
	var xy []float32
	switch {
	case embFile != "":
		emb, err := embedding.Load(embFile)
		if err != nil {
			return err
		}
		if emb.Dim != 2 || emb.N < ds.N {
			return fmt.Errorf("%s: want at least %d points in 2-D, got %d in %d-D", embFile, ds.N, emb.N, emb.Dim)
		}
		xy = emb.Points[:2*ds.N]
		if caption == "" {
			caption = "t-SimCNE"
		}
	case layout == "pca":
		xy, err = pcaLayout(ds)
	case layout == "classes":
		xy, err = classLayout(ds)
	default:
		err = fmt.Errorf("unknown layout %q", layout)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if caption == "" {
		caption = map[string]string{
			"pca":     "placeholder positions: PCA of pixels",
			"classes": "placeholder positions, not t-SimCNE",
		}[layout]
	}
	title := fmt.Sprintf("CIFAR-10 test set (%d images; %s)", ds.N, caption)

	m, err := plots.Map(xy, ds.Labels, ds.ClassNames, plots.Title(title), plots.Size(800, 600))
	if err != nil {
		return err
	}
	if err := save(m, out, "map.png", "map.svg"); err != nil {
		return err
	}
	th, err := plots.Thumbnails(xy, ds.Labels, ds.ClassNames, plots.Images(ds),
		plots.Title("Thumbnails over the map ("+caption+")"), plots.Size(900, 760), plots.Grid(22))
	if err != nil {
		return err
	}
	if err := save(th, out, "thumbnails.png"); err != nil {
		return err
	}
	outl, err := plots.FindOutliers(xy, ds.Labels, plots.TopN(15))
	if err != nil {
		return err
	}
	g, err := plots.OutlierGallery(outl, ds.ClassNames, plots.Images(ds), plots.Size(800, 0))
	if err != nil {
		return err
	}
	if err := save(g, out, "outliers.png"); err != nil {
		return err
	}
	om, err := plots.Map(xy, ds.Labels, ds.ClassNames, plots.HighlightOutliers(outl),
		plots.Title("Top 15 outliers on the map ("+caption+")"))
	if err != nil {
		return err
	}
	if err := save(om, out, "outliers-map.png"); err != nil {
		return err
	}
	page, err := plots.Interactive(xy, ds.Labels, ds.ClassNames, plots.Images(ds),
		plots.Title(title), plots.ThumbnailSize(16), plots.ThumbnailQuality(55))
	if err != nil {
		return err
	}
	path := filepath.Join(out, "map.html")
	if err := page.Save(path); err != nil {
		return err
	}
	report(path)
	return nil
}

func save(f *plots.Figure, dir string, names ...string) error {
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := f.Save(path); err != nil {
			return err
		}
		report(path)
	}
	return nil
}

func report(path string) {
	if st, err := os.Stat(path); err == nil {
		fmt.Printf("wrote %s (%d KB)\n", path, st.Size()/1024)
	}
}

// findData returns the directory holding cifar-10-batches-bin.
func findData(flagDir string) (string, error) {
	if flagDir != "" {
		return flagDir, nil
	}
	if d := os.Getenv("TSIMCNE_DATA"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared", "data"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s and no $TSIMCNE_DATA: use -data", wd)
		}
	}
}

// loadCIFAR10 reads a CIFAR-10 binary batch. (A small local reader: the
// tsimcne/data readers were being written at the same time.)
func loadCIFAR10(path string) (*data.Dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	const rec = 1 + 3072
	if len(raw)%rec != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a multiple of the %d-byte record", path, len(raw), rec)
	}
	names := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	if f, err := os.Open(filepath.Join(filepath.Dir(path), "batches.meta.txt")); err == nil {
		var meta []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if s := strings.TrimSpace(sc.Text()); s != "" {
				meta = append(meta, s)
			}
		}
		f.Close()
		if len(meta) == 10 {
			names = meta
		}
	}
	n := len(raw) / rec
	ds := &data.Dataset{Name: "cifar10/test", N: n, Height: 32, Width: 32, Channels: 3,
		Images: make([]uint8, n*3072), Labels: make([]int, n), ClassNames: names}
	for i := 0; i < n; i++ {
		r := raw[i*rec : (i+1)*rec]
		if r[0] > 9 {
			return nil, fmt.Errorf("%s: record %d has label %d", path, i, r[0])
		}
		ds.Labels[i] = int(r[0])
		img := ds.Image(i)
		for p := 0; p < 1024; p++ {
			img[3*p], img[3*p+1], img[3*p+2] = r[1+p], r[1+1024+p], r[1+2048+p]
		}
	}
	return ds, ds.Validate()
}

// features returns 8×8 box-downsampled RGB pixels in [0,1], one row per image.
func features(ds *data.Dataset) *mat.Dense {
	const g = 8
	f := mat.NewDense(ds.N, g*g*3, nil)
	s := ds.Height / g
	for i := 0; i < ds.N; i++ {
		img := ds.Image(i)
		row := f.RawRowView(i)
		for y := 0; y < ds.Height; y++ {
			for x := 0; x < ds.Width; x++ {
				for c := 0; c < 3; c++ {
					row[((y/s)*g+x/s)*3+c] += float64(img[(y*ds.Width+x)*3+c]) / 255 / float64(s*s)
				}
			}
		}
	}
	return f
}

// pca2 returns the first two principal component scores of the rows of f,
// each scaled to unit standard deviation.
func pca2(f *mat.Dense) ([][2]float64, error) {
	var pc stat.PC
	if !pc.PrincipalComponents(f, nil) {
		return nil, fmt.Errorf("PCA failed")
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	r, _ := f.Dims()
	var proj mat.Dense
	proj.Mul(f, vecs.Slice(0, vecs.RawMatrix().Rows, 0, 2))
	out := make([][2]float64, r)
	for d := 0; d < 2; d++ {
		col := mat.Col(nil, d, &proj)
		mean, std := stat.MeanStdDev(col, nil)
		if std == 0 {
			std = 1
		}
		for i := range out {
			out[i][d] = (col[i] - mean) / std
		}
	}
	return out, nil
}

func pcaLayout(ds *data.Dataset) ([]float32, error) {
	p, err := pca2(features(ds))
	if err != nil {
		return nil, err
	}
	xy := make([]float32, 2*ds.N)
	for i, v := range p {
		xy[2*i], xy[2*i+1] = float32(v[0]), float32(v[1])
	}
	return xy, nil
}

func classLayout(ds *data.Dataset) ([]float32, error) {
	f := features(ds)
	k := len(ds.ClassNames)
	_, dim := f.Dims()
	// Class centres on a circle; vehicles and animals on opposite sides as
	// the CIFAR-10 maps of contrastive methods tend to have them.
	order := []int{0, 8, 9, 1, 7, 4, 6, 2, 3, 5} // around the circle
	centre := make([][2]float64, k)
	for j, c := range order {
		a := 2 * math.Pi * float64(j) / float64(k)
		centre[c] = [2]float64{7 * math.Cos(a), 7 * math.Sin(a)}
	}
	// Class means of the features.
	means := make([][]float64, k)
	counts := make([]int, k)
	for c := range means {
		means[c] = make([]float64, dim)
	}
	for i, l := range ds.Labels {
		counts[l]++
		for d, v := range f.RawRowView(i) {
			means[l][d] += v
		}
	}
	for c := range means {
		for d := range means[c] {
			means[c][d] /= float64(max(counts[c], 1))
		}
	}
	xy := make([]float32, 2*ds.N)
	// Within-class PCA offsets.
	for c := 0; c < k; c++ {
		var idx []int
		for i, l := range ds.Labels {
			if l == c {
				idx = append(idx, i)
			}
		}
		if len(idx) < 3 {
			for _, i := range idx {
				xy[2*i], xy[2*i+1] = float32(centre[c][0]), float32(centre[c][1])
			}
			continue
		}
		sub := mat.NewDense(len(idx), dim, nil)
		for j, i := range idx {
			sub.SetRow(j, f.RawRowView(i))
		}
		p, err := pca2(sub)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			xy[2*i] = float32(centre[c][0] + 0.8*p[j][0])
			xy[2*i+1] = float32(centre[c][1] + 0.8*p[j][1])
		}
	}
	// Pull towards resembling classes: softmax over squared distances to
	// the class means, temperature = mean spread of those distances.
	d2 := make([]float64, k)
	for i := 0; i < ds.N; i++ {
		row := f.RawRowView(i)
		lo := math.Inf(1)
		for c := range means {
			var s float64
			for d, v := range row {
				s += (v - means[c][d]) * (v - means[c][d])
			}
			d2[c] = s
			lo = math.Min(lo, s)
		}
		var spread float64
		for c := range d2 {
			spread += d2[c] - lo
		}
		t := 0.08 * spread / float64(k)
		var z, px, py float64
		for c := range d2 {
			w := math.Exp(-(d2[c] - lo) / t)
			z += w
			px += w * centre[c][0]
			py += w * centre[c][1]
		}
		own := centre[ds.Labels[i]]
		xy[2*i] += float32(0.3 * (px/z - own[0]))
		xy[2*i+1] += float32(0.3 * (py/z - own[1]))
	}
	return xy, nil
}
