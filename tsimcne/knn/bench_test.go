package knn

import (
	"math/rand/v2"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/spatial/kdtree"
)

// Benchmarks of the paper's three evaluation settings:
//
//	go test ./tsimcne/knn -run '^$' -bench . -benchtime 3x
//
// 2-D: 60 000 points in 10 Gaussian clusters (a stand-in for a t-SimCNE
// map); 3072-D: 10 000 x 10 000 uniform points (raw CIFAR pixels' size).

var (
	map2DOnce   sync.Once
	map2D       []float32
	map2DLabels []int
)

// benchMap2D returns 60 000 2-D points in 10 overlapping clusters.
func benchMap2D() ([]float32, []int) {
	map2DOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 1))
		map2D, map2DLabels = clusters(r, 60000, 2, 10, 4)
	})
	return map2D, map2DLabels
}

func BenchmarkAccuracy2D(b *testing.B) {
	p, l := benchMap2D()
	for b.Loop() {
		if _, err := Accuracy(p[:2*50000], l[:50000], p[2*50000:], l[50000:], 2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHoldOutAccuracy2D(b *testing.B) {
	p, l := benchMap2D()
	for b.Loop() {
		if _, err := HoldOutAccuracy(p, l, 2, 10000, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNeighbors2D(b *testing.B) {
	p, _ := benchMap2D()
	for b.Loop() {
		if _, err := Neighbors(p, 2, 15); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuery2DOneWorker and BenchmarkKDTreeGonum compare this package's
// k-d tree with gonum's on one core: 10 000 queries, k=15, into 50 000
// points, tree construction included.
func BenchmarkQuery2DOneWorker(b *testing.B) {
	p, _ := benchMap2D()
	for b.Loop() {
		if _, err := Query(p[:2*50000], p[2*50000:], 2, 15, WithWorkers(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKDTreeGonum(b *testing.B) {
	p, _ := benchMap2D()
	for b.Loop() {
		pts := make(kdtree.Points, 50000)
		for i := range pts {
			pts[i] = kdtree.Point{float64(p[2*i]), float64(p[2*i+1])}
		}
		tree := kdtree.New(pts, false)
		for i := 50000; i < 60000; i++ {
			keep := kdtree.NewNKeeper(15)
			tree.NearestSet(keep, kdtree.Point{float64(p[2*i]), float64(p[2*i+1])})
		}
	}
}

var (
	pixOnce        sync.Once
	pixTrain       []float32
	pixTest        []float32
	pixTrainLabels []int
	pixTestLabels  []int
)

// benchPixels returns 10 000 + 10 000 uniform points in [0,1]^3072.
func benchPixels() ([]float32, []int, []float32, []int) {
	pixOnce.Do(func() {
		r := rand.New(rand.NewPCG(2, 2))
		const n, dim = 10000, 3072
		pixTrain, pixTest = make([]float32, n*dim), make([]float32, n*dim)
		for i := range pixTrain {
			pixTrain[i], pixTest[i] = r.Float32(), r.Float32()
		}
		pixTrainLabels, pixTestLabels = make([]int, n), make([]int, n)
		for i := range n {
			pixTrainLabels[i], pixTestLabels[i] = r.IntN(10), r.IntN(10)
		}
	})
	return pixTrain, pixTrainLabels, pixTest, pixTestLabels
}

func BenchmarkAccuracy3072(b *testing.B) {
	train, trainLabels, test, testLabels := benchPixels()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Accuracy(train, trainLabels, test, testLabels, 3072); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*1e4*1e4*3072/b.Elapsed().Seconds()*float64(b.N)/1e9, "GFLOP/s")
}

// BenchmarkAccuracy512: 10 000 x 10 000 points of 512-D, the backbone
// features' size.
func BenchmarkAccuracy512(b *testing.B) {
	train, trainLabels, test, testLabels := benchPixels()
	// The first 512 coordinates of each pixel point, as 512-D points.
	sub := func(p []float32) []float32 {
		out := make([]float32, 10000*512)
		for i := range 10000 {
			copy(out[i*512:(i+1)*512], p[i*3072:])
		}
		return out
	}
	tr, te := sub(train), sub(test)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Accuracy(tr, trainLabels, te, testLabels, 512); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDots2000 compares the dot-product work of the brute-force search
// (2000 x 2000 x 3072) with gonum's Sgemm: the reason for the assembly
// kernel.
func BenchmarkDots2000(b *testing.B) {
	train, _, test, _ := benchPixels()
	const n, dim = 2000, 3072
	b.Run("kernel", func(b *testing.B) {
		trainSet, _ := newPointSet("train", train[:n*dim], dim, Config{Workers: 2})
		testSet, _ := newPointSet("test", test[:n*dim], dim, Config{Workers: 2})
		cfg, _ := newConfig(nil)
		b.ResetTimer()
		for b.Loop() {
			bruteSearch(cfg, trainSet, testSet, 15, false)
		}
		b.ReportMetric(2*n*n*dim/b.Elapsed().Seconds()*float64(b.N)/1e9, "GFLOP/s")
	})
	b.Run("gonum-sgemm", func(b *testing.B) {
		c := make([]float32, n*n)
		for b.Loop() {
			blas32.Gemm(blas.NoTrans, blas.Trans, 1,
				blas32.General{Rows: n, Cols: dim, Stride: dim, Data: test[:n*dim]},
				blas32.General{Rows: n, Cols: dim, Stride: dim, Data: train[:n*dim]},
				0, blas32.General{Rows: n, Cols: n, Stride: n, Data: c})
		}
		b.ReportMetric(2*n*n*dim/b.Elapsed().Seconds()*float64(b.N)/1e9, "GFLOP/s")
	})
}
