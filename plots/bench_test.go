package plots

import "testing"

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
