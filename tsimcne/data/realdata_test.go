package data

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/internal/datatest"
)

// Tests on the real data sets: CIFAR-10 from datatest.FindTestData (skipped when
// absent, failed when $TSIMCNE_REQUIRE_DATA=1) and Fashion-MNIST from the
// Debian package dataset-fashion-mnist.

func TestRealCIFAR10(t *testing.T) {
	dir := datatest.NeedTestData(t, CIFAR10Folder)
	root := filepath.Dir(dir)
	batch1, test := filepath.Join(dir, "data_batch_1.bin"), filepath.Join(dir, CIFAR10TestFile)

	manifest := readManifest(t, filepath.Join(dir, "manifest.csv"))
	for _, p := range []string{batch1, test} {
		ds, err := LoadCIFAR10Files(p)
		if err != nil {
			t.Fatal(err)
		}
		if ds.N != 10000 {
			t.Errorf("%s: %d records, want 10000", p, ds.N)
		}
		if !slices.Equal(ds.ClassNames, CIFAR10Classes) {
			t.Errorf("%s: class names %v", p, ds.ClassNames)
		}
		if m := manifest[filepath.Base(p)]; m != nil && !slices.Equal(ds.Labels, m) {
			t.Errorf("%s: labels differ from manifest.csv", p)
		}
		if err := ds.Validate(); err != nil {
			t.Error(err)
		}
		if p == test {
			counts := make([]int, 10)
			for _, l := range ds.Labels {
				counts[l]++
			}
			for c, n := range counts {
				if n != 1000 {
					t.Errorf("test_batch: class %d has %d images, want 1000", c, n)
				}
			}
			continue
		}
		// Per-channel means of the training images, as published.
		var sum [3]float64
		for i, v := range ds.Images {
			sum[i%3] += float64(v)
		}
		for c, want := range []float64{0.4914, 0.4822, 0.4465} {
			if got := sum[c] / float64(ds.N*1024) / 255; math.Abs(got-want) > 0.01 {
				t.Errorf("data_batch_1: channel %d mean %.4f, want %.4f", c, got, want)
			}
		}
		// Rows are rows: photos have sky above ground, so the top of the
		// images is bluer than the bottom, far more than the left than the
		// right (which a row/column mix-up would swap).
		topBottom, leftRight := blueShift(ds, true), blueShift(ds, false)
		t.Logf("blue shift top-bottom %.4f left-right %.4f", topBottom, leftRight)
		if topBottom < 0.03 || math.Abs(leftRight) > topBottom/4 {
			t.Errorf("data_batch_1: (blue-red) top minus bottom %.4f, left minus right %.4f: rows and columns mixed up?", topBottom, leftRight)
		}
	}

	// The standard loader on the shared folder: all five training batches
	// (5000 images per class) and the test batch.
	tr, err := LoadCIFAR10(root, Train)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 10)
	for _, l := range tr.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 5000 {
			t.Errorf("training batches: class %d has %d images, want 5000", c, n)
		}
	}
	ds, err := LoadCIFAR10(root, All)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 60000 || tr.N != 50000 {
		t.Errorf("train N=%d, all N=%d, want 50000 and 60000", tr.N, ds.N)
	}
	for _, f := range CIFAR10TrainFiles {
		part, err := LoadCIFAR10Files(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if m := manifest[f]; m != nil && !slices.Equal(part.Labels, m) {
			t.Errorf("%s: labels differ from manifest.csv", f)
		}
	}

	// A folder with only some training batches: the standard loader names
	// the missing one, AvailableBatches takes what is there.
	partial := filepath.Join(t.TempDir(), CIFAR10Folder)
	if err := os.MkdirAll(partial, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"data_batch_1.bin", CIFAR10TestFile} {
		if err := os.Symlink(filepath.Join(dir, f), filepath.Join(partial, f)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = LoadCIFAR10(filepath.Dir(partial), Train)
	wantErr(t, err, "data_batch_2.bin", "not found", "AvailableBatches")
	ds, err = LoadCIFAR10(filepath.Dir(partial), All, AvailableBatches())
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 20000 || ds.Name != "cifar10/all (1 of 5 batches)" {
		t.Errorf("all available: N=%d name %q", ds.N, ds.Name)
	}
}

// blueShift returns the mean of (blue - red)/255 over the top (or left) 8
// rows (columns) minus that over the bottom (right) 8.
func blueShift(ds *Dataset, rows bool) float64 {
	var a, b float64
	for i := range ds.N {
		img := ds.Image(i)
		for y := range 32 {
			for x := range 32 {
				k := y
				if !rows {
					k = x
				}
				p := img[(y*32+x)*3:]
				d := float64(p[2]) - float64(p[0])
				if k < 8 {
					a += d
				} else if k >= 24 {
					b += d
				}
			}
		}
	}
	return (a - b) / float64(ds.N*8*32) / 255
}

// readManifest returns the labels per file of manifest.csv (file, record,
// label, ...), or nil if it is absent.
func readManifest(t *testing.T, path string) map[string][]int {
	f, err := os.Open(path)
	if err != nil {
		t.Logf("no manifest: %v", err)
		return nil
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string][]int{}
	for _, r := range rows[1:] {
		rec, err1 := strconv.Atoi(r[1])
		label, err2 := strconv.Atoi(r[2])
		if err1 != nil || err2 != nil || rec != len(out[r[0]]) {
			t.Fatalf("%s: bad row %v", path, r)
		}
		out[r[0]] = append(out[r[0]], label)
	}
	return out
}

func TestRealFashionMNIST(t *testing.T) {
	dir := filepath.Join(DebianDatasetsDir, FashionMNISTFolder)
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		datatest.MissingTestData(t, "Fashion-MNIST not installed ("+err.Error()+"; apt-get install -y dataset-fashion-mnist)")
		return
	}
	train, err := LoadFashionMNIST(DebianDatasetsDir, Train)
	if err != nil {
		t.Fatal(err)
	}
	test, err := LoadFashionMNIST(DebianDatasetsDir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 {
		t.Errorf("%d train and %d test images, want 60000 and 10000", train.N, test.N)
	}
	if train.Height != 28 || train.Width != 28 || train.Channels != 3 {
		t.Errorf("shape %dx%dx%d", train.Height, train.Width, train.Channels)
	}
	if !slices.Equal(train.Labels[:4], []int{9, 0, 0, 3}) {
		t.Errorf("first train labels %v, want [9 0 0 3]", train.Labels[:4])
	}
	counts := make([]int, 10)
	for _, l := range test.Labels {
		counts[l]++
	}
	if slices.Min(counts) != 1000 || slices.Max(counts) != 1000 {
		t.Errorf("test class counts %v, want 1000 each", counts)
	}
	// Grey: all channels equal; the first image (an ankle boot) has a black
	// border and a bright centre.
	img := train.Image(0)
	for p := 0; p < 28*28; p++ {
		if img[3*p] != img[3*p+1] || img[3*p] != img[3*p+2] {
			t.Fatalf("pixel %d not grey: %v", p, img[3*p:3*p+3])
		}
	}
	if img[0] != 0 || train.Images[3*(14*28+14)] < 100 {
		t.Errorf("first image: corner %d, centre %d", img[0], img[3*(14*28+14)])
	}
	if err := train.Validate(); err != nil {
		t.Error(err)
	}
	if !strings.HasPrefix(train.Name, "fashion-mnist/") {
		t.Errorf("name %q", train.Name)
	}
}
