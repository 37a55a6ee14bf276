package plots

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoGoMLX: drawing a map from a CSV must not link the training code.
// The package (tests aside) depends on no GoMLX package and on none of
// tsimcne's GoMLX-based packages: the history comes from tsimcne/history,
// images from tsimcne/data, neighbours from tsimcne/knn.
func TestNoGoMLX(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found (%v): cannot list the dependencies", err)
	}
	out, err := exec.Command(goCmd, "list", "-deps", "github.com/gosimcne/gosimcne/plots").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/gomlx/") || dep == "github.com/gosimcne/gosimcne/tsimcne" ||
			strings.HasPrefix(dep, "github.com/gosimcne/gosimcne/tsimcne/accel") {
			t.Errorf("plots depends on %s", dep)
		}
	}
}
