//go:build race

package optim

import (
	"os"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// GoMLX v0.26's pure-Go backend has a data race of its own in its parallel
// executor: backends/simplego/exec.go reads its buffer use counters outside
// the lock when it decides to reuse a buffer in place. It looks benign (a
// stale counter only means "not the last use"), but it makes -race runs
// fail at random. Under -race, and unless the environment chooses a
// backend, the tests and examples here run on the sequential executor, so
// that the detector checks our code.
func init() {
	if os.Getenv(backend.EnvVar) == "" {
		_ = os.Setenv(backend.EnvVar, "go:ops_sequential")
	}
}
