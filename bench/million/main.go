// Command million times the map tools on 1 000 000 random 2-D points (10
// classes in Gaussian blobs): kNN evaluation with a 10 000-point hold-out,
// outlier scoring, the static map and the interactive page (without
// thumbnails), printing the time and the peak RSS (VmHWM, reset between
// steps) of each; then, where headless Chromium is installed, it opens the
// page and pans it frame by frame (the page's #bench mode) and prints the
// time to open and the frame times. Run it under /usr/bin/time -v for the
// whole program's peak RSS.
//
//	go run ./bench/million -n 1000000 -out /tmp/million
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gosimcne/gosimcne/internal/browser"
	"github.com/gosimcne/gosimcne/internal/memstat"
	"github.com/gosimcne/gosimcne/plots"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
)

func main() {
	n := flag.Int("n", 1000000, "number of points")
	out := flag.String("out", os.TempDir(), "folder for map.png and map.html")
	frames := flag.Int("frames", 40, "frames of panning to time in Chromium (0: no browser)")
	flag.Parse()
	if err := run(*n, *out, *frames); err != nil {
		fmt.Fprintln(os.Stderr, "million:", err)
		os.Exit(1)
	}
}

func run(n int, out string, frames int) error {
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
		memstat.ResetPeakRSS()
		t0 := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%-28s %8.2f s   peak RSS %5.0f MiB\n", name, time.Since(t0).Seconds(), memstat.PeakRSSMiB())
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
	page := filepath.Join(out, "map.html")
	if err := step("interactive page (no images)", func() error {
		p, err := plots.Interactive(xy, labels, names)
		if err != nil {
			return err
		}
		return p.Save(page)
	}); err != nil {
		return err
	}
	if frames <= 0 {
		return nil
	}
	b := browser.Find()
	if b == "" {
		fmt.Println("no Chromium found (apt-get install -y chromium, or set " + browser.EnvVar + "): page not opened")
		return nil
	}
	abs, err := filepath.Abs(page)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	dom, err := browser.DumpDOM(ctx, b, fmt.Sprintf("file://%s#bench=%d", abs, frames), 1280, 800)
	if err != nil {
		return err
	}
	rep, err := browser.ReadPageBench(dom)
	if err != nil {
		return err
	}
	fmt.Printf("Chromium, 1280x800: page open and drawn in %.0f ms; %d frames of panning (%d drew the points): %.1f ms mean, %.1f ms worst (%.1f s in all)\n",
		rep.OpenMS, rep.Frames, rep.Rasters, rep.FrameMSMean, rep.FrameMSMax, time.Since(t0).Seconds())
	return nil
}
