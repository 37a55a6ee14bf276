package datatest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

func TestEnvDataDirIsTheDataPackages(t *testing.T) {
	if envDataDir != data.EnvDataDir {
		t.Fatalf("envDataDir %q, data.EnvDataDir %q", envDataDir, data.EnvDataDir)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindTestData(t *testing.T) {
	wd, _ := os.Getwd()
	root := moduleRoot(wd)
	if root == "" || !strings.HasPrefix(wd, root) {
		t.Fatalf("module root of %s not found", wd)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}

	abs := t.TempDir()
	t.Setenv(envDataDir, abs)
	if d, ok := FindTestData(); !ok || d != abs {
		t.Errorf("absolute: %q %v", d, ok)
	}
	// Relative to the module root (CI: TSIMCNE_DATA=../shared/data), not to
	// the package folder where go test runs.
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(wd, rel)); err == nil {
		t.Skipf("%s exists relative to both %s and %s", rel, root, wd)
	}
	t.Setenv(envDataDir, rel)
	if d, ok := FindTestData(); !ok || d != abs {
		t.Errorf("relative to module root: %q %v, want %q", d, ok, abs)
	}
	t.Setenv(envDataDir, filepath.Join(abs, "missing"))
	if d, ok := FindTestData(); ok || d != filepath.Join(abs, "missing") {
		t.Errorf("missing: %q %v", d, ok)
	}
	// Unset: <module root>/../shared/data.
	os.Unsetenv(envDataDir)
	if d, _ := FindTestData(); d != filepath.Join(filepath.Dir(root), "shared", "data") {
		t.Errorf("default: %q", d)
	}
}

// fakeT records what NeedTestData does with a test.
type fakeT struct{ skipped, failed string }

func (f *fakeT) Helper()                        {}
func (f *fakeT) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeT) Fatalf(format string, a ...any) { f.failed = fmt.Sprintf(format, a...) }

func TestNeedTestData(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sub", "f"), nil)
	t.Setenv(envDataDir, dir)
	t.Setenv(EnvRequireData, "")
	var ft fakeT
	if got := NeedTestData(&ft, "sub"); got != filepath.Join(dir, "sub") || ft.skipped != "" || ft.failed != "" {
		t.Errorf("present: %q %+v", got, ft)
	}
	ft = fakeT{}
	NeedTestData(&ft, "nope")
	if !strings.Contains(ft.skipped, filepath.Join(dir, "nope")) || ft.failed != "" {
		t.Errorf("absent: %+v", ft)
	}
	t.Setenv(EnvRequireData, "1")
	ft = fakeT{}
	NeedTestData(&ft, "nope")
	if !strings.Contains(ft.failed, EnvRequireData) || ft.skipped != "" {
		t.Errorf("absent and required: %+v", ft)
	}
}
