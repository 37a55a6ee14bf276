package tsimcne

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gosimcne/gosimcne/internal/datatest"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// The model shipped with the repository (the cpu preset's committed run,
// exported with `tsimcne export`) and the map of the first 100 CIFAR-10
// test images it gave when it was committed.
const (
	shippedModel = "../docs/results/cpu/model.gsm"
	shippedMap   = "../docs/results/cpu/test_first100.csv"
)

// TestShippedModel loads the committed model and reproduces its committed
// map of the first 100 test images.
func TestShippedModel(t *testing.T) {
	h, err := ReadExportHeader(shippedModel)
	if err != nil {
		t.Fatal(err)
	}
	if h.DType != "float16" || h.Config.Backbone != "cnn4" {
		t.Errorf("shipped model: dtype %s backbone %s, want float16 cnn4", h.DType, h.Config.Backbone)
	}
	dir := datatest.NeedTestData(t, data.CIFAR10Folder)
	test, err := data.LoadCIFAR10Files(filepath.Join(dir, data.CIFAR10TestFile))
	if err != nil {
		t.Fatal(err)
	}
	want := readMapCSV(t, shippedMap)
	m, err := Load(shippedModel)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := m.Transform(test.Head(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	var extent, maxDiff float64
	for i, p := range want {
		for d := range 2 {
			extent = max(extent, math.Abs(p[d]))
			maxDiff = max(maxDiff, math.Abs(float64(emb.Points[2*i+d])-p[d]))
		}
	}
	t.Logf("largest difference %.3g, map extent %.3g", maxDiff, extent)
	if maxDiff > 1e-3*extent {
		t.Errorf("the shipped model's map differs from the committed one by %.3g (extent %.3g)", maxDiff, extent)
	}
}

// readMapCSV reads the x, y columns of an embedding .csv (x, y, label, class).
func readMapCSV(t *testing.T, path string) [][2]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]float64
	for _, r := range rows[1:] {
		x, err1 := strconv.ParseFloat(r[0], 64)
		y, err2 := strconv.ParseFloat(r[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad row %v", path, r)
		}
		out = append(out, [2]float64{x, y})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no points", path)
	}
	return out
}
