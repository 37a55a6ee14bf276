package data

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvDataDir is the environment variable that overrides the data folder
// (see DataDir).
const EnvDataDir = "TSIMCNE_DATA"

// EnvRequireData is the environment variable that turns a missing test data
// folder from a skipped test into a failed one (set it to "1" in CI), see
// NeedTestData.
const EnvRequireData = "TSIMCNE_REQUIRE_DATA"

// DataDir returns the folder where data sets are kept and downloaded to:
//
//   - $TSIMCNE_DATA if that environment variable is set (a relative path is
//     made absolute against the current directory);
//   - otherwise gosimcne under the user's cache folder (os.UserCacheDir):
//     ~/.cache/gosimcne on Linux (or $XDG_CACHE_HOME/gosimcne),
//     ~/Library/Caches/gosimcne on macOS, %LocalAppData%\gosimcne on Windows.
//
// The layout below it is the one of the official archives, so files can be
// put there by hand:
//
//	<DataDir>/cifar-10-batches-bin/data_batch_1.bin ... test_batch.bin, batches.meta.txt
//	<DataDir>/cifar-100-binary/train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt
//	<DataDir>/fashion-mnist/train-images-idx3-ubyte.gz ... (also gunzipped)
//	<DataDir>/mnist/train-images-idx3-ubyte.gz ...
//
// The folder is not created; the downloaders (EnsureCIFAR10, EnsureCIFAR100)
// create it when they need it.
func DataDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("data: $%s=%q: %w", EnvDataDir, d, err)
		}
		return abs, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no data folder: set $%s or $HOME (%w)", EnvDataDir, err)
	}
	return filepath.Join(cache, "gosimcne"), nil
}

// resolveDir returns dir, or DataDir() when dir is empty.
func resolveDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DataDir()
}

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
	if d := os.Getenv(EnvDataDir); d != "" {
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

// TestingT is the part of testing.TB that NeedTestData uses (an interface, so
// that this package does not import testing).
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
//	dir := data.NeedTestData(t, "cifar-10-batches-bin")
func NeedTestData(t TestingT, parts ...string) string {
	t.Helper()
	root, ok := FindTestData()
	p := filepath.Join(append([]string{root}, parts...)...)
	if ok {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	MissingTestData(t, fmt.Sprintf("test data %q not found (set $%s to the data folder, by default <module root>/../shared/data)", p, EnvDataDir))
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
