package data

import (
	"fmt"
	"os"
	"sync"
)

// mappedPages is the pixel memory of a prepared dataset: a read-only memory
// map of the file (or, where there is no mmap, a buffer).
type mappedPages struct {
	mu      sync.RWMutex
	b       []byte             // nil once unmapped
	unmap   func([]byte) error // nil: nothing to unmap
	release func([]byte) error // nil: nothing to release (not a memory map)
}

// close unmaps the pages; later releases do nothing.
func (m *mappedPages) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.b
	m.b = nil
	if b == nil || m.unmap == nil {
		return nil
	}
	return m.unmap(b)
}

// releaseBytes drops the pages that hold bytes [lo, hi) of the mapping,
// widened to whole pages.
func (m *mappedPages) releaseBytes(lo, hi int) error {
	if m == nil || m.release == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.b == nil {
		return nil
	}
	ps := os.Getpagesize()
	lo = lo / ps * ps
	hi = min(len(m.b), (hi+ps-1)/ps*ps)
	if lo >= hi {
		return nil
	}
	return m.release(m.b[lo:hi])
}

// Mapped reports whether d's images are a memory map of a file (a Prepared
// dataset on Unix, or a copy sharing its images such as WithClassNames
// returns) rather than memory of the process.
func (d *Dataset) Mapped() bool { return d.pages != nil && d.pages.release != nil }

// ReleasePages tells d that the images [lo, hi) will not be read again soon.
// For a mapped dataset (Mapped) their pages stop counting in the process's
// resident memory: they stay in the system's page cache, and reading the
// images again maps them back (the mapping is read-only, so nothing is
// lost). Readers that go over a whole collection call it as they go, so that
// a file larger than memory is read with bounded memory; see PageReleaser.
// For images in memory it does nothing.
func (d *Dataset) ReleasePages(lo, hi int) error {
	if d.pages == nil {
		return nil
	}
	if lo < 0 || hi > d.N || lo > hi {
		return fmt.Errorf("data: ReleasePages(%d, %d) of %s with %d images", lo, hi, d.Name, d.N)
	}
	s := d.ImageSize()
	if err := d.pages.releaseBytes(d.pagesOff+lo*s, d.pagesOff+hi*s); err != nil {
		return fmt.Errorf("data: releasing the pages of images %d-%d of %s: %w", lo, hi, d.Name, err)
	}
	return nil
}

// ReleaseEvery is how many bytes of images a PageReleaser lets a reader go
// through before it releases their pages: the bound on the resident pages of
// a mapped dataset that one reader adds (64 MiB: about 5 000 images of
// 64x64, a few hundred training batches).
const ReleaseEvery = 64 << 20

// PageReleaser releases the pages of a mapped dataset behind a reader, every
// ReleaseEvery bytes read, so that training or embedding over a prepared
// file larger than memory keeps its resident memory bounded. The zero value
// is not usable; make one with NewPageReleaser. It is not safe for
// concurrent use. For a dataset in memory it does nothing.
type PageReleaser struct {
	ds      *Dataset
	inOrder bool
	every   int // bytes between releases (ReleaseEvery)
	read    int // bytes read since the last release
	from    int // first image not yet released (in order)
}

// NewPageReleaser returns a PageReleaser for a reader of ds. An in-order
// reader (images 0, 1, 2, ... as Transform reads them) releases the images
// behind it; any other (training's shuffled batches) releases all of ds's
// pages each time.
func NewPageReleaser(ds *Dataset, inOrder bool) *PageReleaser {
	return &PageReleaser{ds: ds, inOrder: inOrder, every: ReleaseEvery}
}

// Read records that the reader has read n more images, the last of them
// image last (for an in-order reader; ignored otherwise), and releases pages
// when ReleaseEvery bytes have been read since the last release.
func (r *PageReleaser) Read(n, last int) error {
	if !r.ds.Mapped() {
		return nil
	}
	r.read += n * r.ds.ImageSize()
	if r.read < r.every {
		return nil
	}
	r.read = 0
	if !r.inOrder {
		return r.ds.ReleasePages(0, r.ds.N)
	}
	lo := r.from
	r.from = last + 1
	return r.ds.ReleasePages(lo, r.from)
}
