package data

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pixelValue is the synthetic value of record i, channel c, row y, column x:
// different for neighbouring records, channels, rows and columns.
func pixelValue(i, c, y, x int) byte { return byte(i*13 + c*71 + y*5 + x*3) }

// cifarRecords builds CIFAR records with the given label bytes per record
// (1 for CIFAR-10, 2 for CIFAR-100) and synthetic pixels; first is the index
// used for pixelValue of the first record.
func cifarRecords(first int, labels ...[]byte) []byte {
	var out []byte
	for k, lb := range labels {
		i := first + k
		out = append(out, lb...)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					out = append(out, pixelValue(i, c, y, x))
				}
			}
		}
	}
	return out
}

func labels10(ls ...int) [][]byte {
	out := make([][]byte, len(ls))
	for i, l := range ls {
		out[i] = []byte{byte(l)}
	}
	return out
}

// checkPixels checks that ds holds the synthetic pixels of records
// first..first+N-1 in NHWC order.
func checkPixels(t *testing.T, ds *Dataset, first int) {
	t.Helper()
	if ds.Height != 32 || ds.Width != 32 || ds.Channels != 3 {
		t.Fatalf("shape %dx%dx%d, want 32x32x3", ds.Height, ds.Width, ds.Channels)
	}
	for i := range ds.N {
		img := ds.Image(i)
		for y := range 32 {
			for x := range 32 {
				for c := range 3 {
					if got, want := img[(y*32+x)*3+c], pixelValue(first+i, c, y, x); got != want {
						t.Fatalf("image %d pixel (y=%d,x=%d,c=%d) = %d, want %d", i, y, x, c, got, want)
					}
				}
			}
		}
	}
}

func TestParseCIFAR10Layout(t *testing.T) {
	raw := cifarRecords(0, labels10(3, 0, 9)...)
	ds, err := ParseCIFAR10(raw, "x")
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 3 || !slices.Equal(ds.Labels, []int{3, 0, 9}) || ds.CoarseLabels != nil {
		t.Fatalf("N=%d labels=%v coarse=%v", ds.N, ds.Labels, ds.CoarseLabels)
	}
	if !slices.Equal(ds.ClassNames, CIFAR10Classes) {
		t.Errorf("class names %v", ds.ClassNames)
	}
	checkPixels(t, ds, 0)
	if err := ds.Validate(); err != nil {
		t.Error(err)
	}
	// The red plane comes first: a record with only red set is red.
	rec := make([]byte, CIFAR10RecordSize)
	for p := 1; p <= 1024; p++ {
		rec[p] = 200
	}
	ds, err = ParseCIFAR10(rec, "red")
	if err != nil {
		t.Fatal(err)
	}
	if px := ds.Image(0)[3*500 : 3*500+3]; !slices.Equal(px, []byte{200, 0, 0}) {
		t.Errorf("red record pixel = %v, want [200 0 0]", px)
	}
}

func TestParseCIFAR100(t *testing.T) {
	raw := cifarRecords(5, []byte{19, 99}, []byte{0, 0}, []byte{4, 55})
	ds, err := ParseCIFAR100(raw, "y")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Labels, []int{99, 0, 55}) || !slices.Equal(ds.CoarseLabels, []int{19, 0, 4}) {
		t.Fatalf("fine %v coarse %v", ds.Labels, ds.CoarseLabels)
	}
	if len(ds.ClassNames) != 100 || len(ds.CoarseClassNames) != 20 {
		t.Errorf("%d fine, %d coarse names", len(ds.ClassNames), len(ds.CoarseClassNames))
	}
	checkPixels(t, ds, 5)
	if err := ds.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBuiltinClassNames(t *testing.T) {
	for _, c := range []struct {
		names []string
		n     int
	}{{CIFAR10Classes, 10}, {CIFAR100Classes, 100}, {CIFAR100CoarseClasses, 20}, {FashionMNISTClasses, 10}, {MNISTClasses, 10}} {
		if len(c.names) != c.n {
			t.Errorf("%v: %d names, want %d", c.names[:3], len(c.names), c.n)
		}
		if !slices.IsSorted(c.names) && c.n == 100 {
			t.Errorf("CIFAR-100 fine names must be in alphabetical (label) order")
		}
		seen := map[string]bool{}
		for _, n := range c.names {
			if seen[n] {
				t.Errorf("duplicate class name %q", n)
			}
			seen[n] = true
		}
	}
	if !slices.IsSorted(CIFAR100CoarseClasses) {
		t.Errorf("CIFAR-100 coarse names must be in alphabetical (label) order")
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestParseCIFARBadInput(t *testing.T) {
	good := cifarRecords(0, labels10(1, 2)...)
	_, err := ParseCIFAR10(nil, "empty.bin")
	wantErr(t, err, "empty.bin", "empty")
	_, err = ParseCIFAR10(good[:len(good)-1], "cut.bin")
	wantErr(t, err, "cut.bin", "1 records and 3072 bytes over")
	_, err = ParseCIFAR10(append(good, 0), "long.bin")
	wantErr(t, err, "long.bin", "2 records and 1 bytes over")
	// CIFAR-100 data read as CIFAR-10: 3074-byte records.
	_, err = ParseCIFAR10(cifarRecords(0, []byte{1, 2}), "c100.bin")
	wantErr(t, err, "c100.bin", "not a whole number")

	bad := slices.Clone(good)
	bad[CIFAR10RecordSize] = 10
	_, err = ParseCIFAR10(bad, "lab.bin")
	wantErr(t, err, "lab.bin", "record 1", "byte offset 3073", "label 10")

	_, err = ParseCIFAR100(cifarRecords(0, []byte{1, 2}, []byte{20, 3}), "coarse.bin")
	wantErr(t, err, "coarse.bin", "record 1", "coarse label 20")
	_, err = ParseCIFAR100(cifarRecords(0, []byte{1, 100}), "fine.bin")
	wantErr(t, err, "fine.bin", "record 0", "byte offset 1", "fine label 100")
}

// writeFile writes data to dir/name, creating folders.
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeCIFAR10 writes a CIFAR-10 folder below dir whose batch k (0-4 train, 5
// test) holds 2 records labelled k and (k+1)%10, with pixels of records 2k
// and 2k+1, and lowers the expected record count to 2.
func fakeCIFAR10(t *testing.T, dir string, skip ...string) {
	t.Helper()
	old := cifar10BatchRecords
	cifar10BatchRecords = 2
	t.Cleanup(func() { cifar10BatchRecords = old })
	for k, name := range append(slices.Clone(CIFAR10TrainFiles), CIFAR10TestFile) {
		if slices.Contains(skip, name) {
			continue
		}
		writeFile(t, filepath.Join(dir, CIFAR10Folder, name), cifarRecords(2*k, labels10(k, (k+1)%10)...))
	}
}

func TestLoadCIFAR10(t *testing.T) {
	dir := t.TempDir()
	fakeCIFAR10(t, dir)
	for _, c := range []struct {
		split  Split
		labels []int
		first  int
	}{
		{Train, []int{0, 1, 1, 2, 2, 3, 3, 4, 4, 5}, 0},
		{Test, []int{5, 6}, 10},
		{All, []int{0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6}, 0},
	} {
		ds, err := LoadCIFAR10(dir, c.split)
		if err != nil {
			t.Fatalf("%v: %v", c.split, err)
		}
		if !slices.Equal(ds.Labels, c.labels) {
			t.Errorf("%v: labels %v, want %v", c.split, ds.Labels, c.labels)
		}
		if ds.Name != "cifar10/"+c.split.String() {
			t.Errorf("name %q", ds.Name)
		}
		checkPixels(t, ds, c.first)
		if !slices.Equal(ds.ClassNames, CIFAR10Classes) {
			t.Errorf("class names %v", ds.ClassNames)
		}
		if err := ds.Validate(); err != nil {
			t.Error(err)
		}
	}

	// Names from batches.meta.txt when present.
	names := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n"
	writeFile(t, filepath.Join(dir, CIFAR10Folder, CIFAR10MetaFile), []byte(names))
	ds, err := LoadCIFAR10(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if ds.ClassNames[0] != "a" || ds.ClassNames[9] != "j" || len(ds.ClassNames) != 10 {
		t.Errorf("class names %v", ds.ClassNames)
	}
	writeFile(t, filepath.Join(dir, CIFAR10Folder, CIFAR10MetaFile), []byte("a\nb\n"))
	_, err = LoadCIFAR10(dir, Test)
	wantErr(t, err, CIFAR10MetaFile, "2 names, want 10")

	// dir "" is DataDir().
	t.Setenv(EnvDataDir, dir)
	os.Remove(filepath.Join(dir, CIFAR10Folder, CIFAR10MetaFile))
	if ds, err := LoadCIFAR10("", Test); err != nil || ds.N != 2 {
		t.Errorf("LoadCIFAR10(\"\"): %v", err)
	}
	_, err = LoadCIFAR10(dir, Split(7))
	wantErr(t, err, "invalid split")
}

func TestLoadCIFAR10MissingAndBadFiles(t *testing.T) {
	dir := t.TempDir()
	fakeCIFAR10(t, dir, "data_batch_3.bin", "data_batch_5.bin")
	_, err := LoadCIFAR10(dir, Train)
	wantErr(t, err, filepath.Join(dir, CIFAR10Folder, "data_batch_3.bin"), "not found", "EnsureCIFAR10",
		CIFAR10Archive.URL, "AvailableBatches")
	_, err = LoadCIFAR10(dir, All)
	wantErr(t, err, "data_batch_3.bin")
	// The test split needs no train batch.
	if _, err := LoadCIFAR10(dir, Test); err != nil {
		t.Error(err)
	}

	ds, err := LoadCIFAR10(dir, All, AvailableBatches())
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 1, 2, 3, 4, 5, 6}; !slices.Equal(ds.Labels, want) {
		t.Errorf("labels %v, want %v", ds.Labels, want)
	}
	if ds.Name != "cifar10/all (3 of 5 batches)" {
		t.Errorf("name %q", ds.Name)
	}

	// No train batch at all.
	empty := t.TempDir()
	fakeCIFAR10(t, empty, CIFAR10TrainFiles...)
	_, err = LoadCIFAR10(empty, Train, AvailableBatches())
	wantErr(t, err, "data_batch_1.bin", "not found")
	// No test batch.
	os.Remove(filepath.Join(dir, CIFAR10Folder, CIFAR10TestFile))
	_, err = LoadCIFAR10(dir, All, AvailableBatches())
	wantErr(t, err, "test_batch.bin", "not found")

	// Truncated and oversized batches against the official count.
	p1 := filepath.Join(dir, CIFAR10Folder, "data_batch_1.bin")
	writeFile(t, p1, cifarRecords(0, labels10(1)...))
	_, err = LoadCIFAR10(dir, Train, AvailableBatches())
	wantErr(t, err, p1, "truncated", "want 6146")
	writeFile(t, p1, cifarRecords(0, labels10(1, 2, 3)...))
	_, err = LoadCIFAR10(dir, Train, AvailableBatches())
	wantErr(t, err, p1, "too large")
	// A label out of range, in the second file.
	writeFile(t, p1, cifarRecords(0, labels10(1, 2)...))
	p2 := filepath.Join(dir, CIFAR10Folder, "data_batch_2.bin")
	writeFile(t, p2, cifarRecords(0, labels10(1, 12)...))
	_, err = LoadCIFAR10(dir, Train, AvailableBatches())
	wantErr(t, err, p2, "record 1", "label 12")
}

func TestLoadCIFAR10Files(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.bin")
	b := filepath.Join(dir, "b.bin")
	writeFile(t, a, cifarRecords(0, labels10(7, 8, 9)...))
	writeFile(t, b, cifarRecords(3, labels10(0)...))
	ds, err := LoadCIFAR10Files(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 4 || !slices.Equal(ds.Labels, []int{7, 8, 9, 0}) || ds.Name != "cifar10/a+b" {
		t.Fatalf("N=%d labels=%v name=%q", ds.N, ds.Labels, ds.Name)
	}
	checkPixels(t, ds, 0)

	_, err = LoadCIFAR10Files(a, filepath.Join(dir, "nope.bin"))
	wantErr(t, err, "nope.bin")
	_, err = LoadCIFAR10Files()
	wantErr(t, err, "no CIFAR-10 files")
	_, err = LoadCIFAR10Files(dir)
	wantErr(t, err, "not a regular file")
	writeFile(t, b, []byte("hello"))
	_, err = LoadCIFAR10Files(a, b)
	wantErr(t, err, b, "not a whole number")
}

func TestLoadCIFAR100(t *testing.T) {
	dir := t.TempDir()
	oldTrain, oldTest := cifar100TrainCount, cifar100TestCount
	cifar100TrainCount, cifar100TestCount = 3, 1
	t.Cleanup(func() { cifar100TrainCount, cifar100TestCount = oldTrain, oldTest })
	folder := filepath.Join(dir, CIFAR100Folder)

	_, err := LoadCIFAR100(dir, Train)
	wantErr(t, err, filepath.Join(folder, CIFAR100TrainFile), "EnsureCIFAR100", CIFAR100Archive.URL)

	writeFile(t, filepath.Join(folder, CIFAR100TrainFile), cifarRecords(0, []byte{1, 10}, []byte{2, 20}, []byte{3, 30}))
	writeFile(t, filepath.Join(folder, CIFAR100TestFile), cifarRecords(3, []byte{19, 99}))
	ds, err := LoadCIFAR100(dir, All)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Labels, []int{10, 20, 30, 99}) || !slices.Equal(ds.CoarseLabels, []int{1, 2, 3, 19}) {
		t.Fatalf("fine %v coarse %v", ds.Labels, ds.CoarseLabels)
	}
	checkPixels(t, ds, 0)
	if !slices.Equal(ds.ClassNames, CIFAR100Classes) || !slices.Equal(ds.CoarseClassNames, CIFAR100CoarseClasses) {
		t.Error("want the built-in names")
	}
	if err := ds.Validate(); err != nil {
		t.Error(err)
	}

	// Names files.
	var fine, coarse strings.Builder
	for i := range 100 {
		fine.WriteString("f" + string(rune('0'+i%10)) + "\n")
	}
	for range 20 {
		coarse.WriteString("c\n")
	}
	writeFile(t, filepath.Join(folder, CIFAR100FineNamesFile), []byte(fine.String()))
	writeFile(t, filepath.Join(folder, CIFAR100CoarseNamesFile), []byte(coarse.String()))
	ds, err = LoadCIFAR100(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 1 || ds.ClassNames[99] != "f9" || ds.CoarseClassNames[19] != "c" || ds.Name != "cifar100/test" {
		t.Errorf("N=%d names %q %q name %q", ds.N, ds.ClassNames[99], ds.CoarseClassNames[19], ds.Name)
	}
	writeFile(t, filepath.Join(folder, CIFAR100CoarseNamesFile), []byte("x\n"))
	_, err = LoadCIFAR100(dir, Test)
	wantErr(t, err, CIFAR100CoarseNamesFile, "1 names, want 20")

	// Truncated train.bin.
	writeFile(t, filepath.Join(folder, CIFAR100TrainFile), cifarRecords(0, []byte{1, 10}))
	_, err = LoadCIFAR100(dir, Train)
	wantErr(t, err, CIFAR100TrainFile, "truncated")

	// LoadCIFAR100Files: any number of records.
	ds, err = LoadCIFAR100Files(filepath.Join(folder, CIFAR100TrainFile))
	if err == nil {
		t.Errorf("want the bad coarse names file reported, got %d images", ds.N)
	}
	os.Remove(filepath.Join(folder, CIFAR100CoarseNamesFile))
	ds, err = LoadCIFAR100Files(filepath.Join(folder, CIFAR100TrainFile))
	if err != nil || ds.N != 1 || ds.ClassNames[0] != "f0" {
		t.Errorf("LoadCIFAR100Files: %v", err)
	}
}

func TestSplit(t *testing.T) {
	for _, s := range []Split{Train, Test, All} {
		got, err := ParseSplit(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSplit(%q) = %v, %v", s, got, err)
		}
	}
	_, err := ParseSplit("validation")
	wantErr(t, err, "validation")
	if Split(9).String() != "Split(9)" {
		t.Error(Split(9).String())
	}
}
