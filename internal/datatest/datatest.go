// Package datatest finds the real data sets (CIFAR-10 and others) that the
// module's tests and benchmarks use, and skips or fails a test where they
// are missing. It is internal: test helpers are not part of the library's
// API.
package datatest

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvRequireData is the environment variable that turns missing test data
// from a skipped test into a failed one (set it to "1" in CI), see
// NeedTestData.
const EnvRequireData = "TSIMCNE_REQUIRE_DATA"

// envDataDir is data.EnvDataDir, the data folder's environment variable
// (spelled out so that the data package's own tests can import this
// package; a test checks that the two agree).
const envDataDir = "TSIMCNE_DATA"

// FindTestData returns the folder with the real data sets used by tests and
// benchmarks (e.g. <dir>/cifar-10-batches-bin/test_batch.bin), and whether it
// exists. It looks, in order, at:
//
//   - $TSIMCNE_DATA: an absolute path as is; a relative one against the
//     current directory and then against the module root (the nearest folder
//     above the current directory holding go.mod), since `go test` runs each
//     package in its own folder while CI sets the path relative to the
//     checkout (TSIMCNE_DATA=../shared/data);
//   - <module root>/../shared/data.
//
// When nothing is found it returns the first candidate and false.
func FindTestData() (string, bool) {
	var candidates []string
	wd, _ := os.Getwd()
	root := moduleRoot(wd)
	if d := os.Getenv(envDataDir); d != "" {
		if filepath.IsAbs(d) {
			candidates = append(candidates, d)
		} else {
			if wd != "" {
				candidates = append(candidates, filepath.Join(wd, d))
			}
			if root != "" {
				candidates = append(candidates, filepath.Join(root, d))
			}
		}
	} else if root != "" {
		candidates = append(candidates, filepath.Join(root, "..", "shared", "data"))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return filepath.Clean(c), true
		}
	}
	if len(candidates) == 0 {
		return "", false
	}
	return filepath.Clean(candidates[0]), false
}

// moduleRoot returns the nearest folder at or above dir that holds a go.mod,
// or "".
func moduleRoot(dir string) string {
	if dir == "" {
		return ""
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestingT is the part of testing.TB that NeedTestData and MissingTestData
// use (an interface, so that their own test can watch what they do).
type TestingT interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// NeedTestData returns filepath.Join(FindTestData(), parts...) for use in
// tests and benchmarks. If that path does not exist the test is skipped with
// a message saying where the data was looked for, or fails instead when
// $TSIMCNE_REQUIRE_DATA is "1" (as in CI, where missing data is a defect).
//
//	dir := datatest.NeedTestData(t, data.CIFAR10Folder)
func NeedTestData(t TestingT, parts ...string) string {
	t.Helper()
	root, ok := FindTestData()
	p := filepath.Join(append([]string{root}, parts...)...)
	if ok {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	MissingTestData(t, fmt.Sprintf("test data %q not found (set $%s to the data folder, by default <module root>/../shared/data)", p, envDataDir))
	return ""
}

// MissingTestData skips the test with msg, or fails it when
// $TSIMCNE_REQUIRE_DATA is "1". Use it for data found elsewhere than
// FindTestData by NeedTestData, such as the Debian Fashion-MNIST package.
func MissingTestData(t TestingT, msg string) {
	t.Helper()
	if os.Getenv(EnvRequireData) == "1" {
		t.Fatalf("%s; $%s=1 requires it", msg, EnvRequireData)
		return
	}
	t.Skipf("%s; skipping (set $%s=1 to fail instead)", msg, EnvRequireData)
}
