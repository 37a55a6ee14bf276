// Command bigfolder measures a large image folder end to end, with bounded
// memory: it generates a folder of synthetic JPEG files (10 classes, each a
// colour with a random rectangle and noise), prepares it once into a
// memory-mapped dataset file (data.PrepareImageFolder), trains one epoch
// from the mapping (the whole network, straight in 2-D) and embeds every
// image, printing the time and the peak resident memory (VmHWM, reset
// between phases through /proc/self/clear_refs) of each phase.
//
//	go run ./bench/bigfolder -n 200000 -size 64 -dir /tmp/bigfolder
//
// It is the benchmark of the issue on collections beyond memory: 200 000
// JPEG files of 64x64 with a peak RSS under 3 GB.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/gosimcne/gosimcne/internal/memstat"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

func main() {
	n := flag.Int("n", 200000, "number of images")
	size := flag.Int("size", 64, "side of the images in pixels (generated and prepared)")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "bigfolder"), "folder of the generated images (reused when it holds n images)")
	backbone := flag.String("backbone", "cnn-tiny", "backbone to train")
	batch := flag.Int("batch", 256, "batch size")
	embedBatch := flag.Int("embed-batch", 500, "images per step when embedding")
	trainImages := flag.Int("train-images", 0, "train the epoch on N images spread over the folder (copied into memory; 0: all, from the mapping), e.g. to measure the embedding of a million images without an epoch over them")
	flag.Parse()
	if err := run(*n, *size, *dir, *backbone, *batch, *embedBatch, *trainImages); err != nil {
		fmt.Fprintln(os.Stderr, "bigfolder:", err)
		os.Exit(1)
	}
}

func run(n, size int, dir, backbone string, batch, embedBatch, trainImages int) error {
	src := filepath.Join(dir, "images")
	phase := func(name string, f func() error) error {
		memstat.ResetPeakRSS()
		t0 := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Printf("%-36s %9.1f s   peak RSS %6.0f MiB\n", name, time.Since(t0).Seconds(), memstat.PeakRSSMiB())
		return nil
	}
	if err := phase(fmt.Sprintf("generate %d JPEG files", n), func() error { return generate(src, n, size) }); err != nil {
		return err
	}
	var p *data.Prepared
	if err := phase("prepare (decode, write records)", func() error {
		var err error
		p, err = data.PrepareImageFolder(src, filepath.Join(dir, "prepared.gsd"), data.WithSize(size))
		return err
	}); err != nil {
		return err
	}
	defer p.Close()
	fmt.Printf("  %d images of %dx%d, %d classes, %.0f MiB of pixels mapped\n", p.N, p.Width, p.Height,
		len(p.ClassNames), float64(len(p.Images))/(1<<20))
	cfg := tsimcne.QuickConfig()
	cfg.Backbone, cfg.BatchSize, cfg.EmbedBatchSize = backbone, batch, embedBatch
	cfg.Epochs, cfg.WarmupEpochs, cfg.StageLRFactors = [3]int{0, 0, 1}, [3]int{}, [3]float64{1, 1, 1}
	cfg.DropLast = true
	cfg.Progress = tsimcne.ProgressLines
	var m *tsimcne.Model
	if err := phase("train one epoch (from the mapping)", func() error {
		var err error
		if m, err = tsimcne.New(cfg); err != nil {
			return err
		}
		ds := p.Dataset
		if trainImages > 0 && trainImages < ds.N {
			// Every (N/trainImages)-th image: all classes (the folder's
			// order is by class), copied into memory.
			idx := make([]int, trainImages)
			for j := range idx {
				idx[j] = j * ds.N / trainImages
			}
			ds = ds.Subset(idx)
		}
		return m.Fit(ds)
	}); err != nil {
		return err
	}
	return phase("embed every image", func() error {
		emb, err := m.Transform(p.Dataset)
		if err == nil {
			fmt.Printf("  map of %d points\n", emb.N)
		}
		return err
	})
}

// generate writes n JPEG files of size×size pixels into dir/class<k>/,
// unless dir already holds n files.
func generate(dir string, n, size int) error {
	if count(dir) == n {
		fmt.Printf("  %s holds %d images already\n", dir, n)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for c := range 10 {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("class%d", c)), 0o755); err != nil {
			return err
		}
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := writeImage(dir, i, size); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// writeImage writes image i: its class's colour, a rectangle of another
// colour at a random place, and noise.
func writeImage(dir string, i, size int) error {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	c := i % 10
	base := color.RGBA{uint8(40 + 20*c), uint8(200 - 15*c), uint8(60 + 17*(c%4)), 255}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	x0, y0 := r.IntN(size/2), r.IntN(size/2)
	w, h := size/4+r.IntN(size/4), size/4+r.IntN(size/4)
	for y := range size {
		for x := range size {
			col := base
			if x >= x0 && x < x0+w && y >= y0 && y < y0+h {
				col = color.RGBA{base.B, base.R, base.G, 255}
			}
			d := uint8(r.IntN(24))
			img.SetRGBA(x, y, color.RGBA{col.R/2 + d, col.G/2 + d, col.B/2 + d, 255})
		}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("class%d", c), fmt.Sprintf("%07d.jpg", i)))
	if err != nil {
		return err
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// count returns the number of files in dir's class folders (0 if none).
func count(dir string) int {
	n := 0
	classes, _ := os.ReadDir(dir)
	for _, c := range classes {
		files, _ := os.ReadDir(filepath.Join(dir, c.Name()))
		n += len(files)
	}
	return n
}
