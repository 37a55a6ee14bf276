//go:build !unix

package accel

import "time"

// processCPUTime is not available here: benchmarks then report no CPU-time
// rate.
func processCPUTime() time.Duration { return 0 }
