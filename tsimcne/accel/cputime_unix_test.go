//go:build unix

package accel

import (
	"syscall"
	"time"
)

// processCPUTime returns the user+system CPU time of the process so far:
// benchmarks report GFLOP per CPU-second next to wall-clock GFLOP/s,
// because on a shared machine the former hardly depends on other load.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
