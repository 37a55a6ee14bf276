package tsne

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosimcne/gosimcne/internal/datatest"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

// Benchmarks of whole runs with the default settings (PCA where needed,
// perplexity 30, 250 + 500 iterations, FFT repulsion):
//
//	go test ./tsimcne/tsne -run '^$' -bench 'Embed' -benchtime 1x -timeout 30m
//	go test ./tsimcne/tsne -run '^$' -bench 'CIFAR10' -benchtime 1x -timeout 30m
//
// BenchmarkEmbed10k and BenchmarkEmbed60k embed synthetic 50-D data: 10
// Gaussian clusters (centres N(0, 1) per coordinate, points N(centre, 1)),
// the size of a t-SimCNE backbone's features after PCA. BenchmarkCIFAR10
// embeds raw CIFAR-10 pixels (3072-D), skipped when the data are absent.
// Each reports the stages' seconds and the map's kNN accuracy (k = 15, a
// stratified fifth, or the paper's 10 000, held out). Set TSNE_BENCH_LOG=1
// to see the run's log.

// benchClusters returns n clustered 50-D points and their labels.
func benchClusters(n int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(1, 1))
	return clusters(r, n, 50, 10, 1, 1)
}

// benchEmbed runs t-SNE b.N times on the points and reports the stages and
// the kNN accuracy of the last map with nTest points held out.
func benchEmbed(b *testing.B, points []float32, labels []int, dim, nTest int) {
	n := len(labels)
	var opts []Option
	if os.Getenv("TSNE_BENCH_LOG") == "1" {
		opts = append(opts, WithLog(os.Stderr))
	}
	var res *Result
	for b.Loop() {
		var err error
		res, err = EmbedContext(context.Background(), points, n, dim, opts...)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	acc, err := knn.HoldOutAccuracy(res.Embedding, labels, 2, nTest, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(acc.Accuracy, "knn-acc")
	b.ReportMetric(res.KL, "KL")
	b.ReportMetric(res.Times.PCA.Seconds(), "pca-s")
	b.ReportMetric(res.Times.Neighbors.Seconds(), "knn-s")
	b.ReportMetric(res.Times.Affinities.Seconds(), "affinity-s")
	b.ReportMetric(res.Times.Optimize.Seconds(), "optimize-s")
	b.ReportMetric(res.Times.Total.Seconds(), "total-s")
}

func BenchmarkEmbed10k(b *testing.B) {
	pts, labels := benchClusters(10000)
	benchEmbed(b, pts, labels, 50, 2000)
}

func BenchmarkEmbed60k(b *testing.B) {
	pts, labels := benchClusters(60000)
	benchEmbed(b, pts, labels, 50, 10000)
}

// loadCIFAR10 reads CIFAR-10 binary batches and returns the pixels scaled
// to [0, 1], 3072 per image, and the labels.
func loadCIFAR10(b *testing.B, files ...string) ([]float32, []int) {
	folder := datatest.NeedTestData(b, data.CIFAR10Folder)
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(folder, f))
	}
	ds, err := data.LoadCIFAR10Files(paths...)
	if err != nil {
		b.Fatal(err)
	}
	pixels := make([]float32, len(ds.Images))
	for i, p := range ds.Images {
		pixels[i] = float32(p) / 255
	}
	return pixels, ds.Labels
}

// BenchmarkCIFAR10 embeds raw CIFAR-10 pixels: 10k is data_batch_1 (2 000
// held out for the kNN accuracy), 60k all six batches with the t-SimCNE
// paper's protocol (10 000 held out, stratified, seed 1: the pixels
// themselves score 0.342 there, see `tsimcne baseline -eval holdout`).
func BenchmarkCIFAR10(b *testing.B) {
	b.Run("10k", func(b *testing.B) {
		pts, labels := loadCIFAR10(b, data.CIFAR10TrainFiles[0])
		benchEmbed(b, pts, labels, 3072, 2000)
	})
	b.Run("60k", func(b *testing.B) {
		pts, labels := loadCIFAR10(b, append(append([]string(nil), data.CIFAR10TrainFiles...), data.CIFAR10TestFile)...)
		benchEmbed(b, pts, labels, 3072, 10000)
	})
}
