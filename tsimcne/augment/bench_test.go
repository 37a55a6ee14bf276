package augment

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkViews measures the paper's augmentations on 32x32 images
// (batches of 256 images = 512 views) and reports views per second per
// worker core ("views/s/core"; the goal is >= 20 000). Run with e.g.
//
//	go test ./tsimcne/augment -run XXX -bench Views -benchtime 2s
func BenchmarkViews(b *testing.B) {
	ds := randomDataset(1024, 32, 32, 1)
	const batch = 256
	indices := make([]int, batch)
	for i := range indices {
		indices[i] = i
	}
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		for _, name := range []string{"default", "medical", "plain"} {
			var cfg Config
			switch name {
			case "default":
				cfg = DefaultConfig()
			case "medical":
				cfg = MedicalConfig()
			case "plain":
				cfg = IdentityConfig()
			}
			cfg.Workers = workers
			b.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(b *testing.B) {
				a, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				n := batch * a.ViewLen(ds)
				v1, v2 := make([]float32, n), make([]float32, n)
				b.ReportAllocs()
				b.ResetTimer()
				step := uint64(0)
				for b.Loop() {
					for k := range indices {
						indices[k] = (indices[k] + batch) % ds.N
					}
					if err := a.ViewsInto(ds, indices, step, v1, v2); err != nil {
						b.Fatal(err)
					}
					step++
				}
				views := float64(2 * batch * b.N)
				sec := b.Elapsed().Seconds()
				b.ReportMetric(views/sec, "views/s")
				b.ReportMetric(views/sec/float64(workers), "views/s/core")
			})
		}
	}
}
