//go:build unix

package data

import (
	"fmt"
	"os"
	"syscall"
)

// mapRecords maps length bytes of f from offset (a multiple of the page
// size) read-only: the pages are read from the page cache on demand and can
// be dropped again (releasePages) without losing anything, because the
// mapping is never written.
func mapRecords(f *os.File, offset, length int64) (*mappedPages, error) {
	if length == 0 {
		return &mappedPages{b: []byte{}}, nil
	}
	if int64(int(length)) != length {
		return nil, fmt.Errorf("%d bytes of pixels do not fit in memory addresses", length)
	}
	b, err := syscall.Mmap(int(f.Fd()), offset, int(length), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("memory-mapping %d bytes of pixels: %w", length, err)
	}
	return &mappedPages{b: b[:length:length],
		unmap:   func(b []byte) error { return syscall.Munmap(b) },
		release: releaseMapped}, nil
}

// releaseMapped drops the pages of b (which starts on a page boundary) from
// the process (MADV_DONTNEED): they stay in the page cache, and the next read
// maps them again. Safe only because the mapping is read-only.
func releaseMapped(b []byte) error { return syscall.Madvise(b, syscall.MADV_DONTNEED) }
