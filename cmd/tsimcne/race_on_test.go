//go:build race

package main

import (
	"os"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// GoMLX v0.26's pure-Go backend has a data race of its own in its parallel
// executor (see tsimcne/loss/race_on_test.go). Under -race, and unless the
// environment chooses a backend, the tests here run on the sequential
// executor, so that the detector checks our code.
func init() {
	if os.Getenv(backend.EnvVar) == "" {
		_ = os.Setenv(backend.EnvVar, "go:ops_sequential")
	}
}
