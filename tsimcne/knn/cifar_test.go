package knn

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// This file checks kNN accuracy on real CIFAR-10 pixels. It reads the
// official binary batches itself (1 label byte + 3072 pixel bytes per record)
// so that it does not depend on the data package.
//
// The data folder is $TSIMCNE_DATA (absolute, or relative to the current
// folder or to the module root) or <module root>/../shared/data. The test
// skips when the files are absent unless TSIMCNE_REQUIRE_DATA=1, and skips
// under -short (it takes several seconds).

// findTestData returns the first existing candidate data folder, or "".
func findTestData() string {
	wd, _ := os.Getwd()
	root := ""
	for d := wd; d != "" && d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
			break
		}
	}
	var candidates []string
	if d := os.Getenv("TSIMCNE_DATA"); d != "" {
		if filepath.IsAbs(d) {
			candidates = append(candidates, d)
		} else {
			candidates = append(candidates, filepath.Join(wd, d))
			if root != "" {
				candidates = append(candidates, filepath.Join(root, d))
			}
		}
	}
	if root != "" {
		candidates = append(candidates, filepath.Join(root, "..", "shared", "data"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(c, "cifar-10-batches-bin")); err == nil && st.IsDir() {
			return c
		}
	}
	return ""
}

// readCIFARBatch reads a CIFAR-10 binary batch into pixels scaled to [0, 1]
// (3072 per image, channel-major as stored) and labels.
func readCIFARBatch(path string) ([]float32, []int, error) {
	const rec = 1 + 3072
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) == 0 || len(b)%rec != 0 {
		return nil, nil, fmt.Errorf("%s: %d bytes, not a positive multiple of the %d-byte record", path, len(b), rec)
	}
	n := len(b) / rec
	pixels := make([]float32, n*3072)
	labels := make([]int, n)
	for i := range n {
		r := b[i*rec : (i+1)*rec]
		if r[0] > 9 {
			return nil, nil, fmt.Errorf("%s: record %d: label %d > 9", path, i, r[0])
		}
		labels[i] = int(r[0])
		for j, p := range r[1:] {
			pixels[i*3072+j] = float32(p) / 255
		}
	}
	return pixels, labels, nil
}

// TestCIFAR10Pixels: kNN (k=15, Euclidean) on raw pixels, data_batch_1 ->
// test_batch. Published numbers for pixel-space kNN on CIFAR-10 are around
// 0.30-0.35 with the full training set; with one batch (10 000 images) it is
// about 0.30.
func TestCIFAR10Pixels(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: kNN on 10000 x 10000 CIFAR-10 images takes several seconds")
	}
	dir := findTestData()
	if dir == "" {
		msg := "CIFAR-10 data not found: set TSIMCNE_DATA or put cifar-10-batches-bin in <module root>/../shared/data"
		if os.Getenv("TSIMCNE_REQUIRE_DATA") == "1" {
			t.Fatal(msg + " (TSIMCNE_REQUIRE_DATA=1)")
		}
		t.Skip(msg)
	}
	folder := filepath.Join(dir, "cifar-10-batches-bin")
	train, trainLabels, err := readCIFARBatch(filepath.Join(folder, "data_batch_1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	test, testLabels, err := readCIFARBatch(filepath.Join(folder, "test_batch.bin"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Accuracy(train, trainLabels, test, testLabels, 3072)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CIFAR-10 raw pixels, %d train -> %d test, %v in %v", len(trainLabels), len(testLabels), res, time.Since(start))
	if res.Accuracy < 0.25 || res.Accuracy > 0.36 {
		t.Errorf("pixel kNN accuracy %.4f outside the expected band [0.25, 0.36]", res.Accuracy)
	}
	if res.Total != len(testLabels) || len(res.PerClass) != 10 {
		t.Errorf("evaluated %d test images in %d classes, want %d in 10", res.Total, len(res.PerClass), len(testLabels))
	}
}
