// Command million times the map tools on 1 000 000 random 2-D points (10
// classes in Gaussian blobs): kNN evaluation with a 10 000-point hold-out,
// outlier scoring, the static map and the interactive page (without
// thumbnails), printing the time of each; run it under /usr/bin/time -v for
// the peak RSS. It is the starting measurement of the million-point work
// (issue: maps of a million points).
//
//	go run ./bench/million -n 1000000 -out /tmp/million
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

func main() {
	n := flag.Int("n", 1000000, "number of points")
	out := flag.String("out", os.TempDir(), "folder for map.png and map.html")
	flag.Parse()
	if err := run(*n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "million:", err)
		os.Exit(1)
	}
}

func run(n int, out string) error {
	r := rand.New(rand.NewPCG(1, 2))
	xy, labels := make([]float32, 2*n), make([]int, n)
	names := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
	for i := range n {
		c := r.IntN(10)
		labels[i] = c
		xy[2*i] = float32(3*float64(c%5) + r.NormFloat64())
		xy[2*i+1] = float32(3*float64(c/5) + r.NormFloat64())
	}
	step := func(name string, f func() error) error {
		t0 := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%-28s %8.2f s\n", name, time.Since(t0).Seconds())
		return nil
	}
	if err := step("kNN, 10 000 held out", func() error {
		res, err := knn.HoldOutAccuracy(xy, labels, 2, 10000, 1, knn.WithK(15))
		if err == nil {
			fmt.Printf("  accuracy %.4f\n", res.Accuracy)
		}
		return err
	}); err != nil {
		return err
	}
	if err := step("outlier scores (all points)", func() error {
		_, err := plots.ScoreOutliers(xy, labels)
		return err
	}); err != nil {
		return err
	}
	if err := step("static map (PNG)", func() error {
		fig, err := plots.Map(xy, labels, names)
		if err != nil {
			return err
		}
		return fig.Save(filepath.Join(out, "map.png"))
	}); err != nil {
		return err
	}
	return step("interactive page (no images)", func() error {
		p, err := plots.Interactive(xy, labels, names)
		if err != nil {
			return err
		}
		return p.Save(filepath.Join(out, "map.html"))
	})
}
