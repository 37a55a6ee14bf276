package tsne

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gosimcne/gosimcne/internal/datatest"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// TestCIFAR10Pixels embeds the raw pixels (3072-D) of the first 2000 images
// of CIFAR-10's test batch: randomized PCA to 50-D, exact repulsion. The
// map's kNN accuracy (k = 15, 400 held out) is compared with that of the
// pixels themselves; with so few images both are low (measured 0.28 for
// the map and 0.26 for the pixels), so the band is wide: it catches a
// broken pipeline (chance is 0.10), not a small loss. The files are found
// by internal/datatest (skipped when absent unless TSIMCNE_REQUIRE_DATA=1);
// skipped under -short. BenchmarkCIFAR10 has the full-size runs.
func TestCIFAR10Pixels(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: t-SNE of 2000 CIFAR-10 images takes a few seconds")
	}
	folder := datatest.NeedTestData(t, data.CIFAR10Folder)
	ds, err := data.LoadCIFAR10Files(filepath.Join(folder, data.CIFAR10TestFile))
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	pixels := make([]float32, n*3072)
	for i, p := range ds.Images[:n*3072] {
		pixels[i] = float32(p) / 255
	}
	labels := ds.Labels[:n]
	res, err := EmbedContext(context.Background(), pixels, n, 3072, WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	mapAcc, err := knn.HoldOutAccuracy(res.Embedding, labels, 2, n/5, 1)
	if err != nil {
		t.Fatal(err)
	}
	pixAcc, err := knn.HoldOutAccuracy(pixels, labels, 3072, n/5, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CIFAR-10 test batch, %d images: map kNN accuracy %.4f, pixels %.4f; KL %.4f, %v (PCA %v)",
		n, mapAcc.Accuracy, pixAcc.Accuracy, res.KL, res.Times.Total, res.Times.PCA)
	if res.SearchDim != 50 || res.Repulsion != RepulsionExact {
		t.Errorf("searched in %d-D with %v repulsion, want 50-D, exact", res.SearchDim, res.Repulsion)
	}
	if mapAcc.Accuracy < 0.18 || mapAcc.Accuracy > 0.45 {
		t.Errorf("map kNN accuracy %.4f outside [0.18, 0.45]", mapAcc.Accuracy)
	}
}
