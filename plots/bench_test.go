package plots

import (
	"math"
	"testing"
)

// Benchmarks on 60 000 points (CIFAR-10 train+test size), five clusters:
//
//	go test -run XXX -bench . ./plots

func BenchmarkMapPNG60k(b *testing.B) {
	xy, labels, names := blobs(10, 6000, 61)
	for b.Loop() {
		f, err := Map(xy, labels, names)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMapSVG60k(b *testing.B) {
	xy, labels, names := blobs(10, 6000, 61)
	for b.Loop() {
		f, err := Map(xy, labels, names)
		if err != nil {
			b.Fatal(err)
		}
		svg, err := f.SVG()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(svg))/60000, "bytes/point")
	}
}

func BenchmarkScoreOutliers60k(b *testing.B) {
	xy, labels, _ := blobs(10, 6000, 61)
	for b.Loop() {
		if _, err := ScoreOutliers(xy, labels); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInteractive60k(b *testing.B) {
	xy, labels, names := blobs(10, 6000, 61)
	ds := solidImages(labels)
	for b.Loop() {
		p, err := Interactive(xy, labels, names, Images(ds))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(p.HTML())), "bytes")
	}
}

// collapsedMap returns n identical points (a collapsed map, as early in
// training or after a divergence) with labels cycling through 10 classes,
// followed by 20 scattered points of class 0.
func collapsedMap(n int) (xy []float32, labels []int) {
	xy = make([]float32, 0, 2*(n+20))
	for i := range n {
		xy = append(xy, 0.25, -1.5)
		labels = append(labels, i%10)
	}
	for j := range 20 {
		a := 2 * math.Pi * float64(j) / 20
		xy = append(xy, float32(5*math.Cos(a)), float32(5*math.Sin(a)))
		labels = append(labels, 0)
	}
	return xy, labels
}

// BenchmarkScoreOutliersDuplicates scores a collapsed map of 20 000
// identical points: gonum's k-d tree, used before, visited the whole tree for
// every query there (tens of seconds); tsimcne/knn's tree orders ties by
// index and skips them.
func BenchmarkScoreOutliersDuplicates(b *testing.B) {
	xy, labels := collapsedMap(20000)
	for b.Loop() {
		if _, err := ScoreOutliers(xy, labels); err != nil {
			b.Fatal(err)
		}
	}
}
