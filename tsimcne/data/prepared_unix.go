//go:build unix

package data

import (
	"fmt"
	"os"
	"syscall"
)

// mapRecords maps length bytes of f from offset (a multiple of the page
// size) privately, copy-on-write: the pages are read from the page cache on
// demand, and writes to them never reach the file. The returned function
// unmaps them.
func mapRecords(f *os.File, offset, length int64) ([]byte, func() error, error) {
	if length == 0 {
		return []byte{}, func() error { return nil }, nil
	}
	if int64(int(length)) != length {
		return nil, nil, fmt.Errorf("%d bytes of pixels do not fit in memory addresses", length)
	}
	b, err := syscall.Mmap(int(f.Fd()), offset, int(length), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("memory-mapping %d bytes of pixels: %w", length, err)
	}
	return b[:length:length], func() error { return syscall.Munmap(b) }, nil
}
