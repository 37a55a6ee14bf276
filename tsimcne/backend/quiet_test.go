//go:build !noaccel

package backend

import (
	"io"
	"os"
	"testing"
)

// TestNewGoPrintsNothing: "parallelism=-1" (DefaultConfig) is set without
// simplego's line on os.Stdout, and without swapping os.Stdout for the
// process while the backend is made (the test swaps it only to watch).
func TestNewGoPrintsNothing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	b, err := NewWithConfig("go:parallelism=-1,ops_parallel")
	os.Stdout = saved
	_ = w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if len(out) > 0 {
		t.Errorf("creating the backend printed %q", out)
	}
	if _, err := NewWithConfig("go:parallelism=x"); err == nil {
		t.Error("go:parallelism=x accepted")
	}
}
