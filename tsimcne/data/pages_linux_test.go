package data

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// mappingRSS returns the resident bytes of the mapping that holds b, from
// /proc/self/smaps.
func mappingRSS(t *testing.T, b []byte) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	defer f.Close()
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := smapsRange(line); ok {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no mapping at %#x in /proc/self/smaps", addr)
	return 0
}

// smapsRange parses the address range of a mapping's first line in smaps.
func smapsRange(line string) (lo, hi uint64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 5 {
		return 0, 0, false
	}
	a, b, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// touch reads images [lo, hi) of ds and returns a checksum of the pixels
// (also kept in touched, so that the reads are never optimised away).
func touch(ds *Dataset, lo, hi int) uint64 {
	var sum uint64
	for i := lo; i < hi; i++ {
		for _, v := range ds.Image(i) {
			sum = sum*31 + uint64(v)
		}
	}
	touched = sum
	return sum
}

var touched uint64

func TestReleasePagesBoundsResidentMemory(t *testing.T) {
	dir := prepFolder(t, 3, 40)
	p, err := PrepareImageFolder(dir, filepath.Join(t.TempDir(), "x.gsd"), WithSize(64))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Mapped() {
		t.Fatal("a prepared dataset on Linux is not mapped")
	}
	total := len(p.Images) // 120 images of 12 KiB: 1.4 MiB
	sum := touch(p.Dataset, 0, p.N)
	if got := mappingRSS(t, p.Images); got < total {
		t.Fatalf("after reading every image the mapping has %d resident bytes, want all %d", got, total)
	}
	if err := p.ReleasePages(0, p.N); err != nil {
		t.Fatal(err)
	}
	if got := mappingRSS(t, p.Images); got > 0 {
		t.Errorf("after ReleasePages(0, N) the mapping has %d resident bytes, want 0", got)
	}
	if got := touch(p.Dataset, 0, p.N); got != sum {
		t.Error("the images changed after their pages were released")
	}

	// Part of the images: the released ones go, the others stay.
	if err := p.ReleasePages(0, 60); err != nil {
		t.Fatal(err)
	}
	if got, want := mappingRSS(t, p.Images), total/2; got != want {
		t.Errorf("after releasing half the images %d resident bytes, want %d", got, want)
	}

	// A Slice releases its own images, at its offset in the mapping.
	touch(p.Dataset, 0, p.N)
	second, err := p.Slice(60, 120)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.ReleasePages(0, 60); err != nil {
		t.Fatal(err)
	}
	if got, want := mappingRSS(t, p.Images), total/2; got != want {
		t.Errorf("after releasing the second half through a Slice %d resident bytes, want %d", got, want)
	}
	if got := touch(p.Dataset, 0, 60); got != touch(p.Dataset, 0, 60) || mappingRSS(t, p.Images) != total/2 {
		t.Error("the first half is not the one left resident")
	}

	// An in-order reader with a budget of 10 images keeps at most the
	// images since the last release resident.
	if err := p.ReleasePages(0, p.N); err != nil {
		t.Fatal(err)
	}
	r := NewPageReleaser(p.Dataset, true)
	r.every = 10 * p.ImageSize()
	peak := 0
	for lo := 0; lo < p.N; lo += 4 {
		hi := min(lo+4, p.N)
		touch(p.Dataset, lo, hi)
		peak = max(peak, mappingRSS(t, p.Images))
		if err := r.Read(hi-lo, hi-1); err != nil {
			t.Fatal(err)
		}
	}
	// A fault maps up to 64 KiB of neighbouring cached pages too (the
	// kernel's fault-around), hence the allowance.
	const faultAround = 64 << 10
	if want := 12*p.ImageSize() + faultAround; peak > want {
		t.Errorf("in-order reader with a 10-image budget: peak %d resident bytes, want at most %d", peak, want)
	}
	if got := mappingRSS(t, p.Images); got > 12*p.ImageSize()+faultAround {
		t.Errorf("after the in-order reader %d resident bytes left", got)
	}

	// A shuffled reader releases everything each time.
	r = NewPageReleaser(p.Dataset, false)
	r.every = 10 * p.ImageSize()
	touch(p.Dataset, 0, p.N)
	if err := r.Read(10, 0); err != nil {
		t.Fatal(err)
	}
	if got := mappingRSS(t, p.Images); got > 0 {
		t.Errorf("after a shuffled reader's release %d resident bytes, want 0", got)
	}

	for _, bad := range [][2]int{{-1, 3}, {0, p.N + 1}, {5, 4}} {
		if err := p.ReleasePages(bad[0], bad[1]); err == nil {
			t.Errorf("ReleasePages(%d, %d) of %d images: no error", bad[0], bad[1], p.N)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.ReleasePages(0, 0); err != nil {
		t.Errorf("ReleasePages after Close: %v", err)
	}
}

func TestPageReleaserInMemoryDoesNothing(t *testing.T) {
	ds := &Dataset{Name: "mem", N: 2, Height: 1, Width: 1, Channels: 3, Images: make([]byte, 6)}
	if ds.Mapped() {
		t.Fatal("an in-memory dataset says it is mapped")
	}
	r := NewPageReleaser(ds, true)
	r.every = 1
	if err := r.Read(2, 1); err != nil || ds.ReleasePages(0, 2) != nil {
		t.Fatal("releasing the pages of images in memory failed")
	}
}
