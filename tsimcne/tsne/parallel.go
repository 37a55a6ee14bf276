package tsne

import (
	"sync"
	"sync/atomic"
)

// forChunks splits [0, n) into consecutive chunks of grain items (the last
// one shorter) and calls fn(w, c, lo, hi) for chunk c = lo/grain from up to
// workers goroutines; w in [0, workers) names the goroutine, so that fn can
// use per-goroutine scratch space. The chunk boundaries do not depend on the
// number of workers: a reduction that stores one partial result per chunk
// and adds them up in chunk order gives the same bits for any number of
// workers, which is how every sum in this package is made deterministic.
func forChunks(n, grain, workers int, fn func(w, c, lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(1, grain)
	chunks := numChunks(n, grain)
	workers = max(1, min(workers, chunks))
	if workers == 1 {
		for c := range chunks {
			fn(0, c, c*grain, min(n, (c+1)*grain))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks {
					return
				}
				fn(w, c, c*grain, min(n, (c+1)*grain))
			}
		})
	}
	wg.Wait()
}

// numChunks is the number of chunks forChunks makes of n items.
func numChunks(n, grain int) int {
	grain = max(1, grain)
	return (n + grain - 1) / grain
}
