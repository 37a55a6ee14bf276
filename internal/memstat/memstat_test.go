package memstat

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestPeakFollowsAllocation touches 64 MiB after a reset and checks that
// the peak grows by about as much.
func TestPeakFollowsAllocation(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux's")
	}
	debug.FreeOSMemory() // earlier tests' freed heap must not be reused while resident
	ResetPeakRSS()
	before := PeakRSSMiB()
	if before <= 0 {
		t.Fatalf("peak RSS %v MiB", before)
	}
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = byte(i)
	}
	during := PeakRSSMiB()
	if during < before+48 {
		t.Errorf("peak %v MiB after touching 64 MiB, was %v", during, before)
	}
	runtime.KeepAlive(b)
}
