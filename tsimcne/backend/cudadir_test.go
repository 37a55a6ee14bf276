package backend

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCUDADataDir checks which nvidia/ folder is given to XLA for each way
// of naming a plugin: go-xla's installed layout (plugin inside nvidia/), a
// plugin named by path with and without nvidia/ two levels up (JAX's wheels
// have none there), a plugin not installed yet, and non-CUDA plugins.
func TestCUDADataDir(t *testing.T) {
	home := t.TempDir()
	goxla := filepath.Join(home, ".local", "lib", "go-xla")
	installed := filepath.Join(goxla, "nvidia", "pjrt_c_api_cuda_plugin.so")
	jax := filepath.Join(t.TempDir(), "site-packages", "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so")
	touch(t, jax)
	custom := t.TempDir()
	touch(t, filepath.Join(custom, "plugins", "pjrt_c_api_cuda_plugin.so"))
	if err := os.MkdirAll(filepath.Join(custom, "nvidia"), 0o755); err != nil {
		t.Fatal(err)
	}

	// Nothing installed yet: "cuda" will be installed into go-xla/nvidia.
	if got, want := cudaDataDir("xla:cuda", "", home), filepath.Join(goxla, "nvidia"); got != want {
		t.Errorf("xla:cuda, not installed: %q, want %q", got, want)
	}
	touch(t, installed)
	for _, config := range []string{"xla:cuda", "xla", "xla:", "xla:cuda,shared_buffers", "xla:" + installed} {
		if got, want := cudaDataDir(config, "", home), filepath.Join(goxla, "nvidia"); got != want {
			t.Errorf("%s, installed: %q, want %q", config, got, want)
		}
	}
	cases := []struct{ config, paths, want string }{
		{"xla:" + jax, "", ""}, // no nvidia/ two levels up: go-xla sets nothing either
		{"xla:cuda", filepath.Join(custom, "plugins"), filepath.Join(custom, "nvidia")},
		{"xla:cuda", filepath.Join(custom, "none"), ""}, // named folders only, nothing found
		{"xla:cpu", "", ""},
		{"go", "", ""},
		{"go:parallelism=-1", "", ""},
		{"xlax:cuda", "", ""},
	}
	for _, c := range cases {
		if got := cudaDataDir(c.config, c.paths, home); got != c.want {
			t.Errorf("cudaDataDir(%q, %q): %q, want %q", c.config, c.paths, got, c.want)
		}
	}
}

// TestSetCUDADataDir checks that XLA_FLAGS gets the folder appended, and is
// left alone when it already names one.
func TestSetCUDADataDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", "")
	touch(t, filepath.Join(home, ".local", "lib", "go-xla", "nvidia", "pjrt_c_api_cuda_plugin.so"))
	t.Setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
	dir := setCUDADataDir("xla:cuda")
	want := "--xla_dump_to=/tmp/x " + cudaDataDirFlag + "=" + filepath.Join(home, ".local", "lib", "go-xla", "nvidia")
	if dir == "" || os.Getenv("XLA_FLAGS") != want {
		t.Errorf("XLA_FLAGS %q (set %q), want %q", os.Getenv("XLA_FLAGS"), dir, want)
	}
	t.Setenv("XLA_FLAGS", cudaDataDirFlag+"=/opt/cuda")
	if dir := setCUDADataDir("xla:cuda"); dir != "" || os.Getenv("XLA_FLAGS") != cudaDataDirFlag+"=/opt/cuda" {
		t.Errorf("a folder already named was changed: %q (set %q)", os.Getenv("XLA_FLAGS"), dir)
	}
	t.Setenv("XLA_FLAGS", "")
	if dir := setCUDADataDir("xla:cpu"); dir != "" || strings.Contains(os.Getenv("XLA_FLAGS"), cudaDataDirFlag) {
		t.Errorf("xla:cpu set %q", os.Getenv("XLA_FLAGS"))
	}
}
