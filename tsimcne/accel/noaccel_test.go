//go:build noaccel

package accel

import (
	"errors"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
)

// TestCompiledOut checks the API of a build with the noaccel tag: nothing
// is installed, and backends are left as they are.
func TestCompiledOut(t *testing.T) {
	err := Install()
	if !errors.Is(err, ErrCompiledOut) || !strings.Contains(err.Error(), BuildTag) {
		t.Errorf("Install() = %v, want ErrCompiledOut naming the %s tag", err, BuildTag)
	}
	if Installed() {
		t.Error("Installed() is true with the fast kernels compiled out")
	}
	be, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer be.Finalize()
	if got := WithFusedOps(be); got != be {
		t.Errorf("WithFusedOps returned %T, want the simplego backend itself", got)
	}
}
