package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// result is the outcome of one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command line args in-process.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	return runCmdContext(t, context.Background(), args...)
}

func runCmdContext(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(ctx, args, &out, &errb)
	r := result{code: code, stdout: out.String(), stderr: errb.String()}
	if testing.Verbose() {
		t.Logf("tsimcne %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	}
	return r
}

// wantCode fails the test unless r exited with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// classColor is the base colour of synthetic class c: far apart, so that
// even a barely trained network separates the classes.
func classColor(c int) [3]int {
	return [3]int{40 + 170*(c&1), 40 + 170*((c>>1)&1), 40 + 170*((c>>2)&1)}
}

// writeImageFolder writes n images of side px per class into dir/<class>/
// (dir directly when classes is 0: unlabelled) as PNG: solid class colours
// with noise.
func writeImageFolder(t *testing.T, dir string, classes, n, px int, seed uint32) {
	t.Helper()
	k := max(classes, 1)
	for c := 0; c < k; c++ {
		sub := dir
		if classes > 0 {
			sub = filepath.Join(dir, "class"+string(rune('a'+c)))
		}
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		base := classColor(c)
		for i := 0; i < n; i++ {
			img := image.NewRGBA(image.Rect(0, 0, px, px))
			for y := 0; y < px; y++ {
				for x := 0; x < px; x++ {
					var v [3]uint8
					for ch := range v {
						seed = seed*1664525 + 1013904223
						v[ch] = uint8(base[ch] + int(seed>>27))
					}
					img.Set(x, y, color.RGBA{v[0], v[1], v[2], 255})
				}
			}
			f, err := os.Create(filepath.Join(sub, "img"+itoa3(i)+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func itoa3(i int) string {
	s := "00" + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
	return s[len(s)-3:]
}

// writeCIFAR writes a CIFAR-10 binary file of n records with synthetic
// images: record i has label i%classes and the class colour with noise.
func writeCIFAR(t *testing.T, path string, n, classes int, seed uint32) {
	t.Helper()
	buf := make([]byte, 0, n*data.CIFAR10RecordSize)
	for i := 0; i < n; i++ {
		c := i % classes
		buf = append(buf, byte(c))
		base := classColor(c)
		for ch := 0; ch < 3; ch++ {
			for p := 0; p < 1024; p++ {
				seed = seed*1664525 + 1013904223
				buf = append(buf, byte(base[ch]+int(seed>>27)))
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustExist fails unless every file exists and is not empty.
func mustExist(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("missing %s: %v", n, err)
			continue
		}
		if fi.Size() == 0 {
			t.Errorf("%s is empty", n)
		}
	}
}
