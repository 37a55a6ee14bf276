// Package fakedata writes small synthetic data sets for the module's tests:
// image folders and CIFAR-10 binary files whose classes are solid colours
// with noise, so far apart that even a barely trained network separates
// them. It is internal: test helpers are not part of the library's API.
package fakedata

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// TestingT is the part of testing.TB the writers use.
type TestingT interface {
	Helper()
	Fatalf(format string, args ...any)
}

// ClassColor is the base colour of synthetic class c.
func ClassColor(c int) [3]int {
	return [3]int{40 + 170*(c&1), 40 + 170*((c>>1)&1), 40 + 170*((c>>2)&1)}
}

// WriteImageFolder writes n PNG images of side px per class into
// dir/class<a, b, ...>/ (into dir directly when classes is 0: unlabelled
// images), named img000.png, img001.png, ...
func WriteImageFolder(t TestingT, dir string, classes, n, px int, seed uint32) {
	t.Helper()
	for c := range max(classes, 1) {
		sub := dir
		if classes > 0 {
			sub = filepath.Join(dir, "class"+string(rune('a'+c)))
		}
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatalf("%v", err)
		}
		base := ClassColor(c)
		for i := range n {
			img := image.NewRGBA(image.Rect(0, 0, px, px))
			for y := range px {
				for x := range px {
					var v [3]uint8
					for ch := range v {
						seed = seed*1664525 + 1013904223
						v[ch] = uint8(base[ch] + int(seed>>27))
					}
					img.Set(x, y, color.RGBA{v[0], v[1], v[2], 255})
				}
			}
			writePNG(t, filepath.Join(sub, fmt.Sprintf("img%03d.png", i)), img)
		}
	}
}

func writePNG(t TestingT, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// WriteCIFAR10 writes a CIFAR-10 binary file of n records (creating its
// folder): record i has label i%classes and the class colour with noise.
func WriteCIFAR10(t TestingT, path string, n, classes int, seed uint32) {
	t.Helper()
	buf := make([]byte, 0, n*data.CIFAR10RecordSize)
	for i := range n {
		c := i % classes
		buf = append(buf, byte(c))
		base := ClassColor(c)
		for ch := range 3 {
			for range 1024 {
				seed = seed*1664525 + 1013904223
				buf = append(buf, byte(base[ch]+int(seed>>27)))
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("%v", err)
	}
}
