package memstat

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
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

// TestGuard: a limit below the current size fires once with the size; a
// limit far above it does not fire; stopping twice is fine.
func TestGuard(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmRSS is Linux's")
	}
	if total := TotalMiB(); total < 64 {
		t.Fatalf("machine memory %v MiB", total)
	}
	fired := make(chan float64, 2)
	stop := Guard(1, time.Millisecond, func(rss float64) { fired <- rss })
	defer stop()
	select {
	case rss := <-fired:
		if rss < 1 {
			t.Errorf("fired with %v MiB", rss)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a 1 MiB limit did not fire")
	}
	time.Sleep(10 * time.Millisecond)
	if len(fired) != 0 {
		t.Error("fired more than once")
	}

	quiet := Guard(TotalMiB()*4, time.Millisecond, func(float64) { fired <- 0 })
	time.Sleep(30 * time.Millisecond)
	quiet()
	quiet()
	if len(fired) != 0 {
		t.Error("a limit above the machine's memory fired")
	}
	Guard(0, time.Millisecond, func(float64) { fired <- 0 })()
}
