package data

import (
	"bytes"
	"testing"
)

// Fuzz targets for the binary parsers: they must return an error or a valid
// Dataset for any input, never panic. Run e.g.
//
//	go test -run XXX -fuzz FuzzParseCIFAR10 -fuzztime 60s ./tsimcne/data/

func FuzzParseCIFAR10(f *testing.F) {
	f.Add(cifarRecords(0, labels10(1, 2)...))
	f.Add([]byte{})
	f.Add([]byte{10})
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := ParseCIFAR10(b, "fuzz")
		if err != nil {
			return
		}
		if ds.N*CIFAR10RecordSize != len(b) {
			t.Fatalf("%d records from %d bytes", ds.N, len(b))
		}
		if err := ds.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseCIFAR100(f *testing.F) {
	f.Add(cifarRecords(0, []byte{19, 99}))
	f.Add([]byte{20, 100})
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := ParseCIFAR100(b, "fuzz")
		if err != nil {
			return
		}
		if ds.N*CIFAR100RecordSize != len(b) {
			t.Fatalf("%d records from %d bytes", ds.N, len(b))
		}
		if err := ds.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseIDX(f *testing.F) {
	img := idxBytes(IDXImagesMagic, []int{2, 3, 4}, greyImages(2, 3, 4))
	f.Add(img)
	f.Add(gzipBytes(f, img))
	f.Add(idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3}))
	f.Add(gzipBytes(f, idxBytes(IDXLabelsMagic, []int{3}, []byte{1, 2, 3})))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ParseIDX(b, "fuzz")
		if err != nil {
			return
		}
		size := 1
		for _, d := range idx.Dims {
			size *= d
		}
		if len(idx.Data) != size || len(idx.Dims) != int(idx.Magic&0xff) || idx.Magic>>8 != 0x08 {
			t.Fatalf("magic %x dims %v, %d data bytes", idx.Magic, idx.Dims, len(idx.Data))
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) && len(b) != 4+4*len(idx.Dims)+size {
			t.Fatalf("raw file of %d bytes gave dims %v", len(b), idx.Dims)
		}
		// As a pair with made-up labels, the Dataset must be valid or an error.
		if idx.Magic == IDXImagesMagic {
			lb := &IDX{Magic: IDXLabelsMagic, Dims: []int{idx.Dims[0]}, Data: make([]byte, idx.Dims[0])}
			if ds, err := idxDataset(idx, lb, "im", "lb", MNISTClasses); err == nil {
				if err := ds.Validate(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
