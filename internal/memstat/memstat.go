// Package memstat reads the process's peak resident memory, for benchmarks
// that report memory next to time. Linux only (/proc); elsewhere the peak
// reads as 0 and cannot be reset.
package memstat

import (
	"os"
	"strconv"
	"strings"
)

// PeakRSSMiB returns the process's peak resident set size (VmHWM in
// /proc/self/status) in MiB, or 0 where unavailable. It never decreases,
// unless ResetPeakRSS resets it.
func PeakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if fields := strings.Fields(rest); len(fields) >= 1 {
				if kb, err := strconv.ParseFloat(fields[0], 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}

// ResetPeakRSS sets the peak to the current resident set size (writing 5
// to /proc/self/clear_refs, Linux 4.0 and later), so that PeakRSSMiB then
// measures one phase of a program. It does nothing where unsupported.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
