package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
)

// idxBytes builds an IDX file with the given magic, dimensions and data.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// greyImages returns n h x w grey images with pixel (i,y,x) = i*31+y*7+x.
func greyImages(n, h, w int) []byte {
	var b []byte
	for i := range n {
		for y := range h {
			for x := range w {
				b = append(b, byte(i*31+y*7+x))
			}
		}
	}
	return b
}

func TestParseIDX(t *testing.T) {
	raw := idxBytes(IDXImagesMagic, []int{2, 3, 4}, greyImages(2, 3, 4))
	for name, b := range map[string][]byte{"raw": raw, "gz": gzipBytes(t, raw)} {
		idx, err := ParseIDX(b, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if idx.Magic != IDXImagesMagic || !slices.Equal(idx.Dims, []int{2, 3, 4}) || !bytes.Equal(idx.Data, greyImages(2, 3, 4)) {
			t.Errorf("%s: got magic %x dims %v data %v", name, idx.Magic, idx.Dims, idx.Data)
		}
	}
	lb, err := ParseIDX(idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3}), "labels")
	if err != nil || !slices.Equal(lb.Dims, []int{3}) {
		t.Fatalf("labels: %v %v", lb, err)
	}
}

func TestParseIDXBadInput(t *testing.T) {
	good := idxBytes(IDXImagesMagic, []int{2, 3, 4}, greyImages(2, 3, 4))
	gz := gzipBytes(t, good)
	corruptGz := slices.Clone(gz)
	corruptGz[len(corruptGz)-6] ^= 0xff // CRC
	for _, c := range []struct {
		name  string
		data  []byte
		parts []string
	}{
		{"empty", nil, []string{"read 0 of 4 magic bytes"}},
		{"not idx", []byte("PK\x03\x04 a zip file"), []string{"not an IDX magic"}},
		{"float type", idxBytes(0x00000D03, []int{1, 1, 1}, []byte{0, 0, 0, 0}), []string{"data type 0x0d not supported"}},
		{"no dims", idxBytes(0x00000800, nil, nil), []string{"0 dimensions"}},
		{"too many dims", idxBytes(0x00000809, nil, nil), []string{"9 dimensions"}},
		{"short header", good[:9], []string{"header", "dimension bytes"}},
		{"truncated", good[:len(good)-1], []string{"truncated", "need 24 data bytes, found 23"}},
		{"extra", append(slices.Clone(good), 0), []string{"more data than dimensions", "byte offset 40"}},
		{"huge dims", idxBytes(IDXImagesMagic, []int{1 << 30, 1 << 20, 1 << 20}, []byte{1}), []string{"corrupt header"}},
		{"truncated gz", gz[:len(gz)-10], []string{"gzipped IDX file"}},
		{"corrupt gz", corruptGz, []string{"gzipped IDX file", "checksum"}},
		{"gz header only", gz[:5], []string{"gzipped IDX file"}},
	} {
		_, err := ParseIDX(c.data, c.name+".idx")
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		wantErr(t, err, append([]string{c.name + ".idx"}, c.parts...)...)
	}
}

// writeIDXPair writes images and labels IDX files and returns their paths.
func writeIDXPair(t *testing.T, dir, prefix string, gz bool, n int, labels []byte) (string, string) {
	t.Helper()
	im := idxBytes(IDXImagesMagic, []int{n, 3, 2}, greyImages(n, 3, 2))
	lb := idxBytes(IDXLabelsMagic, []int{len(labels)}, labels)
	imName, lbName := prefix+"-images-idx3-ubyte", prefix+"-labels-idx1-ubyte"
	if gz {
		im, lb = gzipBytes(t, im), gzipBytes(t, lb)
		imName, lbName = imName+".gz", lbName+".gz"
	}
	imPath, lbPath := filepath.Join(dir, imName), filepath.Join(dir, lbName)
	writeFile(t, imPath, im)
	writeFile(t, lbPath, lb)
	return imPath, lbPath
}

func TestLoadIDX(t *testing.T) {
	dir := t.TempDir()
	im, lb := writeIDXPair(t, dir, "train", true, 3, []byte{2, 0, 1})
	ds, err := LoadIDX(im, lb, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 3 || ds.Height != 3 || ds.Width != 2 || ds.Channels != 3 || !slices.Equal(ds.Labels, []int{2, 0, 1}) {
		t.Fatalf("N=%d %dx%dx%d labels %v", ds.N, ds.Height, ds.Width, ds.Channels, ds.Labels)
	}
	grey := greyImages(3, 3, 2)
	for i, v := range grey {
		if px := ds.Images[3*i : 3*i+3]; px[0] != v || px[1] != v || px[2] != v {
			t.Fatalf("pixel %d = %v, want grey %d replicated", i, px, v)
		}
	}
	if err := ds.Validate(); err != nil {
		t.Error(err)
	}

	_, err = LoadIDX(im, lb, []string{"a", "b"})
	wantErr(t, err, lb, "label 2 of record 0", "byte offset 8", "out of range [0,2)")
	_, err = LoadIDX(lb, im, []string{"a", "b", "c"})
	wantErr(t, err, lb, "is not an images file", "1 dimensions [3]", "want 3 (images, height, width")
	_, err = LoadIDX(im, im, []string{"a", "b", "c"})
	wantErr(t, err, im, "is not a labels file", "3 dimensions [3 ", "want 1 (one label per image")
	im2, lb2 := writeIDXPair(t, dir, "t10k", false, 3, []byte{0, 1})
	_, err = LoadIDX(im2, lb2, []string{"a", "b", "c"})
	wantErr(t, err, im2, lb2, "3 images", "2 labels")
	_, err = LoadIDX(filepath.Join(dir, "missing"), lb2, nil)
	wantErr(t, err, "missing")
	im3, lb3 := writeIDXPair(t, t.TempDir(), "x", false, 0, nil)
	_, err = LoadIDX(im3, lb3, nil)
	wantErr(t, err, im3, "no images")
}

func TestLoadFashionMNISTLayout(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, FashionMNISTFolder)
	writeIDXPair(t, folder, "train", true, 3, []byte{9, 0, 0})
	writeIDXPair(t, folder, "t10k", false, 2, []byte{3, 4})

	ds, err := LoadFashionMNIST(dir, All)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 5 || !slices.Equal(ds.Labels, []int{9, 0, 0, 3, 4}) || ds.Name != "fashion-mnist/all" {
		t.Fatalf("N=%d labels %v name %q", ds.N, ds.Labels, ds.Name)
	}
	if ds.ClassNames[9] != "Ankle boot" {
		t.Errorf("class names %v", ds.ClassNames)
	}
	// First test image comes after the 3 train images.
	if got, want := ds.Image(3)[0], greyImages(1, 3, 2)[0]; got != want {
		t.Errorf("test image 0 pixel 0 = %d, want %d", got, want)
	}
	// The files may also be directly in dir.
	if ds, err := LoadFashionMNIST(folder, Test); err != nil || ds.N != 2 {
		t.Errorf("files directly in dir: %v", err)
	}
	// dir "" searches DataDir()/fashion-mnist first.
	t.Setenv(EnvDataDir, dir)
	if ds, err := LoadFashionMNIST("", Train); err != nil || ds.N != 3 || ds.Name != "fashion-mnist/train" {
		t.Errorf("dir \"\": %v", err)
	}

	// MNIST uses the same layout in mnist/.
	writeIDXPair(t, filepath.Join(dir, MNISTFolder), "t10k", true, 2, []byte{7, 1})
	ds, err = LoadMNIST(dir, Test)
	if err != nil || ds.N != 2 || ds.ClassNames[7] != "7" {
		t.Fatalf("LoadMNIST: %v", err)
	}
	_, err = LoadMNIST(dir, Train)
	wantErr(t, err, "MNIST train files not found", "train-images-idx3-ubyte[.gz]", filepath.Join(dir, MNISTFolder))

	_, err = LoadFashionMNIST(t.TempDir(), Test)
	wantErr(t, err, "t10k-images-idx3-ubyte[.gz]", "t10k-labels-idx1-ubyte[.gz]", "apt-get install dataset-fashion-mnist")
}
