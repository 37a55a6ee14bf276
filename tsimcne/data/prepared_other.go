//go:build !unix

package data

import (
	"fmt"
	"io"
	"os"
)

// mapRecords reads length bytes of f from offset into memory: systems
// without a Unix mmap get the pixels in memory instead of a mapping. The
// returned function drops them.
func mapRecords(f *os.File, offset, length int64) ([]byte, func() error, error) {
	if int64(int(length)) != length {
		return nil, nil, fmt.Errorf("%d bytes of pixels do not fit in memory", length)
	}
	b := make([]byte, length)
	if _, err := io.ReadFull(io.NewSectionReader(f, offset, length), b); err != nil {
		return nil, nil, fmt.Errorf("reading %d bytes of pixels: %w", length, err)
	}
	return b, func() error { return nil }, nil
}
