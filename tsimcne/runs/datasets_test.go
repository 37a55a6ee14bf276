package runs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/internal/fakedata"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

func TestNormalizeDataset(t *testing.T) {
	for in, want := range map[string]string{
		"cifar10": CIFAR10, "CIFAR-10": CIFAR10, "cifar_100": CIFAR100,
		"Fashion-MNIST": FashionMNIST, "fmnist": FashionMNIST, "mnist": MNIST,
	} {
		got, err := NormalizeDataset(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDataset(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	got, err := NormalizeDataset("folder:rel/photos")
	if err != nil || !strings.HasPrefix(got, "folder:/") || !strings.HasSuffix(got, "rel/photos") {
		t.Errorf("folder path not made absolute: %q, %v", got, err)
	}
	for _, bad := range []string{"", "imagenet", "folder:"} {
		if _, err := NormalizeDataset(bad); err == nil {
			t.Errorf("NormalizeDataset(%q) accepted", bad)
		}
	}
	if ShortName(got) != "photos" || Title(got) != "photos" || Title(CIFAR100) != "CIFAR-100" {
		t.Errorf("ShortName %q, Title %q / %q", ShortName(got), Title(got), Title(CIFAR100))
	}
}

// TestNewData: the presets' data defaults, and $TSIMCNE_DATA recorded as an
// absolute folder.
func TestNewData(t *testing.T) {
	t.Setenv(data.EnvDataDir, "rel/data")
	q := NewData("quick", CIFAR10, 7)
	if q.Eval != EvalTest || q.CIFARBatches != 1 || q.TrainLimit != QuickTrainImages || q.Seed != 7 || q.Dataset != CIFAR10 {
		t.Errorf("quick: %+v", q)
	}
	if !filepath.IsAbs(q.DataDir) || !strings.HasSuffix(q.DataDir, filepath.Join("rel", "data")) {
		t.Errorf("$%s not recorded as an absolute folder: %q", data.EnvDataDir, q.DataDir)
	}
	for _, preset := range []string{"cpu", "paper"} {
		if d := NewData(preset, CIFAR10, 1); d.Eval != EvalHoldout || d.CIFARBatches != 5 || d.TrainLimit != 0 {
			t.Errorf("%s: %+v, want the paper's protocol (holdout, 5 batches, all images)", preset, d)
		}
	}
	t.Setenv(data.EnvDataDir, "")
	if d := NewData("cpu", CIFAR10, 1); d.DataDir != "" {
		t.Errorf("DataDir %q without $%s", d.DataDir, data.EnvDataDir)
	}
}

// TestLoadCIFARPartial: a data folder with some CIFAR-10 batches is used as
// it is, with notes, and the limits take stratified subsets.
func TestLoadCIFARPartial(t *testing.T) {
	root := t.TempDir()
	folder := filepath.Join(root, data.CIFAR10Folder)
	fakedata.WriteCIFAR10(t, filepath.Join(folder, "data_batch_1.bin"), 60, 3, 1)
	fakedata.WriteCIFAR10(t, filepath.Join(folder, "data_batch_3.bin"), 30, 3, 2)
	fakedata.WriteCIFAR10(t, filepath.Join(folder, "test_batch.bin"), 30, 3, 3)

	im, err := Data{Dataset: CIFAR10, DataDir: root, CIFARBatches: 1, TrainLimit: 30, TestLimit: 9, Seed: 1}.Load()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{}
	for _, l := range im.Train.Labels {
		counts[l]++
	}
	if im.Mode != EvalTest || im.Fit != im.Train || im.Train.N != 30 || im.Test.N != 9 || counts[0] != 10 || counts[1] != 10 || counts[2] != 10 {
		t.Errorf("limits: mode %s, %d train (per class %v), %d test; want test, 30 (10 each), 9", im.Mode, im.Train.N, counts, im.Test.N)
	}

	im, err = Data{Dataset: CIFAR10, DataDir: root, Eval: EvalHoldout, Seed: 1}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if im.Fit.N != 120 || im.Train.N != 100 || im.Test.N != 20 {
		t.Errorf("hold-out of all batches present: %d = %d + %d, want 120 = 100 + 20", im.Fit.N, im.Train.N, im.Test.N)
	}
	if !strings.Contains(im.Fit.Name, "data_batch_1+data_batch_3+test_batch") {
		t.Errorf("partial batches named %q, want the files", im.Fit.Name)
	}
	// With every official file the name is the split's.
	for _, b := range []string{"data_batch_2.bin", "data_batch_4.bin", "data_batch_5.bin"} {
		fakedata.WriteCIFAR10(t, filepath.Join(folder, b), 6, 3, 4)
	}
	all, err := Data{Dataset: CIFAR10, DataDir: root, Eval: EvalHoldout, Seed: 1}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if all.Fit.Name != "cifar10/all" || all.Fit.N != 138 {
		t.Errorf("all six files: %q, %d images; want cifar10/all, 138", all.Fit.Name, all.Fit.N)
	}
	notes := strings.Join(im.Notes, "\n")
	for _, want := range []string{"data_batch_1.bin, data_batch_3.bin present", "data_batch_1.bin holds 60 images, the official file 10000", "20 of the 120 images held out"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// TestLoadHoldout: a folder without train/ and test/ is evaluated by
// holding out a stratified part (N/6 by default); the indices say where
// the parts are in the training images.
func TestLoadHoldout(t *testing.T) {
	root := t.TempDir()
	fakedata.WriteImageFolder(t, root, 3, 10, 6, 1)
	d := Data{Dataset: FolderPrefix + root, ImageSize: 6, Seed: 3}
	im, err := d.Load()
	if err != nil {
		t.Fatal(err)
	}
	if im.Mode != EvalHoldout || im.Fit.N != 30 || im.Test.N != DefaultHoldout(30) || im.Train.N != 30-DefaultHoldout(30) {
		t.Fatalf("mode %s, %d = %d + %d images", im.Mode, im.Fit.N, im.Train.N, im.Test.N)
	}
	all := slices.Concat(im.TrainIdx, im.TestIdx)
	slices.Sort(all)
	for i, j := range all {
		if i != j {
			t.Fatalf("indices %v, %v are not a partition of 0..29", im.TrainIdx, im.TestIdx)
		}
	}
	checkHoldoutImages(t, im)

	// Through a prepared file (as `tsimcne train` loads folders): the parts
	// and Both are parts of a second mapping, not copies in memory.
	dc := d
	dc.CacheDir = t.TempDir()
	imc, err := dc.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(imc.TestIdx, im.TestIdx) {
		t.Fatalf("with a cache folder the split is %v, without %v", imc.TestIdx, im.TestIdx)
	}
	checkHoldoutImages(t, imc)
	if runtime.GOOS == "linux" && !imc.Fit.Mapped() {
		t.Fatal("a folder loaded through a cache folder is not memory-mapped")
	}
	if both, _ := imc.Both(); imc.Fit.Mapped() && (!imc.Train.Mapped() || !imc.Test.Mapped() || !both.Mapped()) {
		t.Errorf("mapped images split into copies: train %v, test %v, both %v", imc.Train.Mapped(), imc.Test.Mapped(), both.Mapped())
	}
	if _, err := os.Stat(filepath.Join(dc.CacheDir, HoldoutImagesFile)); imc.Fit.Mapped() && err != nil {
		t.Error(err)
	}

	again, err := d.Load()
	if err != nil || !slices.Equal(again.TestIdx, im.TestIdx) {
		t.Errorf("the same Data held out %v, then %v (%v)", im.TestIdx, again.TestIdx, err)
	}

	d.Eval = EvalTest
	if _, err := d.Load(); !errors.Is(err, ErrNoTestSplit) {
		t.Errorf("test mode on a folder without train/ and test/: %v, want ErrNoTestSplit", err)
	}
	d.Eval, d.Holdout = EvalHoldout, 30
	var he *HoldoutError
	if _, err := d.Load(); !errors.As(err, &he) || he.Given != 30 || he.N != 30 {
		t.Errorf("holding out all 30 images: %v, want a HoldoutError", err)
	}
}

// checkHoldoutImages checks that im's Train and Test are the images of
// TrainIdx and TestIdx of Fit, and that Both is Train followed by Test.
func checkHoldoutImages(t *testing.T, im *Images) {
	t.Helper()
	for part, p := range []struct {
		ds  *data.Dataset
		idx []int
	}{{im.Train, im.TrainIdx}, {im.Test, im.TestIdx}} {
		for k, i := range p.idx {
			if p.ds.Labels[k] != im.Fit.Labels[i] || !bytes.Equal(p.ds.Image(k), im.Fit.Image(i)) || p.ds.Files[k] != im.Fit.Files[i] {
				t.Fatalf("image %d of part %d is not image %d of the training images", k, part, i)
			}
		}
	}
	both, err := im.Both()
	if err != nil || both.N != im.Fit.N || !bytes.Equal(both.Image(im.Train.N), im.Test.Image(0)) ||
		!bytes.Equal(both.Image(0), im.Train.Image(0)) {
		t.Errorf("Both: %v, want Train then Test", err)
	}
}

// TestLoadUnlabelled: images without classes have nothing to evaluate.
func TestLoadUnlabelled(t *testing.T) {
	root := t.TempDir()
	fakedata.WriteImageFolder(t, root, 0, 12, 6, 1)
	im, err := Data{Dataset: FolderPrefix + root, ImageSize: 6, TrainLimit: 8, Seed: 1}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if im.Mode != EvalNone || im.Test != nil || im.Train != im.Fit || im.Fit.N != 8 {
		t.Errorf("unlabelled: mode %s, test %v, %d images", im.Mode, im.Test != nil, im.Fit.N)
	}
	if both, err := im.Both(); err != nil || both != im.Train {
		t.Errorf("Both of unlabelled images: %v", err)
	}
}

func TestHoldoutSize(t *testing.T) {
	for _, c := range []struct{ given, n, want int }{{0, 60000, 10000}, {0, 120, 20}, {7, 10, 7}} {
		if got, err := HoldoutSize(c.given, c.n, "images"); err != nil || got != c.want {
			t.Errorf("HoldoutSize(%d, %d) = %d, %v; want %d", c.given, c.n, got, err, c.want)
		}
	}
	for _, c := range []struct {
		given, n int
		want     string
	}{{0, 5, "too few points (5)"}, {5, 5, "cannot hold out 5 of 5 points: it must be between 1 and 4"}, {-1, 5, "cannot hold out -1"}} {
		_, err := HoldoutSize(c.given, c.n, "points")
		var he *HoldoutError
		if !errors.As(err, &he) || he.Given != c.given || !strings.Contains(err.Error(), c.want) {
			t.Errorf("HoldoutSize(%d, %d): %v, want a HoldoutError saying %q", c.given, c.n, err, c.want)
		}
	}
}

// TestDataErrors: missing and damaged CIFAR files are DataErrors that say
// which problem; unreadable images of a folder stop loading unless skipped.
func TestDataErrors(t *testing.T) {
	root := t.TempDir()
	// Present folders (nothing to download) without the files.
	for _, ds := range []string{CIFAR10, CIFAR100} {
		folder := map[string]string{CIFAR10: data.CIFAR10Folder, CIFAR100: data.CIFAR100Folder}[ds]
		if err := os.MkdirAll(filepath.Join(root, folder), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Data{Dataset: ds, DataDir: root}.Load()
		var de *DataError
		if !errors.As(err, &de) || de.Problem != DataMissing || de.Dataset != ds || de.Folder != filepath.Join(root, folder) {
			t.Errorf("%s missing: %v (%+v)", ds, err, de)
		}
	}
	for _, f := range []string{data.CIFAR100TrainFile, data.CIFAR100TestFile} {
		if err := os.WriteFile(filepath.Join(root, data.CIFAR100Folder, f), make([]byte, 3074*3), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Data{Dataset: CIFAR100, DataDir: root}.Load()
	var de *DataError
	if !errors.As(err, &de) || de.Problem != DataDamaged || !strings.Contains(err.Error(), "delete the "+data.CIFAR100Folder+" folder") {
		t.Errorf("CIFAR-100 damaged: %v", err)
	}

	photos := filepath.Join(root, "photos")
	fakedata.WriteImageFolder(t, photos, 2, 6, 6, 1)
	if err := os.WriteFile(filepath.Join(photos, "classa", "bad.png"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := Data{Dataset: FolderPrefix + photos, ImageSize: 6, Holdout: 4}
	var bad *data.BadImagesError
	if _, err := d.Load(); !errors.As(err, &bad) || len(bad.Files) != 1 {
		t.Errorf("unreadable image: %v, want a data.BadImagesError", err)
	}
	var warn bytes.Buffer
	d.SkipBadImages, d.Warn = true, &warn
	im, err := d.Load()
	if err != nil || im.Fit.N != 12 || !strings.Contains(warn.String(), "skipped "+filepath.Join(photos, "classa", "bad.png")) {
		t.Errorf("skipping: %v, warnings %q", err, warn.String())
	}
	if _, err := (Data{Dataset: FolderPrefix + filepath.Join(root, "nope")}).Load(); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
}

// TestSuperclassAccuracy: the second level of labels (CIFAR-100's
// superclasses) is scored where the images have one.
func TestSuperclassAccuracy(t *testing.T) {
	// Two groups on a line; fine labels alternate within a group, so fine
	// kNN is poor and superclass kNN perfect.
	pts := []float32{0, 0.1, 0.2, 0.3, 10, 10.1, 10.2, 10.3}
	train := &embedding.Embedding{Points: pts, N: 8, Dim: 1, Labels: []int{0, 1, 0, 1, 2, 3, 2, 3}}
	test := &embedding.Embedding{Points: []float32{0.15, 10.15}, N: 2, Dim: 1, Labels: []int{1, 2}}
	imgs := &data.Dataset{N: 8, CoarseLabels: []int{0, 0, 0, 0, 1, 1, 1, 1}, CoarseClassNames: []string{"near", "far"}}
	testImgs := &data.Dataset{N: 2, CoarseLabels: []int{0, 1}, CoarseClassNames: []string{"near", "far"}}
	acc, err := SuperclassAccuracy(train, test, imgs, testImgs, 3)
	if err != nil || acc == nil || *acc != 1 {
		t.Fatalf("superclass accuracy %v, %v; want 1", acc, err)
	}
	if train.Labels[1] != 1 {
		t.Error("SuperclassAccuracy changed the fine labels")
	}
	if acc, err := SuperclassAccuracy(train, test, &data.Dataset{}, testImgs, 3); acc != nil || err != nil {
		t.Errorf("without superclasses: %v, %v; want nil", acc, err)
	}
}
