package lab

import (
	"bytes"
	"errors"
	"fmt"
	stdpng "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"github.com/gosimcne/gosimcne/internal/fakedata"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// fakeCIFAR writes a CIFAR-10 folder of synthetic images (batch 1 and the
// test batch, 10 000 images each as the real files) and points
// $TSIMCNE_DATA at it.
func fakeCIFAR(t *testing.T) {
	dir := t.TempDir()
	fakedata.WriteCIFAR10(t, filepath.Join(dir, "cifar-10-batches-bin", "data_batch_1.bin"), 10000, 3, 1)
	fakedata.WriteCIFAR10(t, filepath.Join(dir, "cifar-10-batches-bin", "test_batch.bin"), 10000, 3, 2)
	t.Setenv("TSIMCNE_DATA", dir)
}

func TestCheckStopsOnError(t *testing.T) {
	code := -1
	exit = func(c int) { code = c }
	defer func() { exit = os.Exit }()
	Check(nil)
	if code != -1 {
		t.Fatalf("Check(nil) exited with %d", code)
	}
	if v := Must(7, nil); v != 7 {
		t.Errorf("Must(7, nil) = %d", v)
	}
	Check(errors.New("no data"))
	if code != 1 {
		t.Errorf("Check(error) exit status %d, want 1", code)
	}
}

func TestCIFAR10AndClassExamples(t *testing.T) {
	fakeCIFAR(t)
	train, test := CIFAR10(90, 0)
	if train.N != 90 || test.N != 10000 {
		t.Fatalf("got %d and %d images, want 90 and all 10 000", train.N, test.N)
	}
	idx := ClassExamples(train, 2)
	// The fake files hold 3 of the 10 classes.
	if len(idx) != 2*3 {
		t.Fatalf("ClassExamples: %v", idx)
	}
	for k, i := range idx {
		// Records cycle through the 3 fake classes: 0, 3 for class 0, ...
		if train.Labels[i] != k/2 {
			t.Errorf("example %d is image %d of class %d, want class %d", k, i, train.Labels[i], k/2)
		}
	}
}

func TestDirs(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", "/tmp/gonb-x")
	t.Setenv("GONB_DIR", "/repo/notebooks")
	if d := Dir("run"); d != "/tmp/gonb-x/run" {
		t.Errorf("Dir = %s", d)
	}
	if d := RepoDir("runs", "paper"); d != "/repo/runs/paper" {
		t.Errorf("RepoDir = %s", d)
	}
}

// TestTrainAndWatch trains a tiny model through Train, then checks the
// live view's picture: the loss curve alone, or curve and map once the
// output is 2-D.
func TestTrainAndWatch(t *testing.T) {
	fakeCIFAR(t)
	train, _ := CIFAR10(300, 0)
	cfg := tsimcne.QuickConfig()
	cfg.BatchSize, cfg.Epochs, cfg.Progress = 32, [3]int{1, 1, 1}, tsimcne.ProgressOff
	dir := t.TempDir()
	m := Train(dir, cfg, train)
	if !m.Trained() {
		t.Fatalf("Train returned a model at %v", m.Position())
	}
	w := newWatch(train)
	f, err := w.figure(m)
	if err != nil {
		t.Fatal(err)
	}
	if f.Width() != 880 {
		t.Errorf("live view %v px wide, want the curves and the map (880)", f.Width())
	}
	// A second Train of the same folder only loads the model.
	if m2 := Train(dir, cfg, train); len(m2.History()) != 3 {
		t.Errorf("reloaded model has %d epochs of history, want 3", len(m2.History()))
	}
}

// TestTrainRunAndBranchRun writes a pre-training and a branch of it as run
// folders, and reads them back with their scale.
func TestTrainRunAndBranchRun(t *testing.T) {
	fakeCIFAR(t)
	train, test := CIFAR10(300, 200)
	cfg := tsimcne.QuickConfig()
	cfg.BatchSize, cfg.Epochs, cfg.Progress = 32, [3]int{2, 0, 0}, tsimcne.ProgressOff
	base := t.TempDir()
	pre := TrainRun(filepath.Join(base, "pre"), cfg, train, test)
	if pre.Map.Dim != cfg.PretrainDim && pre.Map.Dim != 32 {
		t.Errorf("pre-training's map is %d-D", pre.Map.Dim)
	}
	b := cfg
	b.Epochs, b.MapKernel, b.Seed = [3]int{2, 1, 1}, "gaussian", 5
	r := BranchRun(filepath.Join(base, "gauss"), pre.Dir, b, train, test)
	if r.Map.Dim != 2 || r.Map.N != 300 {
		t.Fatalf("branch map %d-D with %d points, want 2-D, 300", r.Map.Dim, r.Map.N)
	}
	if acc := r.MapAccuracy(); !(acc > 0 && acc <= 1) || r.FeatureAccuracy() == 0 {
		t.Errorf("accuracies %v / %v", acc, r.FeatureAccuracy())
	}
	if s := r.Scale(); !strings.HasPrefix(s, "cnn-tiny, 300 images, 2+1+1 epochs, ") || !strings.Contains(s, " on ") {
		t.Errorf("Scale() = %q", s)
	}
	if len(r.Metrics.History) != 4 || r.Metrics.Config.MapKernel != "gaussian" {
		t.Errorf("branch metrics: %d epochs, map kernel %q", len(r.Metrics.History), r.Metrics.Config.MapKernel)
	}
	// Finished runs are loaded, not trained again.
	again := BranchRun(filepath.Join(base, "gauss"), pre.Dir, b, train, test)
	if again.MapAccuracy() != r.MapAccuracy() {
		t.Error("a finished run was not simply loaded")
	}
	if HasRun(filepath.Join(base, "none")) {
		t.Error("HasRun of a missing folder")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{7: "7", 999: "999", 1000: "1 000", 60000: "60 000", 1234567: "1 234 567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPlotsPNG(t *testing.T) {
	a, b := plot.New(), plot.New()
	a.Title.Text, b.Title.Text = "a", "b"
	png, err := PlotsPNG(400, 200, a, b)
	if err != nil {
		t.Fatal(err)
	}
	img, err := stdpng.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 400 || img.Bounds().Dy() != 200 {
		t.Errorf("PNG is %v, want 400x200", img.Bounds())
	}
	if _, err := PlotsPNG(400, 200); err == nil {
		t.Error("no plots: no error")
	}
	if a.Title.TextStyle.Font.Variant != "Sans" || b.Y.Tick.Label.Font.Variant != "Sans" {
		t.Errorf("fonts %v, %v: want the sans-serif of package plots", a.Title.TextStyle.Font, b.Y.Tick.Label.Font)
	}
}

// TestExampleFolderReadsBack writes images as a class folder and reads it
// back with data.LoadImageFolder: same pixels, same classes.
func TestExampleFolderReadsBack(t *testing.T) {
	fakeCIFAR(t)
	train, _ := CIFAR10(12, 1)
	dir, err := ExampleFolder(filepath.Join(t.TempDir(), "photos"), train, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := data.LoadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.N != 12 || len(back.ClassNames) != 3 {
		t.Fatalf("read back %d images of %d classes, want 12 of 3", back.N, len(back.ClassNames))
	}
	// Files sort by class name, then index: compare each file with its source image.
	for k, f := range back.Files {
		var i int
		if _, err := fmt.Sscanf(filepath.Base(f), "%05d.png", &i); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back.Image(k), train.Image(i)) {
			t.Fatalf("%s differs from image %d", f, i)
		}
		if back.ClassNames[back.Labels[k]] != train.ClassNames[train.Labels[i]] {
			t.Fatalf("%s in class %s, image %d is %s", f, back.ClassNames[back.Labels[k]], i, train.ClassNames[train.Labels[i]])
		}
	}
}
