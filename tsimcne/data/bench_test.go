package data

import (
	"path/filepath"
	"testing"

	"github.com/gosimcne/gosimcne/internal/datatest"
)

// BenchmarkLoadCIFAR10Files60k loads 60 000 real CIFAR-10 images (the two
// shared files three times each) from disk.
func BenchmarkLoadCIFAR10Files60k(b *testing.B) {
	dir := datatest.NeedTestData(b, CIFAR10Folder)
	b1, test := filepath.Join(dir, "data_batch_1.bin"), filepath.Join(dir, CIFAR10TestFile)
	b.SetBytes(60000 * CIFAR10RecordSize)
	for b.Loop() {
		ds, err := LoadCIFAR10Files(b1, test, b1, test, b1, test)
		if err != nil || ds.N != 60000 {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCIFAR10 decodes 10 000 records held in memory.
func BenchmarkParseCIFAR10(b *testing.B) {
	raw := make([]byte, 10000*CIFAR10RecordSize)
	for i := range raw {
		raw[i] = byte(i % 7)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseCIFAR10(raw, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadFashionMNIST loads the 70 000 gzipped Fashion-MNIST images of
// the Debian package.
func BenchmarkLoadFashionMNIST(b *testing.B) {
	for b.Loop() {
		ds, err := LoadFashionMNIST(DebianDatasetsDir, All)
		if err != nil {
			b.Skip(err)
		}
		if ds.N != 70000 {
			b.Fatal(ds.N)
		}
	}
}
