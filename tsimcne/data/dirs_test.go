package data

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDataDir(t *testing.T) {
	t.Setenv(EnvDataDir, "/some/where")
	if d, err := DataDir(); err != nil || d != "/some/where" {
		t.Errorf("DataDir() = %q, %v", d, err)
	}
	t.Setenv(EnvDataDir, "rel")
	wd, _ := os.Getwd()
	if d, err := DataDir(); err != nil || d != filepath.Join(wd, "rel") {
		t.Errorf("DataDir() = %q, %v; want absolute", d, err)
	}
	t.Setenv(EnvDataDir, "")
	if runtime.GOOS == "linux" {
		t.Setenv("XDG_CACHE_HOME", "/cache")
		if d, err := DataDir(); err != nil || d != "/cache/gosimcne" {
			t.Errorf("DataDir() = %q, %v; want /cache/gosimcne", d, err)
		}
	}
}
