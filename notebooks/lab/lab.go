// Package lab holds what the GoNB notebooks of this repository share, so
// that a notebook opens with its subject instead of a page of helper code:
// stopping a cell on an error, the CIFAR-10 images in a line, a folder for
// a notebook's runs, figures and image grids shown side by side, and
// training with a live view that redraws the loss curve and the current map
// in the cell after every epoch.
//
// Every function works outside a notebook too (in a Go program or test):
// pictures are then written to files (plots.Figure.Display) and the live
// view is skipped.
package lab

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// exit ends the program; tests replace it.
var exit = os.Exit

// Check stops the cell's program with err's message on stderr (exit status
// 1, which GoNB shows under the cell) when err is not nil.
func Check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		exit(1)
	}
}

// Must returns v, or stops the cell like Check when err is not nil.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// CIFAR10 returns the first nTrain images of the CIFAR-10 training batches
// present in the data folder ($TSIMCNE_DATA, else the user cache folder)
// and the first nTest of the test batch; 0 means all.
func CIFAR10(nTrain, nTest int) (train, test *data.Dataset) {
	train = Must(data.LoadCIFAR10("", data.Train, data.AvailableBatches()))
	test = Must(data.LoadCIFAR10("", data.Test))
	if nTrain > 0 {
		train = train.Head(nTrain)
	}
	if nTest > 0 {
		test = test.Head(nTest)
	}
	return train, test
}

// Dir returns the folder name for a notebook's run: under GoNB's temporary
// folder (removed when the kernel stops), or the system's temporary folder
// outside a notebook. Every GoNB cell is its own program, so a model is
// kept in such a folder from one cell to the next.
func Dir(name string) string {
	base := os.Getenv("GONB_TMP_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "gosimcne-lab")
	}
	return filepath.Join(base, name)
}

// RepoDir returns path inside this repository's checkout (where GoNB was
// started: the notebooks folder's parent), e.g. RepoDir("runs", "paper").
func RepoDir(path ...string) string {
	base := os.Getenv("GONB_DIR")
	if base == "" {
		base = "."
	}
	return filepath.Join(append([]string{base, ".."}, path...)...)
}

// Show displays figures side by side as one picture (plots.Row).
func Show(figs ...*plots.Figure) {
	row := Must(plots.Row(figs...))
	Must(row.Display())
}

// ClassExamples returns the indices of the first perClass images of every
// class of ds, class by class.
func ClassExamples(ds *data.Dataset, perClass int) []int {
	count := make([]int, len(ds.ClassNames))
	var idx []int
	for c := range ds.ClassNames {
		for i := 0; i < ds.N && count[c] < perClass; i++ {
			if ds.Labels[i] == c {
				idx = append(idx, i)
				count[c]++
			}
		}
	}
	return idx
}

// ShowImages displays images idx of ds in a grid with their class names
// (plots.ImageGrid; opts such as plots.Grid(10) or plots.ThumbnailSize(48)
// set the columns and the size).
func ShowImages(ds *data.Dataset, idx []int, opts ...plots.Option) {
	imgs := make([]image.Image, len(idx))
	var names []string
	if ds.Labels != nil && len(ds.ClassNames) > 0 {
		names = make([]string, len(idx))
	}
	for k, i := range idx {
		imgs[k] = ds.ToImage(i)
		if names != nil {
			names[k] = ds.ClassNames[ds.Labels[i]]
		}
	}
	Must(Must(plots.ImageGrid(imgs, names, opts...)).Display())
}

// Train trains cfg on ds with its checkpoints in dir (resuming there if the
// folder holds an unfinished run; a finished one is only loaded) and
// returns the trained model. In a notebook a live view redraws, after
// every epoch, the loss curve and the current map of up to 2 000 of the
// images (from stage 2 on, when the output is 2-D), and ends as an ordinary
// output of the cell showing the final state. It stops the cell on an
// error; an interruption (the kernel's stop button) keeps a checkpoint to
// resume from.
func Train(dir string, cfg tsimcne.Config, ds *data.Dataset) *tsimcne.Model {
	cfg.CheckpointDir = dir
	w := newWatch(ds)
	m := Must(tsimcne.New(w.attach(cfg)))
	if m.Trained() {
		fmt.Printf("Already trained (checkpoint in %s): restart the kernel to train again.\n", dir)
		return m
	}
	return fit(m, ds, w)
}

// fit trains m on ds to the end, with w's live view in a notebook.
func fit(m *tsimcne.Model, ds *data.Dataset, w *watch) *tsimcne.Model {
	start := time.Now()
	err := m.Fit(ds)
	if plots.InNotebook() && len(m.History()) > 0 {
		Must(w.live.Finish(Must(w.figure(m))))
	}
	Check(err)
	fmt.Printf("Trained on %d images in %s.\n", ds.N, time.Since(start).Round(time.Second))
	return m
}

// watch draws the live training view.
type watch struct {
	live   *plots.Live
	sample *data.Dataset
	n      int // images trained on
}

func newWatch(ds *data.Dataset) *watch {
	return &watch{live: plots.NewLive(), sample: ds.Head(min(ds.N, 2000)), n: ds.N}
}

// attach returns cfg with the live view as its OnEpoch, in a notebook.
func (w *watch) attach(cfg tsimcne.Config) tsimcne.Config {
	if plots.InNotebook() {
		cfg.OnEpoch = w.epoch
	}
	return cfg
}

func (w *watch) epoch(m *tsimcne.Model, _ tsimcne.EpochStats) error {
	f, err := w.figure(m)
	if err != nil {
		return err
	}
	return w.live.Update(f)
}

// figure draws the loss curve and, once the output is 2-D, the map of the
// sample images; the titles say what is trained (backbone, images, epochs).
func (w *watch) figure(m *tsimcne.Model) (*plots.Figure, error) {
	h := m.History()
	if len(h) == 0 {
		return nil, fmt.Errorf("lab: no epoch trained yet")
	}
	last, c := h[len(h)-1], m.Config()
	curves, err := plots.History(h, plots.Size(440, 320),
		plots.Title(fmt.Sprintf("Loss after stage %d, epoch %d of %d", last.Stage, last.Epoch+1, c.Epochs[last.Stage-1])))
	if err != nil {
		return nil, err
	}
	scale := fmt.Sprintf("%s, %d images, epochs %d+%d+%d", c.Backbone, w.n, c.Epochs[0], c.Epochs[1], c.Epochs[2])
	if m.HeadDim() != 2 {
		return curves.WithTitle(scale), nil
	}
	emb, err := m.Transform(w.sample)
	if err != nil {
		return nil, err
	}
	mp, err := plots.Map(emb.Points, emb.Labels, emb.ClassNames, plots.Size(440, 320), plots.NoLegend(),
		plots.Title(fmt.Sprintf("The map now (%d images shown)", w.sample.N)))
	if err != nil {
		return nil, err
	}
	row, err := plots.Row(curves, mp)
	if err != nil {
		return nil, err
	}
	return row.WithTitle(scale), nil
}
