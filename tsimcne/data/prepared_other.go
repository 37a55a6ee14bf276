//go:build !unix

package data

import (
	"fmt"
	"io"
	"os"
)

// mapRecords reads length bytes of f from offset into memory: systems
// without a Unix mmap get the pixels in memory instead of a mapping, and
// releasing pages does nothing.
func mapRecords(f *os.File, offset, length int64) (*mappedPages, error) {
	if int64(int(length)) != length {
		return nil, fmt.Errorf("%d bytes of pixels do not fit in memory", length)
	}
	b := make([]byte, length)
	if _, err := io.ReadFull(io.NewSectionReader(f, offset, length), b); err != nil {
		return nil, fmt.Errorf("reading %d bytes of pixels: %w", length, err)
	}
	return &mappedPages{b: b}, nil
}
