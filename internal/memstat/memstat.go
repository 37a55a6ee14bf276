// Package memstat reads the process's resident memory: its peak, for
// benchmarks that report memory next to time, and its current size against
// the machine's, for a guard that stops a command before the system's
// out-of-memory killer would end it without a word. Linux only (/proc);
// elsewhere the values read as 0, the peak cannot be reset and the guard
// does nothing.
package memstat

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procKiB returns the value in KiB of the line key (e.g. "VmRSS:") of a
// /proc file, or 0.
func procKiB(path, key string) float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			if fields := strings.Fields(rest); len(fields) >= 1 {
				if kb, err := strconv.ParseFloat(fields[0], 64); err == nil {
					return kb
				}
			}
		}
	}
	return 0
}

// RSSMiB returns the process's resident set size now (VmRSS), in MiB.
func RSSMiB() float64 { return procKiB("/proc/self/status", "VmRSS:") / 1024 }

// TotalMiB returns the machine's memory (MemTotal of /proc/meminfo), in MiB.
func TotalMiB() float64 { return procKiB("/proc/meminfo", "MemTotal:") / 1024 }

// Guard checks the resident set size every interval and calls onExceed
// once, with the size in MiB, when it passes limitMiB; the returned function
// stops it. A limitMiB of 0 or less, or a system without /proc, guards
// nothing.
func Guard(limitMiB float64, interval time.Duration, onExceed func(rssMiB float64)) (stop func()) {
	done := make(chan struct{})
	if limitMiB <= 0 || RSSMiB() == 0 {
		return func() {}
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if rss := RSSMiB(); rss > limitMiB {
					onExceed(rss)
					return
				}
			}
		}
	}()
	return sync.OnceFunc(func() { close(done) })
}

// PeakRSSMiB returns the process's peak resident set size (VmHWM in
// /proc/self/status) in MiB, or 0 where unavailable. It never decreases,
// unless ResetPeakRSS resets it.
func PeakRSSMiB() float64 { return procKiB("/proc/self/status", "VmHWM:") / 1024 }

// ResetPeakRSS sets the peak to the current resident set size (writing 5
// to /proc/self/clear_refs, Linux 4.0 and later), so that PeakRSSMiB then
// measures one phase of a program. It does nothing where unsupported.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
