//go:build !noaccel

package accel

import (
	"strings"
	"testing"
)

func TestInstall(t *testing.T) {
	if err := Install(); err != nil {
		t.Fatalf("Install: %v", err)
	}
	if !Installed() {
		t.Fatal("Installed() is false after a successful Install")
	}
	if err := Install(); err != nil {
		t.Fatalf("second Install: %v", err)
	}
}

func TestLinkedGoMLXVersion(t *testing.T) {
	v, err := linkedGoMLXVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v != SupportedGoMLX {
		t.Errorf("linked GoMLX %s, go.mod should require %s", v, SupportedGoMLX)
	}
}

func TestCheckVersion(t *testing.T) {
	if err := checkVersion(SupportedGoMLX); err != nil {
		t.Errorf("checkVersion(%s): %v", SupportedGoMLX, err)
	}
	if err := checkVersion("v0.25.0"); err == nil || !strings.Contains(err.Error(), "v0.25.0") {
		t.Errorf("checkVersion(v0.25.0) = %v, want a version mismatch", err)
	}
}

func TestSelfTestDetectsWrongResults(t *testing.T) {
	if err := checkNodeLayout(); err != nil {
		t.Fatal(err)
	}
	if _, err := selfTest(); err != nil {
		t.Fatalf("self-test on a sane build: %v", err)
	}
	// A broken kernel must make the self-test fail.
	broken := &microKernel{name: "broken", mr: 4, nr: 4, asm: nil}
	kernelOverride.Store(broken)
	defer kernelOverride.Store(nil)
	saved := kernelGoFn
	kernelGoFn = func(k int, a []float32, aOff, rsA, csA int, b []float32, bOff, ldb int, c []float32, cOff, ldc int, acc bool) {
		saved(k, a, aOff, rsA, csA, b, bOff, ldb, c, cOff, ldc, acc)
		c[cOff] += 1
	}
	defer func() { kernelGoFn = saved }()
	_, err := selfTest()
	if err == nil || !strings.Contains(err.Error(), "simplego's") {
		t.Errorf("self-test with a broken kernel: err = %v, want a mismatch", err)
	}
}
